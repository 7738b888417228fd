import type { SlotInfo } from '../../shared/contract/hsm';

/**
 * Finds the slot holding a cluster member's token: by serial when known (serials are unique per
 * module), else by label. Slot ids are not identities: they change between module loads.
 */
export function findMemberSlot(slots: readonly SlotInfo[], member: { TokenSerial: string | null; TokenLabel: string | null }): SlotInfo | 'ambiguous' | undefined {
  if (member.TokenSerial !== null) return slots.find((s) => s.Token?.SerialNumber === member.TokenSerial);
  const byLabel = slots.filter((s) => s.Token !== null && s.Token.Label === member.TokenLabel);
  return byLabel.length > 1 ? 'ambiguous' : byLabel[0];
}
