import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ConnectionErrorCode, CustomKeyStoreInfo, KeyStoreConnectionInfo } from '../../../shared/contract/key-stores';
import { createWorkbenchApi, type OperationName, type Result } from '../../../shared/index';
import { createPushRouter, type PushRouter } from '../../../shared/push-router';
import { useKeyStoreWizardStore } from './key-store-wizard-store';
import { FOLLOW_INTERVAL_MS, useKeyStoresStore } from './key-stores-store';

const STORE_ID = 'cks-0123456789abcdef0';
const store = (ConnectionState: CustomKeyStoreInfo['ConnectionState'], code?: ConnectionErrorCode): CustomKeyStoreInfo => ({
  CustomKeyStoreId: STORE_ID,
  CustomKeyStoreName: 'ExampleKeyStore',
  CloudHsmClusterId: 'cluster-abcdefghijk',
  TrustAnchorCertificate: '-----BEGIN CERTIFICATE-----',
  ConnectionState,
  ...(code ? { ConnectionErrorCode: code } : {}),
  CreationDate: '2026-01-01T00:00:00Z',
  CustomKeyStoreType: 'AWS_CLOUDHSM',
});

describe('the connection wizard follows a connect', () => {
  /** The states main walks through, one per describe after the connect. */
  let script: CustomKeyStoreInfo[];
  let current: CustomKeyStoreInfo;
  const asked: OperationName[] = [];
  let router: PushRouter;
  const connection: KeyStoreConnectionInfo = {
    CustomKeyStoreId: STORE_ID,
    ConnectionState: 'FAILED',
    ConnectionErrorCode: 'USER_NOT_FOUND',
    Hsms: [{ HsmId: 'hsm-b', TokenSerial: 'b2', TokenLabel: 'two', SessionHeld: false, ConnectionErrorCode: 'USER_NOT_FOUND', Detail: 'CKR_USER_PIN_NOT_INITIALIZED' }],
  };

  beforeEach(() => {
    vi.useFakeTimers();
    setActivePinia(createPinia());
    asked.length = 0;
    current = store('DISCONNECTED');
    script = [];
    const invoke = async (operation: OperationName): Promise<Result<unknown>> => {
      asked.push(operation);
      if (operation === 'ConnectCustomKeyStore') {
        script = [store('CONNECTING'), store('CONNECTING'), store('FAILED', 'USER_NOT_FOUND')];
        return { ok: true, value: {} };
      }
      if (operation === 'DescribeCustomKeyStores') {
        current = script.shift() ?? current;
        return { ok: true, value: { CustomKeyStores: [current], Truncated: false } };
      }
      if (operation === 'DescribeKeyStoreConnection') return { ok: true, value: { Connection: connection } };
      return { ok: false, error: { name: 'KMSInternalException', message: `the test does not answer ${operation}` } };
    };
    router = createPushRouter();
    Object.assign(globalThis, { window: { workbench: createWorkbenchApi({ invoke, onProgress: router.onProgress, onEvent: router.onEvent }) } });
  });

  afterEach(() => {
    vi.useRealTimers();
    Reflect.deleteProperty(globalThis, 'window');
  });

  it('notes each state the store takes until it settles, then reads each member’s part', async () => {
    const wizard = useKeyStoreWizardStore();
    wizard.start(STORE_ID);
    await useKeyStoresStore().load();
    // The picked store is DISCONNECTED: the wizard opens its pre-flight.
    wizard.openPicked();
    expect(wizard.step).toBe(2);

    await wizard.connect();
    expect(wizard.step).toBe(3);
    await vi.advanceTimersByTimeAsync(FOLLOW_INTERVAL_MS * 3);

    expect(wizard.timeline).toEqual(['DISCONNECTED', 'CONNECTING', 'FAILED']);
    expect(wizard.connecting).toBe(false);
    await vi.waitFor(() => expect(wizard.connection?.Hsms[0]?.ConnectionErrorCode).toBe('USER_NOT_FOUND'));
    expect(asked.filter((o) => o === 'DescribeKeyStoreConnection')).toHaveLength(1);
  });

  it('follows a connected store that turns FAILED on its own (the health probe) and reads each member’s part again', async () => {
    current = store('CONNECTED');
    const wizard = useKeyStoreWizardStore();
    wizard.start(STORE_ID);
    await useKeyStoresStore().load();
    wizard.openPicked();
    expect(wizard.step).toBe(3);
    await vi.waitFor(() => expect(asked.filter((o) => o === 'DescribeKeyStoreConnection')).toHaveLength(1));

    // Nobody clicked: main's probe found an HSM silent, moved the store and said so.
    script = [store('FAILED', 'NETWORK_ERRORS')];
    router.deliverEvent('StateChanged', { Resource: 'customKeyStores', Ids: [STORE_ID] });
    await vi.waitFor(() => expect(wizard.store?.ConnectionErrorCode).toBe('NETWORK_ERRORS'));
    await vi.waitFor(() => expect(asked.filter((o) => o === 'DescribeKeyStoreConnection')).toHaveLength(2));
    expect(wizard.connecting).toBe(false);
  });
});
