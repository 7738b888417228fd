import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KeyMetadata } from '../../../shared/contract/keys';
import { createWorkbenchApi, type OperationName, type Result } from '../../../shared/index';
import { createPushRouter, type PushRouter } from '../../../shared/push-router';
import { useKeyDetailStore } from './key-detail-store';

const KEY = '1234abcd-12ab-34cd-56ef-1234567890ab';
const OTHER = 'aaaabbbb-12ab-34cd-56ef-1234567890ab';

function metadata(KeyId: string, KeyState: KeyMetadata['KeyState']): KeyMetadata {
  return {
    AWSAccountId: '111122223333',
    KeyId,
    Arn: `arn:aws:kms:local-1:111122223333:key/${KeyId}`,
    CreationDate: '2026-01-01T00:00:00.000Z',
    Enabled: KeyState === 'Enabled',
    Description: '',
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyState,
    Origin: 'AWS_CLOUDHSM',
    CustomKeyStoreId: 'cks-0123456789abcdef0',
    CloudHsmClusterId: 'cluster-abcdefghijk',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    KeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegion: false,
  };
}

describe('the key detail store', () => {
  let router: PushRouter;
  let state: KeyMetadata['KeyState'];
  let asked: OperationName[];
  /** Answers held back until released, to make one key's answer arrive after another key was opened. */
  let hold: Array<() => void> | null;

  beforeEach(() => {
    setActivePinia(createPinia());
    router = createPushRouter();
    state = 'Enabled';
    asked = [];
    hold = null;
    const invoke = async (operation: OperationName, request: unknown): Promise<Result<unknown>> => {
      asked.push(operation);
      const { KeyId } = request as { KeyId: string };
      if (hold !== null) await new Promise<void>((release) => hold?.push(release));
      switch (operation) {
        case 'DescribeKey':
          return { ok: true, value: { KeyMetadata: metadata(KeyId, state) } };
        case 'DescribeKeyMaterial':
          return { ok: true, value: { KeyId, Live: true, BackingKeys: [] } };
        case 'ListResourceTags':
          return { ok: true, value: { Tags: [{ TagKey: 'Owner', TagValue: KeyId }], Truncated: false } };
        default:
          return { ok: false, error: { name: 'KMSInternalException', message: `${operation} is not built yet.` } };
      }
    };
    Object.assign(globalThis, { window: { workbench: createWorkbenchApi({ invoke, onProgress: router.onProgress, onEvent: router.onEvent }) } });
  });

  afterEach(() => {
    Reflect.deleteProperty(globalThis, 'window');
  });

  it('loads each part on its own: a refused ListAliases leaves the key, its tags and its material on the page', async () => {
    const detail = useKeyDetailStore();
    await detail.open(KEY);
    expect(detail.key?.KeyId).toBe(KEY);
    expect(detail.tags).toEqual([{ TagKey: 'Owner', TagValue: KEY }]);
    expect(detail.material?.Live).toBe(true);
    expect(detail.aliasesError).toMatchObject({ name: 'KMSInternalException', message: 'ListAliases is not built yet.' });
    expect(detail.keyError).toBeNull();
  });

  it('reads the key again when it changed, not when another key did, and never looks at the HSMs for a state change', async () => {
    const detail = useKeyDetailStore();
    await detail.open(KEY);
    asked = [];
    router.deliverEvent('StateChanged', { Resource: 'keys', Ids: [OTHER] });
    await Promise.resolve();
    expect(asked).toEqual([]);

    state = 'Disabled';
    router.deliverEvent('StateChanged', { Resource: 'keys', Ids: [KEY] });
    await new Promise((r) => setTimeout(r, 0));
    expect(detail.key?.KeyState).toBe('Disabled');
    expect(asked).not.toContain('DescribeKeyMaterial');

    router.deliverEvent('StateChanged', { Resource: 'aliases', Ids: ['alias/x'] });
    await new Promise((r) => setTimeout(r, 0));
    expect(asked.filter((o) => o === 'ListAliases')).toHaveLength(1);
  });

  it('shows nothing of the previous key once another is opened, even when its answers come late', async () => {
    const detail = useKeyDetailStore();
    await detail.open(KEY);
    hold = [];
    const first = detail.open(OTHER);
    expect(detail.key).toBeNull();
    expect(detail.tags).toEqual([]);
    // The first key is opened again before the second's answers arrive: only its answers land.
    const releaseOther = hold;
    hold = null;
    await detail.open(KEY);
    for (const release of releaseOther) release();
    await first;
    expect(detail.key?.KeyId).toBe(KEY);
    expect(detail.tags).toEqual([{ TagKey: 'Owner', TagValue: KEY }]);
  });
});
