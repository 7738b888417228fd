import { describeMember, membersInOtherClusters } from '../member-tokens';
import type { ClusterCheck } from './check-definition';

/** For state from before CreateCluster refused shared tokens, or edited by hand. */
export const clusterExclusiveMembers: ClusterCheck = {
  id: 'cluster.exclusive-members',
  title: 'No HSM is also a member of another cluster',
  scope: 'cluster',
  run({ cluster, clusters }) {
    const shared = membersInOtherClusters(cluster.ClusterId, cluster.Hsms, clusters);
    if (shared.length === 0) return { status: 'pass', evidence: ['No member token is an HSM of another cluster.'] };
    return {
      status: 'fail',
      evidence: shared.map(({ member, others }) => `${member.HsmId} (${describeMember(member)}) is also an HSM of ${others.map((c) => `"${c.ClusterName}" (${c.ClusterId})`).join(', ')}`),
      remedy:
        'A token belongs to one cluster: two key stores rotating one kmsuser password would lock each other out. Delete the cluster that should not have this token (one used by a key store cannot be deleted: keep that one), then re-run the checks.',
    };
  },
};
