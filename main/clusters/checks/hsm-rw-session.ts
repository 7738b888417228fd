import type { TokenInfo } from '../../../shared/contract/hsm';
import { errorEvidence, failureVerdict, isUnreachable } from '../check-result';
import { memberToken, stoppedAnswering, type MemberCheck } from './check-definition';

/** Key material is created in read-write sessions: open one and close it again. */
export const hsmRwSession: MemberCheck = {
  id: 'hsm.rw-session',
  title: 'A read-write session can be opened',
  scope: 'member',
  async run(ctx) {
    const { slot, token } = memberToken(ctx);
    try {
      const session = await ctx.host.openSession(slot.SlotId, { readWrite: true }, ctx.timeout);
      await ctx.host.closeSession(session, ctx.timeout);
      return { status: 'pass', evidence: [sessionEvidence(token)] };
    } catch (error) {
      if (isUnreachable(error)) return stoppedAnswering(error);
      return {
        status: 'fail',
        evidence: [sessionEvidence(token), errorEvidence(error)],
        ...failureVerdict(error, {
          predicted: 'INTERNAL_ERROR',
          remedy: 'Key material is created in read-write sessions. Close other applications holding sessions on this token, or check that the token is not write-protected.',
        }),
        inactive: true,
      };
    }
  },
};

/** PKCS#11 counts: null = CK_UNAVAILABLE_INFORMATION (not reported); a maximum of 0 = CK_EFFECTIVELY_INFINITE. */
function sessionEvidence(token: TokenInfo): string {
  const open = (n: number | null): string => (n === null ? 'not reported' : String(n));
  const limit = (n: number | null): string => (n === null ? 'not reported' : n === 0 ? 'no limit' : String(n));
  return `Read-write sessions open: ${open(token.RwSessionCount)} (limit: ${limit(token.MaxRwSessionCount)}); all sessions open: ${open(token.SessionCount)} (limit: ${limit(token.MaxSessionCount)})`;
}
