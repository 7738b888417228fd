import { tokenSerialKey } from '../../../shared/contract/clusters';
import { describeMember } from '../member-tokens';
import type { ClusterCheck } from './check-definition';

/** One token listed twice is one HSM, not two: serials compare without regard to case. */
export const clusterDistinctMembers: ClusterCheck = {
  id: 'cluster.distinct-members',
  title: 'Each HSM is a different token',
  scope: 'cluster',
  run({ cluster }) {
    const serials = cluster.Hsms.map((m) => m.TokenSerial).filter((s): s is string => s !== null);
    const keys = serials.map(tokenSerialKey);
    const duplicated = serials.filter((_, i) => keys.indexOf(keys[i] ?? '') !== i);
    if (duplicated.length === 0) return { status: 'pass', evidence: [`${cluster.Hsms.length} member(s): ${cluster.Hsms.map(describeMember).join(', ')}`] };
    return {
      status: 'fail',
      evidence: [`Serial(s) listed more than once: ${[...new Set(duplicated)].join(', ')}`],
      remedy: 'Remove the duplicate member: one token counted twice is one HSM, not two.',
    };
  },
};
