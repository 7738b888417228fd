import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CustomKeyStoreInfo } from '../../../shared/contract/key-stores';
import { createWorkbenchApi, type ClusterCheckReport, type OperationName, type Result } from '../../../shared/index';
import { createPushRouter } from '../../../shared/push-router';
import { useKeyStoreWizardStore } from './key-store-wizard-store';
import { useKeyStoresStore } from './key-stores-store';
import { useKmsuserStore } from './kmsuser-store';

const PASSWORD = 'kmsuser-store-Pa55';
const SO_PIN = 'so-pin-security-1234';
const CLUSTER_ID = 'cluster-abcdefghijk';
const STORE_ID = 'cks-0123456789abcdef0';

const created: CustomKeyStoreInfo = {
  CustomKeyStoreId: STORE_ID,
  CustomKeyStoreName: 'ExampleKeyStore',
  CloudHsmClusterId: CLUSTER_ID,
  TrustAnchorCertificate: '-----BEGIN CERTIFICATE-----',
  ConnectionState: 'DISCONNECTED',
  CreationDate: '2026-01-01T00:00:00Z',
  CustomKeyStoreType: 'AWS_CLOUDHSM',
};

const report: ClusterCheckReport = {
  ClusterId: CLUSTER_ID,
  ClusterName: 'c',
  StartedAt: '2026-01-01T00:00:00Z',
  CompletedAt: '2026-01-01T00:00:01Z',
  Checks: [],
  Summary: { Pass: 0, Warn: 0, Fail: 0, Skipped: 0 },
  ActiveHsmCount: 2,
  Passed: true,
};

describe('secrets in the key-store and kmsuser stores', () => {
  const sent: Array<{ operation: OperationName; request: unknown }> = [];
  let pinia = createPinia();
  let stores: CustomKeyStoreInfo[] = [];
  let answer: (operation: OperationName) => Result<unknown>;

  beforeEach(() => {
    sent.length = 0;
    stores = [];
    pinia = createPinia();
    setActivePinia(pinia);
    answer = (operation) => {
      switch (operation) {
        case 'CreateCustomKeyStore':
          stores = [created];
          return { ok: true, value: { CustomKeyStoreId: STORE_ID } };
        case 'DescribeCustomKeyStores':
          return { ok: true, value: { CustomKeyStores: stores, Truncated: false } };
        case 'CheckCluster':
          return { ok: true, value: { Report: report } };
        case 'UpdateCustomKeyStore':
          return { ok: true, value: {} };
        case 'DescribeKmsuser':
          return { ok: true, value: { ClusterId: CLUSTER_ID, ClusterName: 'c', Hsms: [] } };
        default:
          return { ok: false, error: { name: 'KMSInternalException', message: `the test does not answer ${operation}` } };
      }
    };
    const router = createPushRouter();
    const invoke = async (operation: OperationName, request: unknown): Promise<Result<unknown>> => {
      sent.push({ operation, request });
      return answer(operation);
    };
    Object.assign(globalThis, { window: { workbench: createWorkbenchApi({ invoke, onProgress: router.onProgress, onEvent: router.onEvent }) } });
  });

  afterEach(() => {
    Reflect.deleteProperty(globalThis, 'window');
  });

  it('hands the kmsuser password typed once to the create and to the pre-flight, and keeps it in no Pinia state', async () => {
    const wizard = useKeyStoreWizardStore();
    wizard.start(undefined);
    wizard.name = 'ExampleKeyStore';
    wizard.clusterId = CLUSTER_ID;
    wizard.trustAnchor = '-----BEGIN CERTIFICATE-----';

    expect(await wizard.createStore(PASSWORD)).toBe(true);
    await expect.poll(() => sent.some((s) => s.operation === 'CheckCluster')).toBe(true);

    expect(sent.find((s) => s.operation === 'CreateCustomKeyStore')?.request).toMatchObject({ CloudHsmClusterId: CLUSTER_ID, KeyStorePassword: PASSWORD });
    expect(sent.find((s) => s.operation === 'CheckCluster')?.request).toEqual({ ClusterId: CLUSTER_ID, KmsuserPassword: PASSWORD });
    expect(wizard.step).toBe(2);
    expect(wizard.storeId).toBe(STORE_ID);
    expect(JSON.stringify(pinia.state.value)).not.toContain(PASSWORD);
  });

  it('keeps a refused create’s password out of Pinia state too (the refusal is shown, the password is not)', async () => {
    answer = () => ({ ok: false, error: { name: 'IncorrectTrustAnchorException', message: 'The trust anchor did not issue the cluster certificate.' } });
    const wizard = useKeyStoreWizardStore();
    wizard.start(undefined);
    expect(await wizard.createStore(PASSWORD)).toBe(false);
    expect(wizard.createError?.name).toBe('IncorrectTrustAnchorException');
    expect(JSON.stringify(pinia.state.value)).not.toContain(PASSWORD);
  });

  it('sends a store password update and keeps it nowhere', async () => {
    expect((await useKeyStoresStore().updatePassword(STORE_ID, PASSWORD)).ok).toBe(true);
    expect(sent[0]).toEqual({ operation: 'UpdateCustomKeyStore', request: { CustomKeyStoreId: STORE_ID, KeyStorePassword: PASSWORD } });
    expect(JSON.stringify(pinia.state.value)).not.toContain(PASSWORD);
  });

  it('sends the SO PIN and the new kmsuser password with the kmsuser call only, and keeps the per-HSM outcome of a failure part-way', async () => {
    const hsms = [
      { HsmId: 'hsm-a', TokenSerial: 'a1', TokenLabel: 'one', Outcome: 'CHANGED' },
      { HsmId: 'hsm-b', TokenSerial: 'b2', TokenLabel: 'two', Outcome: 'UNKNOWN' },
    ];
    answer = (operation) =>
      operation === 'ChangeKmsuserPassword'
        ? { ok: false, error: { name: 'Pkcs11Exception', code: 'CKR_DEVICE_REMOVED', message: 'hsm-b stopped answering', details: { Hsms: hsms } } }
        : { ok: true, value: { ClusterId: CLUSTER_ID, ClusterName: 'c', Hsms: [] } };
    const kmsuser = useKmsuserStore();

    const result = await kmsuser.set('change-password', CLUSTER_ID, SO_PIN, PASSWORD);

    expect(result.ok).toBe(false);
    expect(sent[0]).toEqual({ operation: 'ChangeKmsuserPassword', request: { ClusterId: CLUSTER_ID, SoPin: SO_PIN, NewKmsuserPassword: PASSWORD } });
    expect(kmsuser.lastResult?.Hsms.map((h) => `${h.HsmId}:${h.Outcome}`)).toEqual(['hsm-a:CHANGED', 'hsm-b:UNKNOWN']);
    const state = JSON.stringify(pinia.state.value);
    expect(state).not.toContain(PASSWORD);
    expect(state).not.toContain(SO_PIN);
  });

  it('drops per-HSM details that break the contract rather than show them', async () => {
    answer = (operation) =>
      operation === 'CreateKmsuser'
        ? { ok: false, error: { name: 'Pkcs11Exception', message: 'refused', details: { Hsms: [{ HsmId: 'hsm-a', Outcome: 'MAYBE' }] } } }
        : { ok: true, value: { ClusterId: CLUSTER_ID, ClusterName: 'c', Hsms: [] } };
    const kmsuser = useKmsuserStore();
    await kmsuser.set('create', CLUSTER_ID, SO_PIN, PASSWORD);
    expect(kmsuser.lastResult).toBeNull();
  });
});
