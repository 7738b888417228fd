import pkcs11js from 'pkcs11js';

/**
 * CKF_ bits → names, per structure: the same bit means different things in slot, token, mechanism
 * and session flags, so each has its own list (the names are the spec's, the values pkcs11js's).
 */
const SLOT_FLAGS = ['CKF_TOKEN_PRESENT', 'CKF_REMOVABLE_DEVICE', 'CKF_HW_SLOT'] as const;

const TOKEN_FLAGS = [
  'CKF_RNG',
  'CKF_WRITE_PROTECTED',
  'CKF_LOGIN_REQUIRED',
  'CKF_USER_PIN_INITIALIZED',
  'CKF_RESTORE_KEY_NOT_NEEDED',
  'CKF_CLOCK_ON_TOKEN',
  'CKF_PROTECTED_AUTHENTICATION_PATH',
  'CKF_DUAL_CRYPTO_OPERATIONS',
  'CKF_TOKEN_INITIALIZED',
  'CKF_SECONDARY_AUTHENTICATION',
  'CKF_USER_PIN_COUNT_LOW',
  'CKF_USER_PIN_FINAL_TRY',
  'CKF_USER_PIN_LOCKED',
  'CKF_USER_PIN_TO_BE_CHANGED',
  'CKF_SO_PIN_COUNT_LOW',
  'CKF_SO_PIN_FINAL_TRY',
  'CKF_SO_PIN_LOCKED',
  'CKF_SO_PIN_TO_BE_CHANGED',
  'CKF_ERROR_STATE',
] as const;

const MECHANISM_FLAGS = [
  'CKF_HW',
  'CKF_ENCRYPT',
  'CKF_DECRYPT',
  'CKF_DIGEST',
  'CKF_SIGN',
  'CKF_SIGN_RECOVER',
  'CKF_VERIFY',
  'CKF_VERIFY_RECOVER',
  'CKF_GENERATE',
  'CKF_GENERATE_KEY_PAIR',
  'CKF_WRAP',
  'CKF_UNWRAP',
  'CKF_DERIVE',
  'CKF_EC_F_P',
  'CKF_EC_F_2M',
  'CKF_EC_ECPARAMETERS',
  'CKF_EC_NAMEDCURVE',
  'CKF_EC_UNCOMPRESS',
  'CKF_EC_COMPRESS',
  'CKF_EXTENSION',
] as const;

const SESSION_FLAGS = ['CKF_RW_SESSION', 'CKF_SERIAL_SESSION'] as const;

type FlagTable = ReadonlyArray<readonly [string, number]>;

function table(names: readonly string[]): FlagTable {
  const constants = pkcs11js as unknown as Record<string, unknown>;
  return names.map((name) => {
    const value = constants[name];
    if (typeof value !== 'number') throw new Error(`pkcs11js does not export ${name}`);
    return [name, value] as const;
  });
}

const TABLES = {
  slot: table(SLOT_FLAGS),
  token: table(TOKEN_FLAGS),
  mechanism: table(MECHANISM_FLAGS),
  session: table(SESSION_FLAGS),
};

/** Names of the set bits; bits the spec does not name are kept as hex so nothing is hidden. */
function names(flags: number, flagTable: FlagTable): string[] {
  const set: string[] = [];
  let rest = BigInt(flags);
  for (const [name, bit] of flagTable) {
    if ((rest & BigInt(bit)) !== 0n) {
      set.push(name);
      rest &= ~BigInt(bit);
    }
  }
  if (rest !== 0n) set.push(`0x${rest.toString(16)}`);
  return set;
}

export function slotFlagNames(flags: number): string[] {
  return names(flags, TABLES.slot);
}

export function tokenFlagNames(flags: number): string[] {
  return names(flags, TABLES.token);
}

export function mechanismFlagNames(flags: number): string[] {
  return names(flags, TABLES.mechanism);
}

export function sessionFlagNames(flags: number): string[] {
  return names(flags, TABLES.session);
}

/** CK_STATE values (pkcs11js exports no CKS_ constants, so the spec's table is written out once, here). */
const SESSION_STATES = ['CKS_RO_PUBLIC_SESSION', 'CKS_RO_USER_FUNCTIONS', 'CKS_RW_PUBLIC_SESSION', 'CKS_RW_USER_FUNCTIONS', 'CKS_RW_SO_FUNCTIONS'] as const;

export function sessionStateName(state: number): string {
  return SESSION_STATES[state] ?? `CKS_0x${state.toString(16)}`;
}

/** The value of a CKF_ constant by name, e.g. for C_OpenSession and C_Initialize flags. */
export function ckf(name: (typeof SESSION_FLAGS)[number] | 'CKF_OS_LOCKING_OK'): number {
  return pkcs11js[name];
}
