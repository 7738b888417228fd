import type { ClusterCheck } from './check-definition';

/** A cluster belongs to at most one custom key store. */
export const clusterKeyStoreAssociation: ClusterCheck = {
  id: 'cluster.key-store-association',
  title: 'Not associated with another key store',
  scope: 'cluster',
  run({ cluster }) {
    if (cluster.CustomKeyStoreId === null) return { status: 'pass', evidence: ['No custom key store uses this cluster.'] };
    return {
      status: 'warn',
      evidence: [`Custom key store ${cluster.CustomKeyStoreId} uses this cluster.`],
      remedy: 'A cluster belongs to at most one custom key store. To use it for a new store, delete the existing store first (CloudHsmClusterInUseException otherwise).',
    };
  },
};
