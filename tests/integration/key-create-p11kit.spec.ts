import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateStore, type WorkbenchState } from '../../main/state/state-store';
import { connect, kmsuserPinOf } from '../fixtures/cmk';
import { injectFaults, type FaultInjection } from '../fixtures/fault-module';
import { ok } from '../fixtures/outcomes';
import { startP11KitServer, type P11KitServer } from '../fixtures/p11kit-server';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';

/**
 * CreateKey with members that cannot compute the check value. A cluster loads one module, so a real p11-kit member
 * means a cluster behind p11-kit's client; whether that client forwards CKM_AES_GCM is read from
 * `pkcs11-tool --module p11-kit-client.so -M` on this machine, never assumed from a version. The mixed cluster of
 * the rule (two members that prove their copy, one that cannot) is three direct SoftHSM tokens with the fault
 * module answering CKR_MECHANISM_INVALID to C_EncryptInit on the third, as a module without GCM does.
 */

const KMSUSER = 'kmsuser-pass-1';
const run = promisify(execFile);

async function readState(wb: TestWorkbench): Promise<WorkbenchState> {
  return (await openStateStore({ stateDir: wb.stateDir, program: 'test' })).read();
}

/** An initialized cluster of every token of `tokens`, loaded through `module`, and a CONNECTED key store on it. */
async function connectedInitializedStore(wb: TestWorkbench, tokens: SoftHsmCluster, module: { ModulePath: string; ModuleEnvironment: Record<string, string> }): Promise<{ storeId: string; hsmIds: string[] }> {
  const clusterId = ok(await wb.call('CreateCluster', { ClusterName: `p-${tokens.tokens[0]?.label ?? ''}`, ...module, Hsms: tokens.tokens.map((t) => ({ TokenSerial: t.serial })) })).Cluster.ClusterId;
  ok(await wb.call('InitializeCluster', { ClusterId: clusterId, DemoCa: true, SoPin: tokens.soPin, KmsuserPassword: KMSUSER }));
  const cluster = (await readState(wb)).clusters.find((c) => c.ClusterId === clusterId);
  const storeId = ok(await wb.call('CreateCustomKeyStore', { CustomKeyStoreName: `ks-${clusterId}`, CloudHsmClusterId: clusterId, TrustAnchorCertificate: cluster?.Certificates?.TrustAnchorCertificate ?? '', KeyStorePassword: KMSUSER })).CustomKeyStoreId;
  await connect(wb, storeId);
  return { storeId, hsmIds: cluster?.Hsms.map((h) => h.HsmId) ?? [] };
}

/** Secret keys on each token as pkcs11-tool sees them directly on SoftHSM (the independent peer), logged in as kmsuser. */
async function secretKeyCounts(tokens: SoftHsmCluster, pin: string): Promise<number[]> {
  return Promise.all(
    tokens.tokens.map(async (t) => {
      const { stdout } = await run('pkcs11-tool', ['--module', tokens.modulePath, '--slot', t.slotId, '--login', '--pin', pin, '--list-objects', '--type', 'secrkey'], { env: { ...process.env, ...tokens.env } });
      return stdout.split('Secret Key Object').length - 1;
    }),
  );
}

describe('CreateKey on a cluster behind p11-kit', () => {
  let tokens: SoftHsmCluster;
  let server: P11KitServer;
  let wb: TestWorkbench;

  beforeAll(async () => {
    tokens = await createSoftHsmCluster({ tokens: 3, userPin: KMSUSER, labelPrefix: 'pk' });
    server = await startP11KitServer({ providerModule: tokens.modulePath, env: tokens.env });
    wb = await createTestWorkbench();
  }, 60_000);

  afterAll(async () => {
    await wb?.dispose();
    await server?.stop();
    await tokens?.cleanup();
  });

  it('follows what the p11-kit client offers: without CKM_AES_GCM no copy is VERIFIED and nothing is made', async () => {
    const { stdout } = await run('pkcs11-tool', ['--module', server.clientModulePath, '--slot-index', '0', '-M'], { env: { ...process.env, ...server.env } });
    const forwardsGcm = /AES-GCM/.test(stdout);
    const { storeId, hsmIds } = await connectedInitializedStore(wb, tokens, { ModulePath: server.clientModulePath, ModuleEnvironment: server.env });
    const result: { ok: boolean; value?: { KeyMetadata: { KeyId: string; KeyState: string } }; error?: { name: string; message: string } } = await wb.call('CreateKey', { Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId });
    if (forwardsGcm) {
      expect(result.value?.KeyMetadata.KeyState).toBe('Enabled');
      const material = ok(await wb.call('DescribeKeyMaterial', { KeyId: result.value?.KeyMetadata.KeyId ?? '' }));
      expect(material.BackingKeys.map((b) => b.Verification)).toEqual(['VERIFIED', 'VERIFIED', 'VERIFIED']);
      expect(await secretKeyCounts(tokens, await kmsuserPinOf(wb, storeId))).toEqual([1, 1, 1]);
    } else {
      expect(result.error?.name).toBe('CloudHsmClusterInvalidConfigurationException');
      expect(result.error?.message).toMatch(/could verify the key material on 0 HSMs; CreateKey needs at least 2 verified copies/);
      for (const hsmId of hsmIds) expect(result.error?.message).toContain(`${hsmId}: its module does not offer CKM_AES_GCM`);
      const s = await readState(wb);
      expect(s.keys.size).toBe(0);
      expect(s.orphans.size).toBe(0);
      expect(await secretKeyCounts(tokens, await kmsuserPinOf(wb, storeId))).toEqual([0, 0, 0]);
    }
  }, 120_000);
});

describe('CreateKey with one member that cannot compute the check value', () => {
  let tokens: SoftHsmCluster;
  let faults: FaultInjection;
  let wb: TestWorkbench;

  beforeAll(async () => {
    tokens = await createSoftHsmCluster({ tokens: 3, userPin: KMSUSER, labelPrefix: 'mx' });
    faults = await injectFaults(tokens);
    wb = await createTestWorkbench();
  }, 60_000);

  afterAll(async () => {
    await wb?.dispose();
    await faults?.cleanup();
    await tokens?.cleanup();
  });

  it('enables the key with two VERIFIED copies and records the third UNVERIFIED, in the state, DescribeKeyMaterial and the audit', async () => {
    const { storeId, hsmIds } = await connectedInitializedStore(wb, tokens, { ModulePath: faults.modulePath, ModuleEnvironment: faults.env });
    await faults.setFaults([{ function: 'C_EncryptInit', returns: 'CKR_MECHANISM_INVALID', slot: tokens.tokens[2]?.serial ?? '' }]);
    try {
      const { KeyMetadata: key } = ok(await wb.call('CreateKey', { Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId }));
      expect(key.KeyState).toBe('Enabled');
      const record = (await readState(wb)).keys.get(key.KeyId);
      expect(record?.BackingKeys.map((b) => [b.HsmId, b.Verification])).toEqual([
        [hsmIds[0], 'VERIFIED'],
        [hsmIds[1], 'VERIFIED'],
        [hsmIds[2], 'UNVERIFIED'],
      ]);
      // An unverified copy has no check value of its own; it carries the material's BackingKeyId.
      expect(record?.BackingKeys[2]?.CheckValue).toBeUndefined();
      expect(record?.BackingKeys[2]?.BackingKeyId).toBe(record?.BackingKeys[0]?.BackingKeyId);
      const material = ok(await wb.call('DescribeKeyMaterial', { KeyId: key.KeyId }));
      expect(material.BackingKeys.map((b) => b.Verification)).toEqual(['VERIFIED', 'VERIFIED', 'UNVERIFIED']);
      expect(material.BackingKeys[2]?.Detail).toMatch(/CKR_MECHANISM_INVALID/);
      const audit = (await wb.auditRecords()).filter((r) => r.eventName === 'CreateKey').at(-1);
      const backingKeys = JSON.parse((audit?.additionalEventData as { backingKeys: string }).backingKeys) as Array<{ verification: string }>;
      expect(backingKeys.map((b) => b.verification)).toEqual(['VERIFIED', 'VERIFIED', 'UNVERIFIED']);
      expect(await secretKeyCounts(tokens, await kmsuserPinOf(wb, storeId))).toEqual([1, 1, 1]);
    } finally {
      await faults.setFaults([]);
    }
  }, 120_000);
});
