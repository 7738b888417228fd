/** A token flag in plain words (GUI badge, CLI column); the tone says whether it helps or blocks kmsuser. */
export interface FlagBadge {
  text: string;
  tone: 'ok' | 'warn' | 'bad' | 'neutral';
  /** The CKF_ name, for admins who know the spec. */
  flag: string;
}

const BADGES: Readonly<Record<string, Omit<FlagBadge, 'flag'>>> = {
  CKF_TOKEN_INITIALIZED: { text: 'initialized', tone: 'ok' },
  CKF_USER_PIN_INITIALIZED: { text: 'user PIN set', tone: 'ok' },
  CKF_LOGIN_REQUIRED: { text: 'login required', tone: 'neutral' },
  CKF_WRITE_PROTECTED: { text: 'write-protected', tone: 'warn' },
  CKF_PROTECTED_AUTHENTICATION_PATH: { text: 'PIN pad', tone: 'neutral' },
  CKF_USER_PIN_COUNT_LOW: { text: 'PIN count low', tone: 'warn' },
  CKF_USER_PIN_FINAL_TRY: { text: 'final PIN try', tone: 'bad' },
  CKF_USER_PIN_LOCKED: { text: 'user PIN locked', tone: 'bad' },
  CKF_USER_PIN_TO_BE_CHANGED: { text: 'user PIN must change', tone: 'warn' },
  CKF_SO_PIN_COUNT_LOW: { text: 'SO PIN count low', tone: 'warn' },
  CKF_SO_PIN_FINAL_TRY: { text: 'SO final PIN try', tone: 'bad' },
  CKF_SO_PIN_LOCKED: { text: 'SO PIN locked', tone: 'bad' },
  CKF_SO_PIN_TO_BE_CHANGED: { text: 'SO PIN must change', tone: 'warn' },
};

/** Capability flags that say nothing about whether the token can serve as an HSM member. */
const QUIET = new Set(['CKF_RNG', 'CKF_CLOCK_ON_TOKEN', 'CKF_RESTORE_KEY_NOT_NEEDED', 'CKF_DUAL_CRYPTO_OPERATIONS', 'CKF_SECONDARY_AUTHENTICATION']);

export function tokenFlagBadges(flags: readonly string[]): FlagBadge[] {
  const set = new Set(flags);
  const badges: FlagBadge[] = [];
  // An uninitialised token's PIN flags are leftovers (SoftHSM reports its free slot's SO PIN as locked): say only what matters.
  if (!set.has('CKF_TOKEN_INITIALIZED')) return [{ text: 'not initialized', tone: 'bad', flag: 'CKF_TOKEN_INITIALIZED (not set)' }];
  if (!set.has('CKF_USER_PIN_INITIALIZED')) badges.push({ text: 'no user PIN', tone: 'warn', flag: 'CKF_USER_PIN_INITIALIZED (not set)' });
  for (const flag of flags) {
    if (QUIET.has(flag)) continue;
    const known = BADGES[flag];
    badges.push(known ? { ...known, flag } : { text: flag.replace(/^CKF_/, '').toLowerCase().replaceAll('_', ' '), tone: 'neutral', flag });
  }
  // Most telling first: initialisation and kmsuser, then problems, then neutral facts.
  const rank = (b: FlagBadge): number => (b.flag.startsWith('CKF_TOKEN_INITIALIZED') ? 0 : b.flag.startsWith('CKF_USER_PIN_INITIALIZED') ? 1 : b.tone === 'bad' ? 2 : b.tone === 'warn' ? 3 : b.tone === 'ok' ? 4 : 5);
  return badges.sort((a, b) => rank(a) - rank(b));
}
