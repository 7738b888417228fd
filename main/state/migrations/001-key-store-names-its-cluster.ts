import { isJsonObject, type StateJson, type StateMigration } from './migration';

/**
 * Schema 1 → 2. Schema 1 stored `CustomKeyStoreId` on the cluster, a back-pointer that the key
 * store record (arriving with the key-store issue) would have to agree with forever. From schema 2
 * the association lives once, on the key store (`CloudHsmClusterId`, AWS's name), and a cluster's
 * `CustomKeyStoreId` is derived from it. No build has written key store records yet, so a cluster
 * whose back-pointer is set becomes a minimal key store record naming that cluster: the cluster stays
 * in use, and DeleteCluster still refuses it.
 */
export const keyStoreNamesItsCluster: StateMigration = {
  from: 1,
  summary: 'clusters no longer store CustomKeyStoreId; each custom key store names its cluster (CloudHsmClusterId)',
  migrate(state, refuse) {
    const { clusters, customKeyStores } = state;
    // Not arrays: nothing to move, and validation refuses the file with the path of what is wrong.
    if (!Array.isArray(clusters) || !Array.isArray(customKeyStores)) return { ...state, schemaVersion: 2 };
    const keyStores: unknown[] = [...customKeyStores];
    const migrated = clusters.map((cluster: unknown, i): unknown => {
      if (!isJsonObject(cluster) || !('CustomKeyStoreId' in cluster)) return cluster;
      const { CustomKeyStoreId: keyStoreId, ...rest } = cluster;
      if (keyStoreId === null) return rest;
      if (typeof keyStoreId !== 'string' || keyStoreId === '') {
        return refuse(`clusters.${i} has CustomKeyStoreId ${JSON.stringify(keyStoreId)}, where schema version 1 holds a key store id or null`);
      }
      associate(keyStores, keyStoreId, cluster.ClusterId, i, refuse);
      return rest;
    });
    return { ...state, schemaVersion: 2, clusters: migrated, customKeyStores: keyStores };
  },
};

/** Records that key store `keyStoreId` uses the cluster of `clusters.i`, in an existing placeholder record when there is one. */
function associate(keyStores: unknown[], keyStoreId: string, clusterId: unknown, i: number, refuse: (reason: string) => never): void {
  const index = keyStores.findIndex((k) => isJsonObject(k) && k.CustomKeyStoreId === keyStoreId);
  const existing = keyStores[index] as StateJson | undefined;
  if (existing === undefined) {
    keyStores.push({ CustomKeyStoreId: keyStoreId, CloudHsmClusterId: clusterId });
  } else if (!('CloudHsmClusterId' in existing)) {
    keyStores[index] = { ...existing, CloudHsmClusterId: clusterId };
  } else if (existing.CloudHsmClusterId !== clusterId) {
    // Two clusters claiming one key store (or a key store claiming another cluster): which one it uses cannot be told.
    refuse(
      `clusters.${i} (ClusterId ${JSON.stringify(clusterId)}) names custom key store ${JSON.stringify(keyStoreId)}, which is already used by cluster ${JSON.stringify(existing.CloudHsmClusterId)}; a key store uses one cluster`,
    );
  }
}
