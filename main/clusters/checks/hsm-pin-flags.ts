import type { ConnectionErrorCode } from '../../../shared/contract/checks';
import { memberToken, type CheckOutcome, type MemberCheck } from './check-definition';

/** What each PIN flag means for kmsuser, most serious first: the first flag set decides the verdict. */
const PIN_FLAG_VERDICTS: ReadonlyArray<{ flag: string; status: 'fail' | 'warn'; predicted: ConnectionErrorCode | null; remedy: string }> = [
  {
    flag: 'CKF_USER_PIN_LOCKED',
    status: 'fail',
    predicted: 'USER_LOCKED_OUT',
    remedy: "kmsuser is locked out after too many failed logins. The token's security officer must reset the user PIN (C_InitPIN), then tell the key store the new password.",
  },
  {
    flag: 'CKF_USER_PIN_FINAL_TRY',
    status: 'warn',
    predicted: 'USER_LOCKED_OUT',
    remedy: 'One more wrong kmsuser password locks kmsuser out. Make sure the password is right before the next login.',
  },
  {
    flag: 'CKF_USER_PIN_TO_BE_CHANGED',
    status: 'warn',
    predicted: 'INVALID_CREDENTIALS',
    remedy: 'The token requires the kmsuser PIN to be changed before use. Log in as kmsuser once and change the PIN (C_SetPIN), then tell the key store the new password.',
  },
  {
    flag: 'CKF_USER_PIN_COUNT_LOW',
    status: 'warn',
    predicted: null,
    remedy: 'A wrong kmsuser password was entered since the last successful login. Check the password before connecting: kmsuser locks after repeated failures.',
  },
  ...['CKF_SO_PIN_LOCKED', 'CKF_SO_PIN_FINAL_TRY'].map((flag) => ({
    flag,
    status: 'warn' as const,
    predicted: null,
    remedy: "The security officer PIN is locked or nearly so: kmsuser setup and adding HSMs need the SO. Recover SO access with the vendor's procedure.",
  })),
];

/** The verdict on a token's PIN flags: pure, so the flags SoftHSM never sets can be tested too. */
export function pinFlagsVerdict(flags: ReadonlySet<string>): CheckOutcome {
  const seen = PIN_FLAG_VERDICTS.map((v) => v.flag).filter((f) => flags.has(f));
  const evidence = [seen.length ? `Flags set: ${seen.join(', ')}` : 'No PIN warning flags are set (not locked, count not low, no final try, no change required).'];
  const verdict = PIN_FLAG_VERDICTS.find((v) => flags.has(v.flag));
  if (!verdict) return { status: 'pass', evidence };
  return { status: verdict.status, evidence, predicted: verdict.predicted, remedy: verdict.remedy };
}

export const hsmPinFlags: MemberCheck = {
  id: 'hsm.pin-flags',
  title: 'PIN state allows kmsuser to log in',
  scope: 'member',
  run(ctx) {
    const verdict = pinFlagsVerdict(memberToken(ctx).flags);
    return { ...verdict, inactive: verdict.status === 'fail' };
  },
};
