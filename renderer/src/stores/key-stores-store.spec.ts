import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CustomKeyStoreInfo } from '../../../shared/contract/key-stores';
import { createWorkbenchApi, type OperationName, type Result } from '../../../shared/index';
import { createPushRouter, type PushRouter } from '../../../shared/push-router';
import { FOLLOW_INTERVAL_MS, useKeyStoresStore } from './key-stores-store';

const store = (ConnectionState: CustomKeyStoreInfo['ConnectionState']): CustomKeyStoreInfo => ({
  CustomKeyStoreId: 'cks-0123456789abcdef0',
  CustomKeyStoreName: 'ExampleKeyStore',
  CloudHsmClusterId: 'cluster-abcdefghijk',
  TrustAnchorCertificate: '-----BEGIN CERTIFICATE-----',
  ConnectionState,
  CreationDate: '2026-01-01T00:00:00Z',
  CustomKeyStoreType: 'AWS_CLOUDHSM',
});

describe('the key stores store', () => {
  let router: PushRouter;
  /** What main would answer to the next describe. */
  let inMain: CustomKeyStoreInfo[];
  const asked: OperationName[] = [];

  beforeEach(() => {
    setActivePinia(createPinia());
    router = createPushRouter();
    inMain = [];
    asked.length = 0;
    const invoke = async (operation: OperationName): Promise<Result<unknown>> => {
      asked.push(operation);
      if (operation === 'DescribeCustomKeyStores') return { ok: true, value: { CustomKeyStores: [...inMain], Truncated: false } };
      if (operation === 'ConnectCustomKeyStore') {
        // As in AWS: the call answers at once, the store is CONNECTING.
        inMain = [store('CONNECTING')];
        return { ok: true, value: {} };
      }
      return { ok: false, error: { name: 'CustomKeyStoreInvalidStateException', message: 'refused by the test' } };
    };
    Object.assign(globalThis, { window: { workbench: createWorkbenchApi({ invoke, onProgress: router.onProgress, onEvent: router.onEvent }) } });
  });

  afterEach(() => {
    vi.useRealTimers();
    Reflect.deleteProperty(globalThis, 'window');
  });

  it('follows a connect made elsewhere by describing again every second until the store settles, then stops', async () => {
    vi.useFakeTimers();
    const keyStores = useKeyStoresStore();
    inMain = [store('CONNECTING')];
    await keyStores.load();
    expect(keyStores.stores[0]?.ConnectionState).toBe('CONNECTING');

    await vi.advanceTimersByTimeAsync(FOLLOW_INTERVAL_MS);
    expect(asked.filter((o) => o === 'DescribeCustomKeyStores')).toHaveLength(2);

    inMain = [store('CONNECTED')];
    await vi.advanceTimersByTimeAsync(FOLLOW_INTERVAL_MS);
    expect(keyStores.stores[0]?.ConnectionState).toBe('CONNECTED');

    // Settled: nobody asks main again until something happens.
    await vi.advanceTimersByTimeAsync(FOLLOW_INTERVAL_MS * 5);
    expect(asked.filter((o) => o === 'DescribeCustomKeyStores')).toHaveLength(3);
  });

  it('describes the stores again after its own connect, and on main’s StateChanged for key stores, not for a named cluster', async () => {
    const keyStores = useKeyStoresStore();
    inMain = [store('DISCONNECTED')];
    await keyStores.load();

    expect((await keyStores.connect('cks-0123456789abcdef0')).ok).toBe(true);
    expect(keyStores.stores[0]?.ConnectionState).toBe('CONNECTING');

    inMain = [store('FAILED')];
    router.deliverEvent('StateChanged', { Resource: 'customKeyStores', Ids: ['cks-0123456789abcdef0'] });
    await expect.poll(() => keyStores.stores[0]?.ConnectionState).toBe('FAILED');
    const describes = asked.filter((o) => o === 'DescribeCustomKeyStores').length;

    router.deliverEvent('StateChanged', { Resource: 'clusters', Ids: ['cluster-abcdefghijk'] });
    await Promise.resolve();
    expect(asked.filter((o) => o === 'DescribeCustomKeyStores')).toHaveLength(describes);
  });

  it('describes the stores again when another process changed the state file (clusters, no ids)', async () => {
    const keyStores = useKeyStoresStore();
    inMain = [store('CONNECTED')];
    await keyStores.load();

    // A CLI run beside the GUI disconnected it: main's state-file watcher cannot say which record moved.
    inMain = [store('DISCONNECTED')];
    router.deliverEvent('StateChanged', { Resource: 'clusters' });
    await expect.poll(() => keyStores.stores[0]?.ConnectionState).toBe('DISCONNECTED');
  });

  it('hands a refusal back to the caller and still mirrors main', async () => {
    const keyStores = useKeyStoresStore();
    inMain = [store('DISCONNECTED')];
    const refused = await keyStores.disconnect('cks-0123456789abcdef0');
    expect(refused.ok ? null : refused.error.name).toBe('CustomKeyStoreInvalidStateException');
    expect(keyStores.stores.map((s) => s.ConnectionState)).toEqual(['DISCONNECTED']);
  });
});
