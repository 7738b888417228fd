import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyArn, LOCAL_PARTITION } from '../../main/keys/arn';
import type { CmkRecord } from '../../main/state/records';
import { openStateStore, type WorkbenchState } from '../../main/state/state-store';
import { connect, connectedStore, createCmkMaterial, kmsuserPinOf, peerCountKeys, type StoreSetup } from '../fixtures/cmk';
import { injectFaults, type FaultInjection } from '../fixtures/fault-module';
import { ok } from '../fixtures/outcomes';
import { cmkRecord } from '../fixtures/records';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';

/**
 * The creation reconciler on real SoftHSM tokens: a 'Creating' record as a CreateKey killed mid-way leaves it (its owner
 * pid dead, every member in Touched), with material put on the tokens by the test. RunDeletions and a connect run the
 * reconciler; pkcs11-tool, logged in as kmsuser, is the independent judge of what is left on each token.
 */

const PASSWORD = 'kmsuser-pass-1';
let hsm: SoftHsmCluster;
let faults: FaultInjection;
let wb: TestWorkbench;
let setup: StoreSetup;
let hsmIds: string[];
let sleeper: ChildProcess | undefined;
/** Set once a core is opened on a directory it does not own: removed at the end. */
let stateDir: string | undefined;

/** A pid no process has any more: a child that has exited. */
const deadPid = (): number => {
  const pid = spawnSync('true').pid;
  if (pid === undefined) throw new Error('no pid');
  return pid;
};

async function readState(): Promise<WorkbenchState> {
  return (await openStateStore({ stateDir: wb.stateDir, program: 'test' })).read();
}

/** A creation interrupted after every member was touched: material on `tokens`, the record still 'Creating', its owner `pid`. */
async function interruptedCreation(tokens: readonly number[], pid = deadPid()): Promise<CmkRecord> {
  const keyId = randomUUID();
  const arn = keyArn(LOCAL_PARTITION, keyId);
  createCmkMaterial(hsm, await kmsuserPinOf(wb, setup.storeId), { KeyId: keyId, Arn: arn }, tokens);
  const since = new Date().toISOString();
  const record: CmkRecord = {
    ...cmkRecord(setup.storeId, setup.clusterId, keyId),
    Arn: arn,
    KeyState: 'Creating',
    Creation: { StartedAt: since, Owner: { Pid: pid, Host: hostname(), Since: since }, SourceHsmId: hsmIds[0] ?? '', Touched: [...hsmIds] },
  };
  await wb.editState((s) => s.keys.put(record));
  return record;
}

async function counts(arn: string): Promise<number[]> {
  const pin = await kmsuserPinOf(wb, setup.storeId);
  return Promise.all(hsm.tokens.map((_, i) => peerCountKeys(hsm, i, pin, arn)));
}

async function serviceEvents(name: string, keyId: string): Promise<Array<{ eventType: string; additionalEventData: Record<string, string> }>> {
  return ((await wb.auditRecords()) as unknown as Array<{ eventName: string; eventType: string; additionalEventData: Record<string, string> }>).filter((r) => r.eventName === name && r.additionalEventData.keyId === keyId);
}

beforeAll(async () => {
  hsm = await createSoftHsmCluster({ tokens: 2, userPin: PASSWORD, labelPrefix: 'rec' });
  faults = await injectFaults(hsm);
  wb = await createTestWorkbench();
  setup = await connectedStore(wb, hsm, PASSWORD, { ModulePath: faults.modulePath, ModuleEnvironment: faults.env });
  hsmIds = (await readState()).clusters.find((c) => c.ClusterId === setup.clusterId)?.Hsms.map((h) => h.HsmId) ?? [];
}, 120_000);

afterAll(async () => {
  sleeper?.kill();
  await wb?.dispose();
  if (stateDir !== undefined) await rm(stateDir, { recursive: true, force: true });
  await faults?.cleanup();
  await hsm?.cleanup();
});

describe('the creation reconciler', () => {
  it('completes a dead creation whose material is on every member it touched: Enabled, both copies VERIFIED, audited', async () => {
    const key = await interruptedCreation([0, 1]);
    ok(await wb.call('RunDeletions', {}));
    const { KeyMetadata: metadata } = ok(await wb.call('DescribeKey', { KeyId: key.KeyId }));
    expect(metadata).toMatchObject({ KeyState: 'Enabled', Enabled: true });
    const record = (await readState()).keys.get(key.KeyId);
    expect(record?.Creation).toBeUndefined();
    expect(record?.BackingKeys.map((b) => [b.HsmId, b.Verification])).toEqual(hsmIds.map((h) => [h, 'VERIFIED']));
    const material = ok(await wb.call('DescribeKeyMaterial', { KeyId: key.KeyId }));
    expect(material.BackingKeys.map((b) => b.Verification)).toEqual(['VERIFIED', 'VERIFIED']);
    expect(material.BackingKeys[1]?.CheckValue).toBe(material.BackingKeys[0]?.CheckValue);
    const [event] = await serviceEvents('CompleteKeyCreation', key.KeyId);
    expect(event?.eventType).toBe('AwsServiceEvent');
    expect(JSON.parse(event?.additionalEventData.backingKeys ?? '[]')).toHaveLength(2);
    expect(await counts(key.Arn)).toEqual([1, 1]);
  });

  it('abandons a dead creation whose material reached one member: record gone, material destroyed, no orphan left', async () => {
    const key = await interruptedCreation([0]);
    expect(await counts(key.Arn)).toEqual([1, 0]);
    ok(await wb.call('RunDeletions', {}));
    expect(await wb.call('DescribeKey', { KeyId: key.KeyId })).toMatchObject({ ok: false, error: { name: 'NotFoundException' } });
    const s = await readState();
    expect(s.keys.has(key.KeyId)).toBe(false);
    expect(s.orphans.has(key.KeyId)).toBe(false);
    expect(await counts(key.Arn)).toEqual([0, 0]);
    const [event] = await serviceEvents('AbandonKeyCreation', key.KeyId);
    expect(event?.additionalEventData.reason).toContain(`${hsmIds[1]}: holds no copy`);
    expect(JSON.parse(event?.additionalEventData.backingKeysDeletionStatus ?? '[]').map((b: { deletionStatus: string }) => b.deletionStatus)).toEqual(['SUCCESS', 'SUCCESS']);
  });

  it("abandons a creation recorded under this process's pid that no call of it runs (an earlier process with the same pid, as a container's pid 1)", async () => {
    const key = await interruptedCreation([0], process.pid);
    ok(await wb.call('RunDeletions', {}));
    expect((await readState()).keys.has(key.KeyId)).toBe(false);
    expect(await counts(key.Arn)).toEqual([0, 0]);
  });

  it('keeps an orphan record naming a member it could not reach, and a connect later destroys that material', async () => {
    const key = await interruptedCreation([0, 1]);
    const unreachable = hsmIds[1];
    await faults.setFaults([{ function: 'C_FindObjectsInit', returns: 'CKR_FUNCTION_FAILED', slot: hsm.tokens[1]?.serial ?? '' }]);
    try {
      ok(await wb.call('RunDeletions', {}));
    } finally {
      await faults.setFaults([]);
    }
    const s = await readState();
    expect(s.keys.has(key.KeyId)).toBe(false);
    expect(s.orphans.get(key.KeyId)).toMatchObject({ Reason: 'CREATION_ABANDONED', HsmIds: [unreachable], LastFailure: expect.stringContaining(String(unreachable)) });
    expect(await counts(key.Arn)).toEqual([0, 1]);

    // The connect hook retries the pending orphan once the member answers again.
    ok(await wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: setup.storeId }));
    await connect(wb, setup.storeId);
    for (let i = 0; i < 200 && (await readState()).orphans.has(key.KeyId); i += 1) await new Promise((r) => setTimeout(r, 50));
    expect((await readState()).orphans.has(key.KeyId)).toBe(false);
    expect(await counts(key.Arn)).toEqual([0, 0]);
    expect((await serviceEvents('AbandonKeyCreation', key.KeyId)).length).toBe(2);
  });

  it('leaves alone a creation whose owner process is alive', async () => {
    sleeper = spawn('sleep', ['60']);
    const key = await interruptedCreation([0], sleeper.pid);
    const before = (await readState()).keys.get(key.KeyId);
    ok(await wb.call('RunDeletions', {}));
    expect((await readState()).keys.get(key.KeyId)).toEqual(before);
    expect(await counts(key.Arn)).toEqual([1, 0]);
    sleeper.kill();
    await new Promise((r) => sleeper?.once('exit', r));
    // Its owner gone, the next run rolls it back.
    ok(await wb.call('RunDeletions', {}));
    expect((await readState()).keys.has(key.KeyId)).toBe(false);
    expect(await counts(key.Arn)).toEqual([0, 0]);
  });

  it('runs when a GUI core starts on the state directory', async () => {
    const key = await interruptedCreation([0, 1]);
    // The GUI logs in to the store's members itself: this process's other core lets go of them first (its directory stays).
    stateDir = wb.stateDir;
    await wb.core.dispose();
    wb = await createTestWorkbench({ stateDir, healthProbeMs: 60_000 });
    for (let i = 0; i < 200 && (await readState()).keys.get(key.KeyId)?.KeyState === 'Creating'; i += 1) await new Promise((r) => setTimeout(r, 50));
    expect((await readState()).keys.get(key.KeyId)?.KeyState).toBe('Enabled');
  });
});
