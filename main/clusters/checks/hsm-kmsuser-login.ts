import { WorkbenchError } from '../../../shared/errors';
import { kmsuserPin } from '../../kmsuser/kmsuser-pin';
import { errorEvidence, failureVerdict, isUnreachable } from '../check-result';
import { memberToken, stoppedAnswering, type CheckOutcome, type MemberCheck } from './check-definition';

/**
 * The optional login test, run only with a kmsuser password: one C_Login as CKU_USER, then C_Logout.
 * A refused password marks the run, so no other HSM spends a login try on it.
 */
export const hsmKmsuserLogin: MemberCheck = {
  id: 'hsm.kmsuser-login',
  title: 'kmsuser can log in',
  scope: 'member',
  async run(ctx) {
    const { slot, flags } = memberToken(ctx);
    const password = ctx.kmsuserPassword;
    if (password === undefined) return { status: 'skipped', evidence: ['No kmsuser password was given, so no login was attempted.'] };
    const blocker = loginAttemptBlocker(flags, ctx.passwordRefusedBy);
    // Not asked because another HSM refused the password: the password is wrong, so this HSM cannot count as active.
    if (blocker !== undefined) return { status: 'skipped', evidence: [blocker], inactive: ctx.passwordRefusedBy !== null };

    // Secret: the PIN is built here and handed straight to the HSM host; it is never kept or echoed.
    const pin = kmsuserPin(ctx.cluster.LoginFormat, password);
    let session: string | undefined;
    let loggedIn = false;
    try {
      session = await ctx.host.openSession(slot.SlotId, {}, ctx.timeout);
      await ctx.host.login(session, 'USER', pin, ctx.timeout);
      loggedIn = true;
      await ctx.host.logout(session, ctx.timeout);
      return { status: 'pass', evidence: ['kmsuser logged in with the given password and logged out again.'], kmsuserLogin: { accepted: true } };
    } catch (error) {
      // A login the token answered goes into the ledger even when what followed failed.
      const kmsuserLogin = loggedIn ? { accepted: true } : refusedLogin(error) ? { accepted: false } : undefined;
      if (isUnreachable(error)) return { ...stoppedAnswering(error), kmsuserLogin };
      const failure = loginFailure(error);
      return { ...failure, inactive: failure.status === 'fail', refusedPassword: failure.predicted === 'INVALID_CREDENTIALS', kmsuserLogin };
    } finally {
      if (session !== undefined) await ctx.host.closeSession(session, ctx.timeout).catch(() => undefined);
    }
  },
};

/**
 * Why a login test must not be attempted on this HSM, if it must not. A test login is not free: each
 * wrong password spends one of kmsuser's tries, so the checks never spend the last one, and once one
 * HSM has refused the password they do not spend a try on every other HSM with the same password.
 */
export function loginAttemptBlocker(tokenFlags: ReadonlySet<string>, refusedBy: string | null): string | undefined {
  if (!tokenFlags.has('CKF_USER_PIN_INITIALIZED')) return 'The token has no kmsuser PIN to log in with.';
  if (tokenFlags.has('CKF_USER_PIN_LOCKED')) return 'Not attempted: kmsuser is locked out on this HSM (CKF_USER_PIN_LOCKED).';
  if (tokenFlags.has('CKF_USER_PIN_FINAL_TRY')) return 'Not attempted: one more wrong password would lock kmsuser out of this HSM (CKF_USER_PIN_FINAL_TRY).';
  if (refusedBy !== null) return `Not attempted: ${refusedBy} refused this password, so trying it here would only spend one of this HSM's login tries.`;
  return undefined;
}

/** The token refused the kmsuser login itself (the ledger counts these: each spends a try, or was refused for lockout). */
function refusedLogin(error: unknown): boolean {
  const code = error instanceof WorkbenchError ? error.code : undefined;
  return code === 'CKR_PIN_INCORRECT' || code === 'CKR_PIN_LEN_RANGE' || code === 'CKR_PIN_LOCKED';
}

function loginFailure(error: unknown): CheckOutcome {
  const code = error instanceof WorkbenchError ? error.code : undefined;
  const evidence = [errorEvidence(error)];
  switch (code) {
    case 'CKR_PIN_INCORRECT':
    case 'CKR_PIN_LEN_RANGE': {
      const tokenFlags = error instanceof WorkbenchError && Array.isArray(error.details?.tokenFlags) ? (error.details.tokenFlags as string[]) : [];
      evidence.push(triesRemaining(tokenFlags));
      return {
        status: 'fail',
        evidence,
        predicted: 'INVALID_CREDENTIALS',
        remedy: 'The kmsuser password is wrong for this HSM. Use the password set for kmsuser on every HSM of the cluster. Each wrong attempt spends one login try.',
      };
    }
    case 'CKR_PIN_LOCKED':
      return { status: 'fail', evidence, predicted: 'USER_LOCKED_OUT', remedy: 'kmsuser is locked out. The token\'s security officer must reset the user PIN (C_InitPIN).' };
    case 'CKR_USER_PIN_NOT_INITIALIZED':
      return { status: 'fail', evidence, predicted: 'USER_NOT_FOUND', remedy: 'The token has no kmsuser PIN. Create kmsuser with the SO (C_InitPIN).' };
    case 'CKR_USER_ALREADY_LOGGED_IN':
      return {
        status: 'warn',
        evidence,
        predicted: 'USER_LOGGED_IN',
        remedy: 'kmsuser is already logged in by this workbench (a connected key store). Disconnect the key store before testing the login.',
      };
    default:
      return {
        status: 'fail',
        evidence,
        ...failureVerdict(error, { predicted: 'INTERNAL_ERROR', remedy: 'The login failed for a reason other than the password. Check the vendor\'s logs.' }),
      };
  }
}

/** PKCS#11 has no retry counter, only flags; say what they imply. AWS-style HSMs lock kmsuser after 5 failures. */
function triesRemaining(tokenFlags: readonly string[]): string {
  if (tokenFlags.includes('CKF_USER_PIN_LOCKED')) return 'The token now reports kmsuser as locked out (CKF_USER_PIN_LOCKED).';
  if (tokenFlags.includes('CKF_USER_PIN_FINAL_TRY')) return 'The token reports one try remains before kmsuser is locked out (CKF_USER_PIN_FINAL_TRY).';
  if (tokenFlags.includes('CKF_USER_PIN_COUNT_LOW')) return 'The token reports a wrong kmsuser PIN since the last successful login (CKF_USER_PIN_COUNT_LOW) but not how many tries remain.';
  return 'The token does not report how many tries remain.';
}
