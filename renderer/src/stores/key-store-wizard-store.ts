import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { ConnectionState, KeyStoreConnectionInfo } from '../../../shared/contract/key-stores';
import type { ErrorInfo } from '../../../shared/index';
import { useCall } from '../composables/use-call';
import { workbench } from '../lib/workbench';
import { useClusterChecksStore } from './cluster-checks-store';
import { useKeyStoresStore } from './key-stores-store';

export type ConnectStep = 1 | 2 | 3;

/** States a connect ends in: the wizard stops following there. */
const SETTLED: readonly ConnectionState[] = ['CONNECTED', 'FAILED', 'DISCONNECTED'];

/**
 * The key-store connection wizard: pick or create a store (1), pre-flight = the cluster checks with the kmsuser
 * login tested (2), connect and follow the state until it settles, with each member's part (3).
 *
 * Holds no secret: the kmsuser password is a parameter of `createStore` and of the checks run, handed on and dropped.
 */
export const useKeyStoreWizardStore = defineStore('keyStoreWizard', () => {
  const keyStores = useKeyStoresStore();
  const checks = useClusterChecksStore();

  const step = ref<ConnectStep>(1);
  const mode = ref<'pick' | 'create'>('pick');
  const storeId = ref<string | null>(null);
  const name = ref('');
  const clusterId = ref('');
  /** PEM text of the trust anchor (customerCA.crt), pasted or read from a file. Public: a certificate. */
  const trustAnchor = ref('');
  const createCall = useCall((password: string) =>
    workbench().keyStores.create({ CustomKeyStoreName: name.value, CloudHsmClusterId: clusterId.value, TrustAnchorCertificate: trustAnchor.value, KeyStorePassword: password }),
  );
  const actionError = ref<ErrorInfo | null>(null);
  const acting = ref(false);
  /** The states this wizard saw the store take since Connect, in order: the live timeline. */
  const timeline = ref<ConnectionState[]>([]);
  const connecting = ref(false);
  const connection = shallowRef<KeyStoreConnectionInfo | null>(null);

  const store = computed(() => (storeId.value === null ? undefined : keyStores.byId(storeId.value)));

  /** A fresh wizard; for a store picked from the table, straight to its pre-flight (or, when it failed, its connection). */
  function start(customKeyStoreId: string | undefined): void {
    checks.reset();
    mode.value = 'pick';
    storeId.value = customKeyStoreId ?? null;
    step.value = 1;
    name.value = '';
    clusterId.value = '';
    trustAnchor.value = '';
    createCall.error.value = null;
    actionError.value = null;
    timeline.value = [];
    connecting.value = false;
    connection.value = null;
  }

  /** Where a chosen store continues: a disconnected one to its pre-flight, any other to its connection. */
  function openPicked(): void {
    const picked = store.value;
    if (!picked) return;
    clusterId.value = picked.CloudHsmClusterId;
    step.value = picked.ConnectionState === 'DISCONNECTED' ? 2 : 3;
    if (step.value === 3) void describeConnection();
  }

  /** Chooses without moving on: arrow keys walk a radio group, and each step must not jump the wizard ahead. */
  function pick(customKeyStoreId: string): void {
    storeId.value = customKeyStoreId;
    actionError.value = null;
  }

  /**
   * Creates the store, then runs the pre-flight with the same password: the admin types it once, and it is
   * forgotten as soon as both requests have it.
   */
  async function createStore(password: string): Promise<boolean> {
    const created = await createCall.run(password);
    if (created === undefined) return false;
    await keyStores.load();
    storeId.value = created.CustomKeyStoreId;
    step.value = 2;
    void checks.run(clusterId.value, password);
    return true;
  }

  async function describeConnection(): Promise<void> {
    if (storeId.value === null) return;
    const result = await workbench().keyStores.describeConnection({ CustomKeyStoreId: storeId.value });
    if (result.ok) connection.value = result.value.Connection;
  }

  // Follows the store's state as the key-stores store mirrors it (events and its polling) and notes each change.
  // A change nobody here asked for (the health probe turned it FAILED, a CLI disconnected it) re-reads each member's part.
  watch(
    () => store.value?.ConnectionState,
    (state) => {
      if (state === undefined) return;
      if (!connecting.value) {
        if (step.value === 3) void describeConnection();
        return;
      }
      if (timeline.value[timeline.value.length - 1] !== state) timeline.value = [...timeline.value, state];
      if (SETTLED.includes(state) && timeline.value.length > 1) {
        connecting.value = false;
        void describeConnection();
      }
    },
  );

  async function act(call: () => Promise<{ ok: boolean; error?: ErrorInfo }>): Promise<boolean> {
    acting.value = true;
    actionError.value = null;
    try {
      const result = await call();
      if (!result.ok) actionError.value = result.error ?? null;
      return result.ok;
    } finally {
      acting.value = false;
    }
  }

  async function connect(): Promise<void> {
    const id = storeId.value;
    if (id === null || acting.value) return;
    step.value = 3;
    connection.value = null;
    timeline.value = store.value ? [store.value.ConnectionState] : [];
    connecting.value = true;
    if (!(await act(() => keyStores.connect(id)))) connecting.value = false;
  }

  /** A FAILED store is disconnected before it connects again (AWS's rule); the wizard does it in place. */
  async function disconnect(): Promise<void> {
    const id = storeId.value;
    if (id === null || acting.value) return;
    connection.value = null;
    timeline.value = [];
    // The state it moves to re-reads each member's part (the watch above).
    await act(() => keyStores.disconnect(id));
  }

  return {
    step,
    mode,
    storeId,
    store,
    name,
    clusterId,
    trustAnchor,
    creating: createCall.loading,
    createError: createCall.error,
    acting,
    actionError,
    timeline,
    connecting,
    connection,
    start,
    openPicked,
    pick,
    createStore,
    connect,
    disconnect,
    describeConnection,
  };
});
