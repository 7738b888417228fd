import type { CheckDefinition } from './check-definition';
import { clusterActiveHsms } from './cluster-active-hsms';
import { clusterDistinctMembers } from './cluster-distinct-members';
import { clusterExclusiveMembers } from './cluster-exclusive-members';
import { clusterKeyStoreAssociation } from './cluster-key-store-association';
import { clusterMemberTrust } from './cluster-member-trust';
import { hsmKmsuserInitialized } from './hsm-kmsuser-initialized';
import { hsmKmsuserLogin } from './hsm-kmsuser-login';
import { hsmMechanisms } from './hsm-mechanisms';
import { hsmPinFlags } from './hsm-pin-flags';
import { hsmRwSession } from './hsm-rw-session';
import { hsmTokenPresent } from './hsm-token-present';
import { moduleLoads } from './module-loads';
import { moduleSlots } from './module-slots';

/**
 * Every cluster check, in report order within its scope (the runner runs the module's, then each member's,
 * then the cluster's). A new check is one file and one line here. hsm.token-present stays the first member
 * check: it finds the token the others look at.
 */
export const CLUSTER_CHECKS: readonly CheckDefinition[] = [
  moduleLoads,
  moduleSlots,
  hsmTokenPresent,
  hsmKmsuserInitialized,
  hsmPinFlags,
  hsmMechanisms,
  hsmRwSession,
  hsmKmsuserLogin,
  clusterMemberTrust,
  clusterDistinctMembers,
  clusterExclusiveMembers,
  clusterActiveHsms,
  clusterKeyStoreAssociation,
];
