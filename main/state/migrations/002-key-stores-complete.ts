import { isJsonObject, type StateJson, type StateMigration } from './migration';

/**
 * Schema 2 → 3: a custom key store record holds the whole store (name, state, creation date, trust anchor,
 * the sealed kmsuser password and a rotation journal). A schema-2 build wrote only placeholders (an id and
 * the cluster, from schema 1's back-pointer), which are kept rather than refused (refusing would make a valid
 * file unreadable) and completed with what is known for certain:
 * - ConnectionState DISCONNECTED: no build before 3 could connect a store;
 * - CustomKeyStoreName: its own if it has one, else its id (ids are unique, and AWS names are free text);
 * - CreationDate: its own, else its cluster's CreateTimestamp (the store cannot be older), else the migration's time.
 * Its trust anchor and kmsuser password were never given: they stay absent (never invented), and a connect
 * refuses such a store, saying which to supply; describe shows the rest.
 */
export const keyStoresComplete: StateMigration = {
  from: 2,
  summary: 'custom key store records hold name, connection state, creation date, trust anchor and sealed kmsuser password',
  migrate(state, refuse) {
    const { customKeyStores, clusters } = state;
    if (!Array.isArray(customKeyStores)) return { ...state, schemaVersion: 3 };
    const created = (clusterId: unknown): string | undefined => {
      const cluster = Array.isArray(clusters) ? clusters.find((c) => isJsonObject(c) && c.ClusterId === clusterId) : undefined;
      return isJsonObject(cluster) && typeof cluster.CreateTimestamp === 'string' ? cluster.CreateTimestamp : undefined;
    };
    const now = new Date().toISOString();
    const names = new Set(customKeyStores.flatMap((k) => (isJsonObject(k) && typeof k.CustomKeyStoreName === 'string' ? [k.CustomKeyStoreName] : [])));
    const migrated = customKeyStores.map((store: unknown, i): unknown => {
      if (!isJsonObject(store)) return store;
      const completed: StateJson = { ...store };
      if (!('CustomKeyStoreName' in completed) && typeof store.CustomKeyStoreId === 'string') {
        if (names.has(store.CustomKeyStoreId)) {
          refuse(`customKeyStores.${i} has no name, and its id ${JSON.stringify(store.CustomKeyStoreId)} is another key store's name`);
        }
        completed.CustomKeyStoreName = store.CustomKeyStoreId;
      }
      if (!('ConnectionState' in completed)) completed.ConnectionState = 'DISCONNECTED';
      if (!('CreationDate' in completed)) completed.CreationDate = created(store.CloudHsmClusterId) ?? now;
      return completed;
    });
    return { ...state, schemaVersion: 3, customKeyStores: migrated };
  },
};
