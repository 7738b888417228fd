import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CustomKeyStoreInfo } from '../../shared/contract/key-stores';
import type { ErrorName } from '../../shared/errors';
import { activateCluster, makeClusterPki, type ClusterPki } from '../fixtures/cluster-pki';
import { ok } from '../fixtures/outcomes';
import { cmkRecord } from '../fixtures/records';
import { expectNoSecretInText, expectNoSecretOnDisk } from '../fixtures/secret-scan';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';

/**
 * The custom key store lifecycle on real SoftHSM2 tokens: create with every refusal and the idempotent
 * retry, connect (log in as kmsuser on every member, rotate the password), a later process that logs in
 * with the rotated password, update, disconnect, delete. Every refusal is AWS's exception, changes nothing
 * and is audited; the kmsuser password is nowhere on disk or in a record in clear.
 */

const PASSWORD = 'kmsuser-pass-1';
let hsm: SoftHsmCluster;
let wb: TestWorkbench;
let pki: ClusterPki;
let clusterId: string;
let spareCluster: string;
let uninitialized: string;

function pkcs11ToolLogin(h: SoftHsmCluster, serial: string, pin: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('pkcs11-tool', ['--module', h.modulePath, '--token-label', h.tokens.find((t) => t.serial === serial)?.label ?? '', '--login', '--pin', pin, '-O'], { env: { ...process.env, ...h.env } }, (error) =>
      resolve(error === null),
    );
  });
}

async function describeStore(id: string): Promise<CustomKeyStoreInfo> {
  const [store] = ok(await wb.call('DescribeCustomKeyStores', { CustomKeyStoreId: id })).CustomKeyStores;
  if (!store) throw new Error('no store');
  return store;
}

async function settled(id: string): Promise<CustomKeyStoreInfo> {
  for (let i = 0; i < 200; i += 1) {
    const store = await describeStore(id);
    if (store.ConnectionState !== 'CONNECTING') return store;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('still CONNECTING');
}

/** Calls an operation that must be refused: the AWS exception, the state file as it was, a Failed/refused audit record. */
async function refused(call: () => Promise<{ ok: boolean; error?: { name: ErrorName; message: string } }>, name: ErrorName, message: RegExp): Promise<void> {
  const before = await wb.stateText();
  const records = (await wb.auditRecords()).length;
  const result = await call();
  expect(result.ok).toBe(false);
  expect(result.error?.name).toBe(name);
  expect(result.error?.message).toMatch(message);
  expect(await wb.stateText()).toBe(before);
  const last = (await wb.auditRecords()).slice(records).at(-1);
  expect(String(last?.errorCode)).toContain(name);
}

beforeAll(async () => {
  hsm = await createSoftHsmCluster({ tokens: 4, userPin: PASSWORD, labelPrefix: 'ks' });
  wb = await createTestWorkbench();
  pki = await makeClusterPki();
  const module = { ModulePath: hsm.modulePath, ModuleEnvironment: hsm.env };
  const [t1, t2, t3, t4] = hsm.tokens;
  clusterId = ok(await wb.call('CreateCluster', { ClusterName: 'prod', ...module, Hsms: [{ TokenSerial: t1?.serial }, { TokenSerial: t2?.serial }] })).Cluster.ClusterId;
  spareCluster = ok(await wb.call('CreateCluster', { ClusterName: 'restored', ...module, Hsms: [{ TokenSerial: t3?.serial }] })).Cluster.ClusterId;
  uninitialized = ok(await wb.call('CreateCluster', { ClusterName: 'fresh', ...module, Hsms: [{ TokenSerial: t4?.serial }] })).Cluster.ClusterId;
  await wb.editState((s) => {
    activateCluster(s, clusterId, pki);
    // Restored from prod's backups: the same cluster certificate.
    activateCluster(s, spareCluster, pki);
  });
}, 60_000);

afterAll(async () => {
  await wb?.dispose();
  await hsm?.cleanup();
});

describe('custom key store lifecycle', () => {
  let id = '';
  const create = (over: Record<string, unknown> = {}): ReturnType<TestWorkbench['call']> =>
    wb.call('CreateCustomKeyStore', { CustomKeyStoreName: 'ExampleKeyStore', CloudHsmClusterId: clusterId, TrustAnchorCertificate: pki.trustAnchor, KeyStorePassword: PASSWORD, ...over } as never);

  it('creates a DISCONNECTED store with a cks- id, and a retried identical create returns the same id', async () => {
    id = (ok(await create()) as { CustomKeyStoreId: string }).CustomKeyStoreId;
    expect(id).toMatch(/^cks-[0-9a-f]{17}$/);
    const store = await describeStore(id);
    expect(store).toEqual({
      CustomKeyStoreId: id,
      CustomKeyStoreName: 'ExampleKeyStore',
      CloudHsmClusterId: clusterId,
      TrustAnchorCertificate: pki.trustAnchor,
      ConnectionState: 'DISCONNECTED',
      CreationDate: expect.any(String),
      CustomKeyStoreType: 'AWS_CLOUDHSM',
    });
    expect((ok(await create()) as { CustomKeyStoreId: string }).CustomKeyStoreId).toBe(id);
    expect(ok(await wb.call('DescribeCustomKeyStores', { CustomKeyStoreName: 'ExampleKeyStore' })).CustomKeyStores.map((k) => k.CustomKeyStoreId)).toEqual([id]);
    const create1 = (await wb.auditRecords()).filter((r) => r.eventName === 'CreateCustomKeyStore');
    expect(create1.at(-1)?.additionalEventData).toMatchObject({ customKeyStoreName: 'ExampleKeyStore', clusterId });
    expect(JSON.stringify(create1)).not.toContain('BEGIN CERTIFICATE');
  });

  it('refuses every bad create with the AWS exception, changing nothing', async () => {
    const other = await makeClusterPki('Some other CA');
    await refused(() => create({ KeyStorePassword: 'other-password' }), 'CustomKeyStoreNameInUseException', /already exists/);
    // AWS compares store names exactly: a name differing only in case is another name (here refused for its cluster, not its name).
    await refused(() => create({ CustomKeyStoreName: 'examplekeystore' }), 'CloudHsmClusterInUseException', /already used by custom key store/);
    await refused(() => wb.call('DescribeCustomKeyStores', { CustomKeyStoreName: 'examplekeystore' }), 'CustomKeyStoreNotFoundException', /named "examplekeystore"/);
    await refused(() => create({ CustomKeyStoreName: 'second' }), 'CloudHsmClusterInUseException', new RegExp(`already used by custom key store ${id}`));
    await refused(() => create({ CustomKeyStoreName: 'second', CloudHsmClusterId: uninitialized }), 'CloudHsmClusterNotActiveException', /is UNINITIALIZED, not ACTIVE/);
    await refused(() => create({ CustomKeyStoreName: 'second', CloudHsmClusterId: 'cluster-zzzzzzzzzzz' }), 'CloudHsmClusterNotFoundException', /There is no cluster/);
    await refused(() => create({ CustomKeyStoreName: 'second', CloudHsmClusterId: spareCluster, TrustAnchorCertificate: other.trustAnchor }), 'IncorrectTrustAnchorException', /did not issue the cluster certificate/);
    await refused(() => create({ CustomKeyStoreName: 'second', CloudHsmClusterId: spareCluster, TrustAnchorCertificate: 'hello' }), 'ValidationException', /TrustAnchorCertificate is not a certificate/);
    await refused(() => create({ CustomKeyStoreName: 'second', KeyStorePassword: '123456' }), 'ValidationException', /KeyStorePassword is 7 to 32 characters/);
    await refused(() => create({ CustomKeyStoreName: 'second', KeyStorePassword: 'x'.repeat(33) }), 'ValidationException', /KeyStorePassword is 7 to 32 characters/);
    await refused(() => wb.call('DescribeCustomKeyStores', { CustomKeyStoreId: 'cks-00000000000000000' }), 'CustomKeyStoreNotFoundException', /There is no custom key store/);
    await refused(() => wb.call('ConnectCustomKeyStore', { CustomKeyStoreId: 'cks-00000000000000000' }), 'CustomKeyStoreNotFoundException', /There is no custom key store/);
    await refused(() => wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: id }), 'CustomKeyStoreInvalidStateException', /is DISCONNECTED/);
  });

  it('connects: CONNECTING at once, then CONNECTED with the kmsuser password rotated on every member', async () => {
    expect(ok(await wb.call('ConnectCustomKeyStore', { CustomKeyStoreId: id }))).toEqual({});
    const store = await settled(id);
    expect(store.ConnectionState).toBe('CONNECTED');
    expect(store.ConnectionErrorCode).toBeUndefined();
    for (const token of hsm.tokens.slice(0, 2)) expect(await pkcs11ToolLogin(hsm, token.serial, PASSWORD)).toBe(false);
    const connection = ok(await wb.call('DescribeKeyStoreConnection', { CustomKeyStoreId: id })).Connection;
    expect(connection.Hsms.map((h) => h.SessionHeld)).toEqual([true, true]);
    const connect = (await wb.auditRecords()).filter((r) => r.eventName === 'ConnectCustomKeyStore');
    expect(connect.find((r) => (r.additionalEventData as { auditPhase?: string }).auditPhase === 'Completed')?.additionalEventData).toMatchObject({ customKeyStoreName: 'ExampleKeyStore', clusterId });
    expect(connect.filter((r) => (r.additionalEventData as { step?: { name: string } }).step?.name === 'RotateKmsuserPassword')).toHaveLength(2);
    const cluster = JSON.parse((await wb.stateText()) ?? '{}').clusters[0];
    for (const member of cluster.Hsms) expect(member.Kmsuser.LastRotation).toEqual(expect.any(String));
  });

  it('refuses what a CONNECTED store may not do, and allows a rename', async () => {
    await refused(() => wb.call('ConnectCustomKeyStore', { CustomKeyStoreId: id }), 'CustomKeyStoreInvalidStateException', /is CONNECTED; it is already connected/);
    await refused(() => wb.call('UpdateCustomKeyStore', { CustomKeyStoreId: id, KeyStorePassword: 'new-password-1' }), 'CustomKeyStoreInvalidStateException', /needs DISCONNECTED/);
    await refused(() => wb.call('UpdateCustomKeyStore', { CustomKeyStoreId: id, CloudHsmClusterId: spareCluster }), 'CustomKeyStoreInvalidStateException', /needs DISCONNECTED/);
    await refused(() => wb.call('DeleteCustomKeyStore', { CustomKeyStoreId: id }), 'CustomKeyStoreInvalidStateException', /delete needs DISCONNECTED/);
    expect(ok(await wb.call('UpdateCustomKeyStore', { CustomKeyStoreId: id, NewCustomKeyStoreName: 'Renamed' }))).toEqual({});
    expect((await describeStore(id)).CustomKeyStoreName).toBe('Renamed');
  });

  it('stays CONNECTED after the process ends; a later process logs in with the rotated password and holds its sessions', async () => {
    await wb.core.dispose();
    const later = await createTestWorkbench({ stateDir: wb.stateDir, healthProbeMs: 1_000 });
    try {
      const [store] = ok(await later.call('DescribeCustomKeyStores', { CustomKeyStoreId: id })).CustomKeyStores;
      expect(store?.ConnectionState).toBe('CONNECTED');
      // It logs in at start, in the background (the GUI's core).
      let held: boolean[] = [];
      for (let i = 0; i < 100 && !(held.length === 2 && held.every(Boolean)); i += 1) {
        await new Promise((r) => setTimeout(r, 50));
        held = ok(await later.call('DescribeKeyStoreConnection', { CustomKeyStoreId: id })).Connection.Hsms.map((h) => h.SessionHeld);
      }
      expect(held).toEqual([true, true]);
      expect(ok(await later.call('DisconnectCustomKeyStore', { CustomKeyStoreId: id }))).toEqual({});
      expect(ok(await later.call('DescribeKeyStoreConnection', { CustomKeyStoreId: id })).Connection.Hsms.map((h) => h.SessionHeld)).toEqual([false, false]);
    } finally {
      await later.core.dispose();
    }
    wb = await createTestWorkbench({ stateDir: wb.stateDir });
    expect((await describeStore(id)).ConnectionState).toBe('DISCONNECTED');
    await refused(() => wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: id }), 'CustomKeyStoreInvalidStateException', /is DISCONNECTED/);
  });

  it('moves to a related cluster only (same cluster certificate)', async () => {
    const unrelated = await makeClusterPki('Unrelated CA');
    await wb.editState((s) => activateCluster(s, uninitialized, unrelated));
    await refused(() => wb.call('UpdateCustomKeyStore', { CustomKeyStoreId: id, CloudHsmClusterId: uninitialized }), 'CloudHsmClusterNotRelatedException', /not related/);
    expect(ok(await wb.call('UpdateCustomKeyStore', { CustomKeyStoreId: id, CloudHsmClusterId: spareCluster }))).toEqual({});
    expect((await describeStore(id)).CloudHsmClusterId).toBe(spareCluster);
    expect(ok(await wb.call('UpdateCustomKeyStore', { CustomKeyStoreId: id, CloudHsmClusterId: clusterId }))).toEqual({});
  });

  it('deletes only a store with no CMKs; the cluster stays', async () => {
    await wb.editState((s) => {
      s.keys.put(cmkRecord(id, clusterId, '1234abcd-12ab-34cd-56ef-1234567890ab'));
    });
    await refused(() => wb.call('DeleteCustomKeyStore', { CustomKeyStoreId: id }), 'CustomKeyStoreHasCMKsException', /holds 1 KMS key/);
    await wb.editState((s) => {
      s.keys.delete('1234abcd-12ab-34cd-56ef-1234567890ab');
    });
    expect(ok(await wb.call('DeleteCustomKeyStore', { CustomKeyStoreId: id }))).toEqual({});
    expect(ok(await wb.call('DescribeCustomKeyStores', {})).CustomKeyStores).toEqual([]);
    expect(ok(await wb.call('DescribeClusters', { ClusterIds: [clusterId] })).Clusters).toHaveLength(1);
  });

  it('never holds a kmsuser password in clear: state directory, audit log, logs', async () => {
    await expectNoSecretOnDisk(wb.stateDir, [PASSWORD]);
    expectNoSecretInText(await wb.auditText(), [PASSWORD], 'audit log');
  });
});
