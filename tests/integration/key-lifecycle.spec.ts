import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyMetadata } from '../../shared/contract/keys';
import type { ErrorName } from '../../shared/errors';
import { aliasArn, LOCAL_PARTITION } from '../../main/keys/arn';
import type { CmkRecord } from '../../main/state/records';
import { connect, connectedStore, createTestCmk, type StoreSetup } from '../fixtures/cmk';
import { ok } from '../fixtures/outcomes';
import { cmkRecord } from '../fixtures/records';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';

/**
 * The CMK lifecycle on a real two-token SoftHSM cluster behind a CONNECTED store: DescribeKey by every name AWS
 * accepts, AWS's key-state matrix for Enable/Disable/ScheduleKeyDeletion/CancelKeyDeletion with AWS's exceptions
 * and messages, the Unavailable state of a disconnected store (changes accepted, effective on reconnect),
 * ListKeys/DescribeKeys pages, and the operations a custom key store cannot do.
 */

const PASSWORD = 'kmsuser-pass-1';
const NOW = new Date('2026-03-01T12:00:00.000Z');
let hsm: SoftHsmCluster;
let wb: TestWorkbench;
let setup: StoreSetup;


async function describeKey(keyId: string): Promise<KeyMetadata> {
  return ok(await wb.call('DescribeKey', { KeyId: keyId })).KeyMetadata;
}

/** A refused call: AWS's exception and message, the state file unchanged. */
async function refused(call: () => Promise<{ ok: boolean; error?: { name: ErrorName; message: string } }>, name: ErrorName, message: string | RegExp): Promise<void> {
  const before = await wb.stateText();
  const result = await call();
  expect(result.ok).toBe(false);
  expect(result.error?.name).toBe(name);
  if (typeof message === 'string') expect(result.error?.message).toBe(message);
  else expect(result.error?.message).toMatch(message);
  expect(await wb.stateText()).toBe(before);
}

beforeAll(async () => {
  hsm = await createSoftHsmCluster({ tokens: 2, userPin: PASSWORD, labelPrefix: 'lc' });
  wb = await createTestWorkbench({ clock: () => NOW });
  setup = await connectedStore(wb, hsm, PASSWORD);
}, 120_000);

afterAll(async () => {
  await wb?.dispose();
  await hsm?.cleanup();
});

describe('DescribeKey', () => {
  it('names a key by key id, key ARN, alias name and alias ARN, with AWS KeyMetadata', async () => {
    const key = await createTestCmk(wb, hsm, setup);
    await wb.editState((s) => s.aliases.put({ AliasName: 'alias/lifecycle', TargetKeyId: key.KeyId, CreationDate: NOW.toISOString(), LastUpdatedDate: NOW.toISOString() }));
    const expected = {
      KeyId: key.KeyId,
      Arn: key.Arn,
      AWSAccountId: '111122223333',
      Enabled: true,
      KeyState: 'Enabled',
      KeyUsage: 'ENCRYPT_DECRYPT',
      Origin: 'AWS_CLOUDHSM',
      KeyManager: 'CUSTOMER',
      KeySpec: 'SYMMETRIC_DEFAULT',
      CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
      MultiRegion: false,
      CustomKeyStoreId: setup.storeId,
      CloudHsmClusterId: setup.clusterId,
    };
    for (const name of [key.KeyId, key.Arn, 'alias/lifecycle', aliasArn(LOCAL_PARTITION, 'alias/lifecycle')]) expect(await describeKey(name)).toMatchObject(expected);
  });

  it('answers NotFoundException for a key that is not there and InvalidArnException for an ARN that is not a KMS one', async () => {
    await refused(() => wb.call('DescribeKey', { KeyId: randomUUID() }), 'NotFoundException', /does not exist/);
    await refused(() => wb.call('DescribeKey', { KeyId: 'alias/none' }), 'NotFoundException', /does not exist/);
    await refused(() => wb.call('DescribeKey', { KeyId: `arn:aws:kms:us-east-1:111122223333:key/${randomUUID()}` }), 'NotFoundException', /does not exist/);
    await refused(() => wb.call('DescribeKey', { KeyId: 'arn:aws:s3:::bucket' }), 'InvalidArnException', /not a valid KMS key or alias ARN/);
  });
});

describe('the key-state matrix', () => {
  let key: CmkRecord;
  beforeAll(async () => {
    key = await createTestCmk(wb, hsm, setup);
  });

  it('disables and enables, each time recording the change', async () => {
    ok(await wb.call('DisableKey', { KeyId: key.KeyId }));
    expect(await describeKey(key.KeyId)).toMatchObject({ KeyState: 'Disabled', Enabled: false });
    ok(await wb.call('DisableKey', { KeyId: key.Arn }));
    ok(await wb.call('EnableKey', { KeyId: key.KeyId }));
    expect(await describeKey(key.KeyId)).toMatchObject({ KeyState: 'Enabled', Enabled: true });
  });

  it('refuses to cancel a deletion that is not scheduled, with AWS message', async () => {
    await refused(() => wb.call('CancelKeyDeletion', { KeyId: key.KeyId }), 'KMSInvalidStateException', `${key.Arn} is not pending deletion`);
  });

  it('refuses a pending window outside 7 to 30 days', async () => {
    await refused(() => wb.call('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: 6 }), 'ValidationException', /7 to 30/);
    await refused(() => wb.call('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: 31 }), 'ValidationException', /7 to 30/);
  });

  it('schedules deletion 30 days out by default, from the injected clock, and audits the backing keys', async () => {
    const response = ok(await wb.call('ScheduleKeyDeletion', { KeyId: key.KeyId }));
    const deletionDate = new Date(NOW.getTime() + 30 * 86_400_000).toISOString();
    expect(response).toEqual({ KeyId: key.Arn, DeletionDate: deletionDate, KeyState: 'PendingDeletion', PendingWindowInDays: 30 });
    expect(await describeKey(key.KeyId)).toMatchObject({ KeyState: 'PendingDeletion', Enabled: false, DeletionDate: deletionDate, PendingDeletionWindowInDays: 30 });
    const record = (await wb.auditRecords()).filter((r) => r.eventName === 'ScheduleKeyDeletion').at(-1) as { additionalEventData?: Record<string, unknown> } | undefined;
    expect(record?.additionalEventData).toMatchObject({ customKeyStoreId: setup.storeId, clusterId: setup.clusterId });
    expect(JSON.parse(String(record?.additionalEventData?.backingKeys))).toHaveLength(2);
  });

  it('refuses enable, disable and a second schedule while pending deletion', async () => {
    for (const op of ['EnableKey', 'DisableKey'] as const) await refused(() => wb.call(op, { KeyId: key.KeyId }), 'KMSInvalidStateException', `${key.Arn} is pending deletion.`);
    await refused(() => wb.call('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: 7 }), 'KMSInvalidStateException', `${key.Arn} is pending deletion.`);
  });

  it('cancels into Disabled, clearing the deletion date', async () => {
    expect(ok(await wb.call('CancelKeyDeletion', { KeyId: key.Arn }))).toEqual({ KeyId: key.Arn });
    const meta = await describeKey(key.KeyId);
    expect(meta).toMatchObject({ KeyState: 'Disabled', Enabled: false });
    expect(meta.DeletionDate).toBeUndefined();
    expect(meta.PendingDeletionWindowInDays).toBeUndefined();
  });

  it('refuses every change to a key still being created', async () => {
    const creating = cmkRecord(setup.storeId, setup.clusterId);
    await wb.editState((s) => s.keys.put({ ...creating, KeyState: 'Creating' }));
    for (const op of ['EnableKey', 'DisableKey', 'ScheduleKeyDeletion'] as const) await refused(() => wb.call(op, { KeyId: creating.KeyId }), 'KMSInvalidStateException', /is being created/);
    await refused(() => wb.call('CancelKeyDeletion', { KeyId: creating.KeyId }), 'KMSInvalidStateException', `${creating.Arn} is not pending deletion`);
    await wb.editState((s) => void s.keys.delete(creating.KeyId));
  });
});

describe('a disconnected store', () => {
  it('shows its keys Unavailable, keeps a pending deletion visible and cancellable, and applies enable/disable on reconnect', async () => {
    const toDisable = await createTestCmk(wb, hsm, setup);
    const toEnable = await createTestCmk(wb, hsm, setup, { KeyState: 'Disabled' });
    const pending = await createTestCmk(wb, hsm, setup);
    ok(await wb.call('ScheduleKeyDeletion', { KeyId: pending.KeyId, PendingWindowInDays: 7 }));
    ok(await wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: setup.storeId }));

    expect(await describeKey(toDisable.KeyId)).toMatchObject({ KeyState: 'Unavailable', Enabled: false });
    expect(await describeKey(pending.KeyId)).toMatchObject({ KeyState: 'PendingDeletion' });
    ok(await wb.call('DisableKey', { KeyId: toDisable.KeyId }));
    ok(await wb.call('EnableKey', { KeyId: toEnable.KeyId }));
    expect(await describeKey(toEnable.KeyId)).toMatchObject({ KeyState: 'Unavailable' });
    ok(await wb.call('CancelKeyDeletion', { KeyId: pending.KeyId }));
    expect(await describeKey(pending.KeyId)).toMatchObject({ KeyState: 'Unavailable' });
    ok(await wb.call('ScheduleKeyDeletion', { KeyId: pending.KeyId }));
    expect(await describeKey(pending.KeyId)).toMatchObject({ KeyState: 'PendingDeletion' });

    await connect(wb, setup.storeId);
    expect(await describeKey(toDisable.KeyId)).toMatchObject({ KeyState: 'Disabled' });
    expect(await describeKey(toEnable.KeyId)).toMatchObject({ KeyState: 'Enabled', Enabled: true });
    expect(await describeKey(pending.KeyId)).toMatchObject({ KeyState: 'PendingDeletion' });
  });
});

describe('ListKeys and DescribeKeys', () => {
  it('page in KeyId order with Limit and Marker; a key created between pages does not shift the boundary', async () => {
    const extra = Array.from({ length: 25 }, () => cmkRecord(setup.storeId, setup.clusterId));
    await wb.editState((s) => extra.forEach((k) => s.keys.put(k)));
    const all = [...(await wb.call('ListKeys', { Limit: 1000 }).then(ok)).Keys];
    expect(all.map((k) => k.KeyId)).toEqual([...all.map((k) => k.KeyId)].sort());
    expect(all.every((k) => k.KeyArn === `arn:aws:kms:local-1:111122223333:key/${k.KeyId}`)).toBe(true);

    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      const page = ok(await wb.call('ListKeys', { Limit: 10, ...(marker === undefined ? {} : { Marker: marker }) }));
      seen.push(...page.Keys.map((k) => k.KeyId));
      expect(page.Truncated).toBe(page.NextMarker !== undefined);
      marker = page.NextMarker;
      if (pages === 0) {
        // Sorts before every key already listed: it must not push a listed key onto the next page.
        const early = cmkRecord(setup.storeId, setup.clusterId, '00000000-0000-4000-8000-000000000000');
        await wb.editState((s) => s.keys.put(early));
      }
      pages += 1;
    } while (marker !== undefined);
    expect(seen).toEqual(all.map((k) => k.KeyId));
    expect(ok(await wb.call('ListKeys', {})).Keys.length).toBe(all.length + 1);
  });

  it('refuses a marker it did not hand out', async () => {
    for (const Marker of ['not-a-marker', Buffer.from('after:zzz').toString('base64url'), 'a b'])
      await refused(() => wb.call('ListKeys', { Marker }), 'InvalidMarkerException', /Marker is not one a previous ListKeys returned/);
    await refused(() => wb.call('DescribeKeys', { Marker: 'x' }), 'InvalidMarkerException', /DescribeKeys/);
  });

  it('DescribeKeys gives KeyMetadata with alias names, filtered by store, and refuses an unknown store', async () => {
    const key = await createTestCmk(wb, hsm, setup);
    await wb.editState((s) => {
      for (const name of ['alias/b-row', 'alias/a-row']) s.aliases.put({ AliasName: name, TargetKeyId: key.KeyId, CreationDate: NOW.toISOString(), LastUpdatedDate: NOW.toISOString() });
      s.keys.put(cmkRecord('cks-00000000000000001', setup.clusterId));
    });
    const rows = ok(await wb.call('DescribeKeys', { CustomKeyStoreId: setup.storeId, Limit: 10_000 })).Keys;
    expect(rows.every((r) => r.CustomKeyStoreId === setup.storeId)).toBe(true);
    expect(rows.find((r) => r.KeyId === key.KeyId)).toMatchObject({ KeyState: 'Enabled', AliasNames: ['alias/a-row', 'alias/b-row'] });
    const everything = ok(await wb.call('DescribeKeys', {})).Keys;
    expect(everything.length).toBe(rows.length + 1);
    await refused(() => wb.call('DescribeKeys', { CustomKeyStoreId: 'cks-99999999999999999' }), 'CustomKeyStoreNotFoundException', /cks-99999999999999999/);
  });

  it('DescribeKeys stays fast at 10,000 keys', async () => {
    await wb.editState((s) => {
      for (let i = 0; i < 10_000; i += 1) s.keys.put(cmkRecord(setup.storeId, setup.clusterId));
    });
    const started = performance.now();
    const first = ok(await wb.call('DescribeKeys', { Limit: 10_000 }));
    const ms = performance.now() - started;
    expect(first.Keys).toHaveLength(10_000);
    expect(first.Truncated).toBe(true);
    console.log(`DescribeKeys of 10,000 keys (of ${10_000 + 60}): ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(3_000);
  }, 60_000);
});

describe('operations a custom key store cannot do', () => {
  it('finds the key first, then answers UnsupportedOperationException saying why', async () => {
    const key = await createTestCmk(wb, hsm, setup);
    await refused(() => wb.call('EnableKeyRotation', { KeyId: randomUUID() }), 'NotFoundException', /does not exist/);
    await refused(() => wb.call('EnableKeyRotation', { KeyId: key.KeyId }), 'UnsupportedOperationException', /custom key store/);
    await refused(() => wb.call('GetParametersForImport', { KeyId: key.KeyId, WrappingAlgorithm: 'RSAES_OAEP_SHA_256', WrappingKeySpec: 'RSA_2048' }), 'UnsupportedOperationException', /imported key material/);
    await refused(() => wb.call('ImportKeyMaterial', { KeyId: key.KeyId, ImportToken: 'AQID', EncryptedKeyMaterial: 'AQID' }), 'UnsupportedOperationException', /imported key material/);
  });
});
