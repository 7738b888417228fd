import { tokenSerialKey, type ClusterInfo, type HsmMember } from '../../shared/contract/clusters';
import type { SlotInfo } from '../../shared/contract/hsm';

/**
 * Finds the slot holding a cluster member's token: by serial when known (serials are unique per
 * module), else by label. Slot ids are not identities: they change between module loads.
 * A serial matches without regard to case; only when two tokens differ in nothing but case does
 * the exact spelling decide, and without one the choice is 'ambiguous'.
 */
export function findMemberSlot(slots: readonly SlotInfo[], member: { TokenSerial: string | null; TokenLabel: string | null }): SlotInfo | 'ambiguous' | undefined {
  const serial = member.TokenSerial;
  if (serial !== null) {
    const bySerial = slots.filter((s) => s.Token !== null && tokenSerialKey(s.Token.SerialNumber) === tokenSerialKey(serial));
    if (bySerial.length <= 1) return bySerial[0];
    return bySerial.find((s) => s.Token?.SerialNumber === serial) ?? 'ambiguous';
  }
  const byLabel = slots.filter((s) => s.Token !== null && s.Token.Label === member.TokenLabel);
  return byLabel.length > 1 ? 'ambiguous' : byLabel[0];
}

/** What telling members apart needs of a cluster: the API's ClusterInfo and the state's record both have it. */
export type ClusterMembers = Pick<ClusterInfo, 'ClusterId' | 'ClusterName'> & { Hsms: readonly HsmMember[] };

export interface SharedMember<C extends ClusterMembers = ClusterMembers> {
  member: HsmMember;
  /** The other clusters that have the same token (by serial) among their HSMs. */
  others: C[];
}

/**
 * Members that are also HSMs of another cluster. A token belongs to one cluster: two key stores
 * rotating one kmsuser password would lock each other out. The token is known by its serial alone,
 * whatever module reaches it (p11-kit's client shows the serials of the tokens it fronts).
 */
export function membersInOtherClusters<C extends ClusterMembers>(clusterId: string | null, members: readonly HsmMember[], clusters: readonly C[]): SharedMember<C>[] {
  const shared: SharedMember<C>[] = [];
  for (const member of members) {
    // An empty serial (an uninitialised token's) names no token.
    if (member.TokenSerial === null || member.TokenSerial === '') continue;
    const key = tokenSerialKey(member.TokenSerial);
    const others = clusters.filter((c) => c.ClusterId !== clusterId && c.Hsms.some((h) => h.TokenSerial !== null && tokenSerialKey(h.TokenSerial) === key));
    if (others.length > 0) shared.push({ member, others });
  }
  return shared;
}

/** How reports name a member's token: by serial (and label) when the serial is known, else by label. */
export function describeMember(member: HsmMember): string {
  return member.TokenSerial !== null ? `serial ${member.TokenSerial}${member.TokenLabel ? ` ("${member.TokenLabel}")` : ''}` : `label "${member.TokenLabel ?? ''}"`;
}
