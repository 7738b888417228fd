import { NETWORK_REMEDY, NO_SLOTS, errorEvidence, failureVerdict } from '../check-result';
import type { ModuleCheck } from './check-definition';

/** The module lists its slots; the member checks look for their tokens among them. */
export const moduleSlots: ModuleCheck = {
  id: 'module.slots',
  title: 'Slots and tokens can be listed',
  scope: 'module',
  async run({ host, timeout }) {
    try {
      const slots = await host.listSlots(timeout);
      if (slots.length === 0) return { status: 'fail', evidence: [NO_SLOTS.evidence], predicted: 'NETWORK_ERRORS', remedy: `${NETWORK_REMEDY} ${NO_SLOTS.cause}` };
      const tokens = slots.filter((s) => s.Token !== null);
      // SoftHSM always offers one empty slot for the next token: list only what can be a member.
      const initialised = tokens.filter((s) => s.Token?.Flags.includes('CKF_TOKEN_INITIALIZED'));
      return {
        status: 'pass',
        evidence: [
          `${slots.length} slot(s), ${tokens.length} with a token present, ${initialised.length} of them initialised`,
          ...initialised.map((s) => `Slot ${s.SlotId}: "${s.Token?.Label ?? ''}" serial ${s.Token?.SerialNumber ?? ''}`),
        ],
        slots,
      };
    } catch (error) {
      return {
        status: 'fail',
        evidence: [errorEvidence(error)],
        ...failureVerdict(error, { predicted: 'CLUSTER_NOT_FOUND', remedy: 'The module loaded but could not list its slots. Check the module environment and the vendor\'s client configuration.' }),
      };
    }
  },
};
