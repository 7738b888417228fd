import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { CustomKeyStoreInfo } from '../../../shared/contract/key-stores';
import type { RequestOf, ResponseOf, Result } from '../../../shared/index';
import { useCall } from '../composables/use-call';
import { STATE_BADGE } from '../lib/key-store-state';
import { workbench } from '../lib/workbench';

/** Connect, disconnect, update and delete answer `{}`, as AWS does. */
type Empty = ResponseOf<'ConnectCustomKeyStore'>;

/** How often a store on its way (CONNECTING, DISCONNECTING) is described again, when no event says it moved. */
export const FOLLOW_INTERVAL_MS = 1000;

/**
 * Mirror of the custom key stores in main's state file. Connect returns at once, as in AWS, and the state moves
 * on: StateChanged events reload the list (also a store that turns FAILED on its own, when the health probe finds
 * an HSM silent), and while a store is on its way this store also describes it again every second (a connect run by
 * another process, the CLI, tells this window nothing unless main watches the state file).
 *
 * Holds no secret: a KeyStorePassword is a parameter of create/updatePassword, handed to the request and dropped.
 */
export const useKeyStoresStore = defineStore('keyStores', () => {
  const stores = ref<CustomKeyStoreInfo[]>([]);
  const loaded = ref(false);
  const describe = useCall(() => workbench().keyStores.describe({}), { clearError: 'settled' });
  let followTimer: ReturnType<typeof setTimeout> | undefined;

  function follow(): void {
    if (followTimer !== undefined) return;
    if (!stores.value.some((s) => STATE_BADGE[s.ConnectionState].moving)) return;
    followTimer = setTimeout(() => {
      followTimer = undefined;
      void load();
    }, FOLLOW_INTERVAL_MS);
  }

  async function load(): Promise<void> {
    const value = await describe.run();
    if (value !== undefined) {
      stores.value = value.CustomKeyStores;
      loaded.value = true;
    }
    follow();
  }

  // Main's own key-store changes name the store; another process's change (a CLI run beside the GUI) comes as
  // 'clusters' with no ids, and may have been to a key store too.
  workbench().events.on('StateChanged', ({ Resource, Ids }) => {
    if (Resource === 'customKeyStores' || Ids === undefined) void load();
  });

  function byId(customKeyStoreId: string): CustomKeyStoreInfo | undefined {
    return stores.value.find((s) => s.CustomKeyStoreId === customKeyStoreId);
  }

  /** Any answer changes (or may have changed) the list: describe it again, then hand the answer back. */
  async function reloadAfter<T>(call: Promise<Result<T>>): Promise<Result<T>> {
    const result = await call;
    await load();
    return result;
  }

  /** The password goes into the request and nowhere else. */
  function create(request: RequestOf<'CreateCustomKeyStore'>): Promise<Result<ResponseOf<'CreateCustomKeyStore'>>> {
    return reloadAfter(workbench().keyStores.create(request));
  }

  function connect(customKeyStoreId: string): Promise<Result<Empty>> {
    return reloadAfter(workbench().keyStores.connect({ CustomKeyStoreId: customKeyStoreId }));
  }

  function disconnect(customKeyStoreId: string): Promise<Result<Empty>> {
    return reloadAfter(workbench().keyStores.disconnect({ CustomKeyStoreId: customKeyStoreId }));
  }

  function rename(customKeyStoreId: string, newName: string): Promise<Result<Empty>> {
    return reloadAfter(workbench().keyStores.update({ CustomKeyStoreId: customKeyStoreId, NewCustomKeyStoreName: newName }));
  }

  /** Tells the store the kmsuser's current password (after a reset on the HSMs); the HSMs are not changed. */
  function updatePassword(customKeyStoreId: string, password: string): Promise<Result<Empty>> {
    return reloadAfter(workbench().keyStores.update({ CustomKeyStoreId: customKeyStoreId, KeyStorePassword: password }));
  }

  function remove(customKeyStoreId: string): Promise<Result<Empty>> {
    return reloadAfter(workbench().keyStores.delete({ CustomKeyStoreId: customKeyStoreId }));
  }

  return { stores, loaded, loading: describe.loading, error: describe.error, load, byId, create, connect, disconnect, rename, updatePassword, remove };
});
