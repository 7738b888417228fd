import type { MechanismInfo } from '../../../shared/contract/hsm';
import { errorEvidence, failureVerdict, isUnreachable } from '../check-result';
import { memberToken, skippedBecause, stoppedAnswering, type CheckOutcome, type MemberCheck } from './check-definition';

/** The model needs: AES-256 generation, AES-GCM, RSA-OAEP wrap/unwrap (cluster sync), RSA key pairs (member keys). */
const REQUIRED_MECHANISMS: ReadonlyArray<{ mechanism: string; flags: string[]; keySize?: { value: number; unit: string; alt?: number }; why: string }> = [
  { mechanism: 'CKM_AES_KEY_GEN', flags: ['CKF_GENERATE'], keySize: { value: 32, unit: 'bytes', alt: 256 }, why: 'AES-256 CMK key material' },
  { mechanism: 'CKM_AES_GCM', flags: ['CKF_ENCRYPT', 'CKF_DECRYPT'], why: 'encrypt/decrypt with CMKs and check values' },
  { mechanism: 'CKM_RSA_PKCS_OAEP', flags: ['CKF_WRAP', 'CKF_UNWRAP'], why: 'copying key material between HSMs' },
  { mechanism: 'CKM_RSA_PKCS_KEY_PAIR_GEN', flags: ['CKF_GENERATE_KEY_PAIR'], keySize: { value: 3072, unit: 'bits' }, why: 'RSA-3072 member key pairs' },
];

/**
 * Missing mechanisms fail the check but leave the HSM active: a key store can still connect to it
 * (p11-kit 0.24's client, for one, does not forward CKM_AES_GCM).
 */
export const hsmMechanisms: MemberCheck = {
  id: 'hsm.mechanisms',
  title: 'Mechanisms for CMK key material are supported',
  scope: 'member',
  async run(ctx) {
    const { slot } = memberToken(ctx);
    try {
      return mechanismsVerdict(await ctx.host.getMechanisms(slot.SlotId, ctx.timeout));
    } catch (error) {
      if (isUnreachable(error)) return stoppedAnswering(error);
      return {
        status: 'fail',
        evidence: [errorEvidence(error)],
        ...failureVerdict(error, { predicted: 'INTERNAL_ERROR', remedy: 'The HSM refused a basic query. Check the vendor\'s logs.' }),
        skipRest: skippedBecause('an earlier check of this HSM failed'),
      };
    }
  },
};

function mechanismsVerdict(mechanisms: readonly MechanismInfo[]): CheckOutcome {
  const byName = new Map(mechanisms.map((m) => [m.Mechanism, m]));
  const evidence: string[] = [];
  const missing: string[] = [];
  for (const need of REQUIRED_MECHANISMS) {
    const m = byName.get(need.mechanism);
    if (!m) {
      missing.push(`${need.mechanism} (${need.why})`);
      evidence.push(`${need.mechanism}: not supported`);
      continue;
    }
    const range = `key size ${m.MinKeySize}–${m.MaxKeySize}`;
    const lacking = need.flags.filter((f) => !m.Flags.includes(f));
    const sizeOk = !need.keySize || [need.keySize.value, need.keySize.alt].some((v) => v !== undefined && v >= m.MinKeySize && v <= m.MaxKeySize);
    evidence.push(`${need.mechanism}: ${range}; ${need.flags.join(', ')}${lacking.length ? ` (missing ${lacking.join(', ')})` : ''}`);
    if (lacking.length) missing.push(`${need.mechanism} without ${lacking.join(', ')}`);
    if (!sizeOk && need.keySize) missing.push(`${need.mechanism} at ${need.keySize.value} ${need.keySize.unit} (supports ${range})`);
  }
  if (missing.length === 0) return { status: 'pass', evidence };
  return {
    status: 'fail',
    evidence: [...evidence, `Missing: ${missing.join('; ')}`],
    remedy: 'This HSM cannot hold CMK key material as the model requires. Use an HSM (or firmware, or module) that supports the listed mechanisms, or remove it from the cluster.',
  };
}
