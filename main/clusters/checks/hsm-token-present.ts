import { describeMember, findMemberSlot } from '../member-tokens';
import { skippedBecause, type MemberCheck } from './check-definition';

/**
 * The first member check: finds the member's token among the module's slots and hands it to the checks after
 * it. Without a present, initialised token the member's other checks are skipped.
 */
export const hsmTokenPresent: MemberCheck = {
  id: 'hsm.token-present',
  title: 'HSM token is present and initialised',
  scope: 'member',
  run({ member, slots }) {
    const found = findMemberSlot(slots, member);
    const slot = found === 'ambiguous' ? undefined : found;
    const token = slot?.Token ?? null;
    if (!slot || !token) {
      return {
        status: 'fail',
        evidence: [
          found === 'ambiguous' ? `More than one token has ${describeMember(member)}.` : `No token with ${describeMember(member)} among the ${slots.length} slot(s) of the module.`,
        ],
        remedy:
          'This HSM is not active. Reconnect or restore the token (for SoftHSM: its directory under the configured tokendir), check the module environment points at the right configuration, or remove the HSM from the cluster.',
        skipRest: skippedBecause('the token is not present'),
      };
    }
    const flags = new Set(token.Flags);
    if (!flags.has('CKF_TOKEN_INITIALIZED')) {
      return {
        status: 'fail',
        evidence: [`Slot ${slot.SlotId} holds a token without CKF_TOKEN_INITIALIZED.`],
        remedy: 'Initialise the token (C_InitToken, e.g. `softhsm2-util --init-token` or the vendor\'s tool), then set up kmsuser on it.',
        skipRest: skippedBecause('the token is not initialised'),
      };
    }
    return {
      status: 'pass',
      evidence: [`Slot ${slot.SlotId}: "${token.Label}" serial ${token.SerialNumber}, ${token.ManufacturerId} ${token.Model}, firmware ${token.FirmwareVersion}`],
      token: { slot, token, flags },
    };
  },
};
