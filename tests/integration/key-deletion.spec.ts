import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackingKeyDeletionStatus } from '../../shared/contract/keys';
import { openStateStore, type WorkbenchState } from '../../main/state/state-store';
import { connect, connectedStore, createTestCmk, kmsuserPinOf, peerCountKeys, type StoreSetup } from '../fixtures/cmk';
import { injectFaults, type FaultInjection } from '../fixtures/fault-module';
import { ok } from '../fixtures/outcomes';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';

/**
 * Scheduled deletion with the test-controlled clock on real SoftHSM tokens: nothing before the date; at it the
 * CMK record and its aliases go, the material is destroyed on every member (pkcs11-tool, logged in as kmsuser,
 * finds none), and a DeleteKey AwsServiceEvent says SUCCESS per HSM. Material the executor cannot reach (a
 * disconnected store, an HSM failing at the due time) is FAILURE, stays findable (orphan record + pkcs11-tool)
 * and is destroyed by a later run once it can be reached.
 */

const PASSWORD = 'kmsuser-pass-1';
const DAY = 86_400_000;
let now = new Date('2026-03-01T12:00:00.000Z');
const clock = (): Date => now;

async function readState(wb: TestWorkbench): Promise<WorkbenchState> {
  return (await openStateStore({ stateDir: wb.stateDir, program: 'test' })).read();
}

async function materialCounts(wb: TestWorkbench, hsm: SoftHsmCluster, setup: StoreSetup, arn: string): Promise<number[]> {
  const pin = await kmsuserPinOf(wb, setup.storeId);
  return Promise.all(hsm.tokens.map((_, i) => peerCountKeys(hsm, i, pin, arn)));
}

interface DeleteKeyEvent {
  eventType: string;
  eventName: string;
  additionalEventData: { keyId: string; customKeyStoreId: string; clusterId: string; backingKeys: string; backingKeysDeletionStatus: string };
}

async function deleteKeyEvents(wb: TestWorkbench, keyId: string): Promise<DeleteKeyEvent[]> {
  return ((await wb.auditRecords()) as unknown as DeleteKeyEvent[]).filter((r) => r.eventName === 'DeleteKey' && r.additionalEventData.keyId === keyId);
}

const statusesOf = (statuses: readonly BackingKeyDeletionStatus[]): string[] => statuses.map((s) => s.DeletionStatus);

describe('scheduled deletion on a two-token cluster', () => {
  let hsm: SoftHsmCluster;
  let wb: TestWorkbench;
  let setup: StoreSetup;

  beforeAll(async () => {
    hsm = await createSoftHsmCluster({ tokens: 2, userPin: PASSWORD, labelPrefix: 'del' });
    wb = await createTestWorkbench({ clock });
    setup = await connectedStore(wb, hsm, PASSWORD);
  }, 120_000);

  afterAll(async () => {
    await wb?.dispose();
    await hsm?.cleanup();
  });

  it('deletes nothing before the deletion date, then the record, its aliases and the material on every HSM, audited SUCCESS per HSM', async () => {
    const key = await createTestCmk(wb, hsm, setup);
    await wb.editState((s) => s.aliases.put({ AliasName: 'alias/doomed', TargetKeyId: key.KeyId, CreationDate: now.toISOString(), LastUpdatedDate: now.toISOString() }));
    ok(await wb.call('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: 7 }));
    expect(await materialCounts(wb, hsm, setup, key.Arn)).toEqual([1, 1]);

    now = new Date(now.getTime() + 7 * DAY - 1);
    expect(ok(await wb.call('RunDeletions', {})).Deleted).toEqual([]);
    expect((await readState(wb)).keys.has(key.KeyId)).toBe(true);

    now = new Date(now.getTime() + 1);
    const [deleted] = ok(await wb.call('RunDeletions', {})).Deleted;
    expect(deleted?.KeyId).toBe(key.KeyId);
    expect(statusesOf(deleted?.BackingKeysDeletionStatus ?? [])).toEqual(['SUCCESS', 'SUCCESS']);
    const s = await readState(wb);
    expect(s.keys.has(key.KeyId)).toBe(false);
    expect(s.aliases.has('alias/doomed')).toBe(false);
    expect(s.orphans.size).toBe(0);
    expect(await materialCounts(wb, hsm, setup, key.Arn)).toEqual([0, 0]);
    expect(await wb.call('DescribeKey', { KeyId: key.KeyId })).toMatchObject({ ok: false, error: { name: 'NotFoundException' } });

    const [event] = await deleteKeyEvents(wb, key.KeyId);
    expect(event).toMatchObject({ eventType: 'AwsServiceEvent', additionalEventData: { customKeyStoreId: setup.storeId, clusterId: setup.clusterId } });
    const status = JSON.parse(event?.additionalEventData.backingKeysDeletionStatus ?? '[]') as Array<{ deletionStatus: string; backingKeyId: string }>;
    expect(status.map((b) => b.deletionStatus)).toEqual(['SUCCESS', 'SUCCESS']);
    expect(JSON.parse(event?.additionalEventData.backingKeys ?? '[]')).toHaveLength(2);
  });

  it('behind a disconnected store deletes the record, reports FAILURE for material it cannot reach, and destroys it after the store is connected', async () => {
    const key = await createTestCmk(wb, hsm, setup);
    ok(await wb.call('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: 7 }));
    ok(await wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: setup.storeId }));
    now = new Date(now.getTime() + 8 * DAY);

    const [deleted] = ok(await wb.call('RunDeletions', {})).Deleted;
    expect(statusesOf(deleted?.BackingKeysDeletionStatus ?? [])).toEqual(['FAILURE', 'FAILURE']);
    expect(deleted?.BackingKeysDeletionStatus[0]?.Detail).toMatch(/is DISCONNECTED/);
    let s = await readState(wb);
    expect(s.keys.has(key.KeyId)).toBe(false);
    expect(s.orphans.get(key.KeyId)).toMatchObject({ Reason: 'DELETED', HsmIds: expect.arrayContaining([expect.any(String), expect.any(String)]), LastFailure: expect.stringMatching(/DISCONNECTED/) });
    expect(await materialCounts(wb, hsm, setup, key.Arn)).toEqual([1, 1]);
    // Not retried while the store stays disconnected: it would only say FAILURE again.
    expect(ok(await wb.call('RunDeletions', {})).Deleted).toEqual([]);

    await connect(wb, setup.storeId);
    const [retried] = ok(await wb.call('RunDeletions', {})).Deleted;
    expect(retried?.KeyId).toBe(key.KeyId);
    expect(statusesOf(retried?.BackingKeysDeletionStatus ?? [])).toEqual(['SUCCESS', 'SUCCESS']);
    s = await readState(wb);
    expect(s.orphans.has(key.KeyId)).toBe(false);
    expect(await materialCounts(wb, hsm, setup, key.Arn)).toEqual([0, 0]);
    expect((await deleteKeyEvents(wb, key.KeyId)).map((e) => JSON.parse(e.additionalEventData.backingKeysDeletionStatus).map((b: { deletionStatus: string }) => b.deletionStatus))).toEqual([
      ['FAILURE', 'FAILURE'],
      ['SUCCESS', 'SUCCESS'],
    ]);
  });

  it('runs due deletions by itself in a GUI core (start-up and periodic runs)', async () => {
    const key = await createTestCmk(wb, hsm, setup);
    ok(await wb.call('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: 7 }));
    const gui = await createTestWorkbench({ stateDir: wb.stateDir, clock, healthProbeMs: 60_000, deletionCheckMs: 100 });
    try {
      await new Promise((r) => setTimeout(r, 500));
      expect((await readState(wb)).keys.has(key.KeyId)).toBe(true);
      now = new Date(now.getTime() + 7 * DAY);
      for (let i = 0; i < 100 && (await readState(wb)).keys.has(key.KeyId); i += 1) await new Promise((r) => setTimeout(r, 100));
      expect((await readState(wb)).keys.has(key.KeyId)).toBe(false);
      for (let i = 0; i < 100 && (await deleteKeyEvents(wb, key.KeyId)).length === 0; i += 1) await new Promise((r) => setTimeout(r, 100));
      expect(await materialCounts(wb, hsm, setup, key.Arn)).toEqual([0, 0]);
    } finally {
      await gui.dispose();
    }
  }, 60_000);

  // The GUI test's flake: its start-up login and a due deletion's login ran side by side in one host child; the
  // second C_Login met CKR_USER_ALREADY_LOGGED_IN and failed the store, so the deletion reported FAILURE and the material stayed.
  it('logs in once when a due deletion and an Encrypt need the sessions at the same time (the store stays CONNECTED)', async () => {
    const doomed = await createTestCmk(wb, hsm, setup);
    const kept = await createTestCmk(wb, hsm, setup);
    ok(await wb.call('ScheduleKeyDeletion', { KeyId: doomed.KeyId, PendingWindowInDays: 7 }));
    now = new Date(now.getTime() + 8 * DAY);
    // A later process (a CLI run): it holds no sessions, so both calls ask ensureSessions to log in.
    const later = await createTestWorkbench({ stateDir: wb.stateDir, clock });
    try {
      const [run, encrypted] = await Promise.all([later.call('RunDeletions', {}), later.call('Encrypt', { KeyId: kept.KeyId, Plaintext: Buffer.from('both').toString('base64') })]);
      ok(encrypted);
      expect(ok(run).Deleted.map((d) => [d.KeyId, statusesOf(d.BackingKeysDeletionStatus)])).toEqual([[doomed.KeyId, ['SUCCESS', 'SUCCESS']]]);
      const [store] = ok(await later.call('DescribeCustomKeyStores', { CustomKeyStoreId: setup.storeId })).CustomKeyStores;
      expect(store?.ConnectionState).toBe('CONNECTED');
      expect(await materialCounts(wb, hsm, setup, doomed.Arn)).toEqual([0, 0]);
    } finally {
      await later.dispose();
    }
  });
});

describe('an HSM that fails at the due time', () => {
  let hsm: SoftHsmCluster;
  let faults: FaultInjection;
  let wb: TestWorkbench;
  let setup: StoreSetup;

  beforeAll(async () => {
    hsm = await createSoftHsmCluster({ tokens: 2, userPin: PASSWORD, labelPrefix: 'flt' });
    faults = await injectFaults(hsm);
    wb = await createTestWorkbench({ clock });
    setup = await connectedStore(wb, hsm, PASSWORD, { ModulePath: faults.modulePath, ModuleEnvironment: faults.env });
  }, 120_000);

  afterAll(async () => {
    await wb?.dispose();
    await faults?.cleanup();
    await hsm?.cleanup();
  });

  it('reports FAILURE for that HSM only, leaves its material findable, and a later run destroys it', async () => {
    const key = await createTestCmk(wb, hsm, setup);
    ok(await wb.call('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: 7 }));
    now = new Date(now.getTime() + 8 * DAY);
    await faults.setFaults([{ function: 'C_DestroyObject', returns: 'CKR_DEVICE_ERROR', slot: hsm.tokens[1]?.serial ?? '' }]);

    const [deleted] = ok(await wb.call('RunDeletions', {})).Deleted;
    expect(statusesOf(deleted?.BackingKeysDeletionStatus ?? [])).toEqual(['SUCCESS', 'FAILURE']);
    expect(deleted?.BackingKeysDeletionStatus[1]?.Detail).toMatch(/CKR_DEVICE_ERROR|Pkcs11|HsmHost/);
    const failedHsm = deleted?.BackingKeysDeletionStatus[1]?.HsmId;
    expect((await readState(wb)).orphans.get(key.KeyId)).toMatchObject({ HsmIds: [failedHsm], LastFailure: expect.stringContaining(String(failedHsm)) });
    expect(await materialCounts(wb, hsm, setup, key.Arn)).toEqual([0, 1]);
    const [event] = await deleteKeyEvents(wb, key.KeyId);
    expect(JSON.parse(event?.additionalEventData.backingKeysDeletionStatus ?? '[]').map((b: { deletionStatus: string }) => b.deletionStatus)).toEqual(['SUCCESS', 'FAILURE']);

    // The HSM is back. The device error lost only that member's session: the store stayed CONNECTED on the other. This
    // core runs no health probe to log the member in again, so the admin reconnects (disconnect first, as AWS requires).
    await faults.setFaults([]);
    const [store] = ok(await wb.call('DescribeCustomKeyStores', { CustomKeyStoreId: setup.storeId })).CustomKeyStores;
    expect(store?.ConnectionState).toBe('CONNECTED');
    ok(await wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: setup.storeId }));
    await connect(wb, setup.storeId);
    const [retried] = ok(await wb.call('RunDeletions', {})).Deleted;
    expect(retried?.BackingKeysDeletionStatus.map((b) => [b.HsmId, b.DeletionStatus])).toEqual([[failedHsm, 'SUCCESS']]);
    expect((await readState(wb)).orphans.has(key.KeyId)).toBe(false);
    expect(await materialCounts(wb, hsm, setup, key.Arn)).toEqual([0, 0]);
  });
});
