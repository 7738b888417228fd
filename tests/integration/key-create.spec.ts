import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterInfo } from '../../shared/contract/clusters';
import { openStateStore, type WorkbenchState } from '../../main/state/state-store';
import { connect, kmsuserPinOf, peerCountKeys } from '../fixtures/cmk';
import { injectFaults, type FaultInjection } from '../fixtures/fault-module';
import { ok } from '../fixtures/outcomes';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';
import { WRITER } from './state-writer-process';

/**
 * CreateKey on a real two-token SoftHSM2 cluster whose trust mesh InitializeCluster made: the material is generated on
 * one member, copied wrapped to the other, proved by check values computed in each HSM, and seen by pkcs11-tool.
 */

const KMSUSER = 'kmsuser-pass-1';
let hsm: SoftHsmCluster;
let wb: TestWorkbench;
let cluster: ClusterInfo;
let storeId: string;

function pkcs11Tool(index: number, pin: string, args: readonly string[], on: SoftHsmCluster = hsm): Promise<{ ok: boolean; out: string }> {
  return promisify(execFile)('pkcs11-tool', ['--module', on.modulePath, '--slot', on.tokens[index]?.slotId ?? '', '--login', '--pin', pin, ...args], { env: { ...process.env, ...on.env } }).then(
    (r) => ({ ok: true, out: r.stdout }),
    (e: { stdout?: string; stderr?: string }) => ({ ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
  );
}

async function readState(on: TestWorkbench): Promise<WorkbenchState> {
  return (await openStateStore({ stateDir: on.stateDir, program: 'test' })).read();
}

/** A cluster of `tokens` initialized by the workbench (member key pairs, trust mesh, demo CA) and a DISCONNECTED key store on it. */
async function initializedStore(on: TestWorkbench, tokens: SoftHsmCluster, module = { ModulePath: tokens.modulePath, ModuleEnvironment: tokens.env as Record<string, string> }): Promise<{ cluster: ClusterInfo; storeId: string }> {
  const created = ok(await on.call('CreateCluster', { ClusterName: `keys-${tokens.tokens[0]?.label ?? ''}`, ...module, Hsms: tokens.tokens.map((t) => ({ TokenSerial: t.serial })) })).Cluster;
  const initialized = ok(await on.call('InitializeCluster', { ClusterId: created.ClusterId, DemoCa: true, SoPin: tokens.soPin, KmsuserPassword: KMSUSER })).Cluster;
  const anchor = (await readState(on)).clusters.find((c) => c.ClusterId === created.ClusterId)?.Certificates?.TrustAnchorCertificate ?? '';
  const id = ok(await on.call('CreateCustomKeyStore', { CustomKeyStoreName: `keys-${created.ClusterId}`, CloudHsmClusterId: created.ClusterId, TrustAnchorCertificate: anchor, KeyStorePassword: KMSUSER })).CustomKeyStoreId;
  return { cluster: initialized, storeId: id };
}

/** How many secret keys pkcs11-tool (the independent peer), logged in as kmsuser, lists on each token. */
async function secretKeyCounts(on: SoftHsmCluster, pin: string): Promise<number[]> {
  return Promise.all(
    on.tokens.map(async (_, i) => {
      const listed = await pkcs11Tool(i, pin, ['--list-objects', '--type', 'secrkey'], on);
      if (!listed.ok) throw new Error(listed.out);
      return listed.out.split('Secret Key Object').length - 1;
    }),
  );
}

beforeAll(async () => {
  hsm = await createSoftHsmCluster({ tokens: 2, userPin: KMSUSER, labelPrefix: 'ck' });
  wb = await createTestWorkbench();
  ({ cluster, storeId } = await initializedStore(wb, hsm));
}, 120_000);

afterAll(async () => {
  await wb?.dispose();
  await hsm?.cleanup();
});

describe('CreateKey', () => {
  it('refuses a disconnected store and unsupported requests, changing nothing', async () => {
    const before = await wb.stateText();
    const refusal = async (request: Record<string, unknown>, name: string, message: RegExp): Promise<void> => {
      const result: { ok: boolean; error?: { name: string; message: string } } = await wb.call('CreateKey', request as never);
      expect(result.ok).toBe(false);
      expect(result.error?.name).toBe(name);
      expect(result.error?.message).toMatch(message);
    };
    await refusal({}, 'UnsupportedOperationException', /only in AWS CloudHSM key stores/);
    await refusal({ Origin: 'AWS_CLOUDHSM' }, 'ValidationException', /CustomKeyStoreId is required/);
    await refusal({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId, KeySpec: 'RSA_2048' }, 'UnsupportedOperationException', /only symmetric encryption keys/);
    await refusal({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId, KeyUsage: 'SIGN_VERIFY' }, 'UnsupportedOperationException', /ENCRYPT_DECRYPT/);
    await refusal({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId, MultiRegion: true }, 'UnsupportedOperationException', /Multi-Region/);
    await refusal({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId, Policy: '{}' }, 'UnsupportedOperationException', /policies are not modelled/);
    await refusal({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: 'cks-00000000000000000' }, 'CustomKeyStoreNotFoundException', /no custom key store/);
    await refusal({ Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId }, 'CustomKeyStoreInvalidStateException', /is not connected \(state DISCONNECTED\); connect it with kms connect-custom-key-store/);
    expect(await wb.stateText()).toBe(before);
  });

  it('makes one verified AES-256 copy per member, labelled with the ARN, sensitive, unreadable', async () => {
    await connect(wb, storeId);
    const { KeyMetadata: key } = ok(await wb.call('CreateKey', { Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId, Description: 'first' }));
    expect(key).toMatchObject({ KeyState: 'Enabled', Enabled: true, Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId, CloudHsmClusterId: cluster.ClusterId, KeySpec: 'SYMMETRIC_DEFAULT', Description: 'first' });
    const material = ok(await wb.call('DescribeKeyMaterial', { KeyId: key.KeyId }));
    expect(material.Live).toBe(true);
    expect(material.BackingKeys.map((b) => b.Verification)).toEqual(['VERIFIED', 'VERIFIED']);
    const [a, b] = material.BackingKeys;
    expect(a?.CheckValue).toMatch(/^[0-9a-f]{6}$/);
    expect(b?.CheckValue).toBe(a?.CheckValue);
    expect(b?.BackingKeyId).toBe(a?.BackingKeyId);

    const record = (await readState(wb)).keys.get(key.KeyId);
    expect(record?.Creation).toBeUndefined();
    expect(record?.BackingKeys).toHaveLength(2);

    const audit = (await wb.auditRecords()).filter((r) => r.eventName === 'CreateKey').at(-1);
    const data = audit?.additionalEventData as { backingKey: string; backingKeys: string };
    expect(JSON.parse(data.backingKey)).toEqual({ keyHandle: expect.any(String), backingKeyId: a?.BackingKeyId });
    expect(JSON.parse(data.backingKeys)).toHaveLength(2);

    const pin = await kmsuserPinOf(wb, storeId);
    for (const index of [0, 1]) {
      const listed = await pkcs11Tool(index, pin, ['--list-objects', '--type', 'secrkey']);
      expect(listed.ok, listed.out).toBe(true);
      const objects = listed.out.split('Secret Key Object').slice(1).filter((o) => o.includes(key.Arn));
      expect(objects).toHaveLength(1);
      expect(objects[0]).toMatch(/Usage:\s+encrypt, decrypt\n/);
      if (index === 0) {
        // The source: generated here, never readable. Extractable only because C_WrapKey needs it, under wrap-with-trusted.
        expect(objects[0]).toMatch(/AES length 32/);
        expect(objects[0]).toMatch(/Access:\s+sensitive, always sensitive, extractable, local/);
      } else {
        // The copy: SoftHSM leaves CKA_VALUE_LEN 0 on an unwrapped key (pkcs11-tool prints no length): its check value proves it.
        expect(objects[0]).toMatch(/; AES\n/);
        expect(objects[0]).toMatch(/Access:\s+sensitive, extractable\n/);
      }
      const read = await pkcs11Tool(index, pin, ['--read-object', '--type', 'secrkey', '--label', key.Arn]);
      expect(read.ok).toBe(false);
    }
  }, 120_000);
});

describe('CreateKey when a member cannot take part', () => {
  let tokens: SoftHsmCluster;
  let faults: FaultInjection;
  let fwb: TestWorkbench;
  let store: string;
  let members: string[];

  beforeAll(async () => {
    tokens = await createSoftHsmCluster({ tokens: 2, userPin: KMSUSER, labelPrefix: 'cf' });
    faults = await injectFaults(tokens);
    fwb = await createTestWorkbench();
    store = (await initializedStore(fwb, tokens, { ModulePath: faults.modulePath, ModuleEnvironment: faults.env })).storeId;
    await connect(fwb, store);
    const s = await readState(fwb);
    members = s.clusters.find((c) => c.ClusterId === s.customKeyStores.find((k) => k.CustomKeyStoreId === store)?.CloudHsmClusterId)?.Hsms.map((h) => h.HsmId) ?? [];
  }, 120_000);

  afterAll(async () => {
    await fwb?.dispose();
    await faults?.cleanup();
    await tokens?.cleanup();
  });

  it('rolls back when C_UnwrapKey fails on the second member: nothing on either token, no CMK or orphan record', async () => {
    const before = await readState(fwb);
    await faults.setFaults([{ function: 'C_UnwrapKey', returns: 'CKR_FUNCTION_FAILED', slot: tokens.tokens[1]?.serial ?? '' }]);
    let result: { ok: boolean; error?: { name: string; message: string } };
    try {
      result = await fwb.call('CreateKey', { Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: store });
    } finally {
      await faults.setFaults([]);
    }
    expect(result.ok).toBe(false);
    expect(result.error?.message).toMatch(/CKR_FUNCTION_FAILED/);
    const after = await readState(fwb);
    expect(after.keys.size).toBe(before.keys.size);
    expect(after.orphans.size).toBe(0);
    expect(await secretKeyCounts(tokens, await kmsuserPinOf(fwb, store))).toEqual([0, 0]);
    // The audit log says which HSMs the abandoned creation touched (both: the copy was under way).
    const records = await fwb.auditRecords();
    const audit = records.filter((r) => r.eventName === 'CreateKey').at(-1);
    const data = audit?.additionalEventData as { keyId?: string; abandonedOn?: string[] } | undefined;
    expect(data?.abandonedOn).toEqual(members);
    // The reconciler's rollback and event (review F3): one path, whoever rolls back.
    const abandoned = records.filter((r) => r.eventName === 'AbandonKeyCreation' && (r.additionalEventData as { keyId?: string }).keyId === data?.keyId);
    expect(abandoned).toHaveLength(1);
    const statuses = JSON.parse((abandoned[0]?.additionalEventData as { backingKeysDeletionStatus: string }).backingKeysDeletionStatus) as Array<{ hsmId: string; deletionStatus: string }>;
    expect(statuses.map((x) => [x.hsmId, x.deletionStatus])).toEqual(members.map((m) => [m, 'SUCCESS']));
  });

  it('refuses with one active HSM (the second refuses kmsuser in a new process): the error names it, nothing is made', async () => {
    const before = await readState(fwb);
    // A second process (as a CLI run is): it logs in afresh, and the second member's token refuses kmsuser.
    const cli = await createTestWorkbench({ stateDir: fwb.stateDir });
    await faults.setFaults([{ function: 'C_Login', userType: 'CKU_USER', returns: 'CKR_TOKEN_NOT_PRESENT', slot: tokens.tokens[1]?.serial ?? '' }]);
    let result: { ok: boolean; error?: { name: string; message: string } };
    try {
      result = await cli.call('CreateKey', { Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: store });
    } finally {
      await faults.setFaults([]);
      await cli.dispose();
    }
    expect(result.ok).toBe(false);
    expect(result.error?.name).toBe('CloudHsmClusterInvalidConfigurationException');
    expect(result.error?.message).toMatch(/CreateKey needs at least 2/);
    expect(result.error?.message).toContain(`${members[1]}: no kmsuser session (`);
    const after = await readState(fwb);
    // No key or orphan record; the store records the refused login (as any command that logs in would), nothing else.
    expect([...after.keys.values()]).toEqual([...before.keys.values()]);
    expect(after.orphans.size).toBe(0);
    expect(await secretKeyCounts(tokens, await kmsuserPinOf(fwb, store))).toEqual([0, 0]);
  });

  // Last: it leaves a key on both tokens.
  it('does not roll back a key another process completed meanwhile, when a member call then fails (review F2)', async () => {
    // The test before left the store FAILED (the refused login): AWS connects a FAILED store only after a disconnect.
    ok(await fwb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: store }));
    await connect(fwb, store);
    await faults.setFaults([{ function: 'C_Encrypt', returns: 'CKR_FUNCTION_FAILED', slot: tokens.tokens[1]?.serial ?? '' }]);
    let completed: string[] = [];
    let result: { ok: boolean; error?: { name: string; message: string } };
    try {
      // The moment the copies are made and before they are proved, another process enables the record: spawnSync
      // holds this one still meanwhile, so the order is certain. Then the second member's check value fails.
      result = await fwb.call('CreateKey', { Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: store }, (progress) => {
        if (completed.length > 0 || (progress as { Phase: string }).Phase !== 'VerifyCopy') return;
        const writer = spawnSync(process.execPath, [WRITER, 'complete', fwb.stateDir], { encoding: 'utf8' });
        completed = (JSON.parse(writer.stdout.trim().split('\n').at(-1) ?? '{}') as { result?: { completed: string[] } }).result?.completed ?? [];
      });
    } finally {
      await faults.setFaults([]);
    }
    expect(result.ok).toBe(false);
    expect(result.error?.message).toMatch(/CKR_FUNCTION_FAILED/);
    expect(completed).toHaveLength(1);
    const key = (await readState(fwb)).keys.get(completed[0] ?? '');
    // The other process's key stands, with its material on both tokens: the failed call's rollback left it alone.
    expect(key?.KeyState).toBe('Enabled');
    const pin = await kmsuserPinOf(fwb, store);
    expect(await Promise.all([0, 1].map((i) => peerCountKeys(tokens, i, pin, key?.Arn ?? '')))).toEqual([1, 1]);
    expect((await readState(fwb)).orphans.size).toBe(0);
    expect((await fwb.auditRecords()).filter((r) => r.eventName === 'AbandonKeyCreation' && (r.additionalEventData as { keyId?: string }).keyId === key?.KeyId)).toHaveLength(0);
  });
});
