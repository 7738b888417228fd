import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterInfo } from '../../shared/contract/clusters';
import { kmsuserPasswordContext } from '../../main/key-stores/key-store-records';
import { openSecretVault } from '../../main/secrets/secret-vault';
import { openStateStore } from '../../main/state/state-store';
import { ok } from '../fixtures/outcomes';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';

/**
 * CreateKey on a real two-token SoftHSM2 cluster whose trust mesh InitializeCluster made: the material is generated on
 * one member, copied wrapped to the other, proved by check values computed in each HSM, and seen by pkcs11-tool.
 */

const KMSUSER = 'kmsuser-pass-1';
let hsm: SoftHsmCluster;
let wb: TestWorkbench;
let cluster: ClusterInfo;
let storeId: string;

function pkcs11Tool(index: number, pin: string, args: readonly string[]): Promise<{ ok: boolean; out: string }> {
  return promisify(execFile)('pkcs11-tool', ['--module', hsm.modulePath, '--slot', hsm.tokens[index]?.slotId ?? '', '--login', '--pin', pin, ...args], { env: { ...process.env, ...hsm.env } }).then(
    (r) => ({ ok: true, out: r.stdout }),
    (e: { stdout?: string; stderr?: string }) => ({ ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` }),
  );
}

async function currentPassword(): Promise<string> {
  // The connect rotated kmsuser's password: the peer logs in with the one the workbench holds now, opened through its vault.
  const store = (await openStateStore({ stateDir: wb.stateDir, program: 'test' })).read().then((s) => s.customKeyStores.find((k) => k.CustomKeyStoreId === storeId));
  const sealed = (await store)?.KmsuserPassword;
  if (sealed === undefined) throw new Error('the store holds no password');
  return (await openSecretVault({ stateDir: wb.stateDir })).open(sealed, kmsuserPasswordContext(storeId));
}

beforeAll(async () => {
  hsm = await createSoftHsmCluster({ tokens: 2, userPin: KMSUSER, labelPrefix: 'ck' });
  wb = await createTestWorkbench();
  const created = ok(await wb.call('CreateCluster', { ClusterName: 'keys', ModulePath: hsm.modulePath, ModuleEnvironment: hsm.env, Hsms: [0, 1].map((i) => ({ TokenSerial: hsm.tokens[i]?.serial ?? '' })) })).Cluster;
  cluster = ok(await wb.call('InitializeCluster', { ClusterId: created.ClusterId, DemoCa: true, SoPin: hsm.soPin, KmsuserPassword: KMSUSER })).Cluster;
  storeId = ok(await wb.call('CreateCustomKeyStore', { CustomKeyStoreName: 'keys', CloudHsmClusterId: cluster.ClusterId, TrustAnchorCertificate: JSON.parse((await wb.stateText()) ?? '{}').clusters[0].Certificates.TrustAnchorCertificate, KeyStorePassword: KMSUSER })).CustomKeyStoreId;
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
    ok(await wb.call('ConnectCustomKeyStore', { CustomKeyStoreId: storeId }));
    for (let i = 0; i < 200; i += 1) {
      const [store] = ok(await wb.call('DescribeCustomKeyStores', { CustomKeyStoreId: storeId })).CustomKeyStores;
      if (store?.ConnectionState === 'CONNECTED') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const { KeyMetadata: key } = ok(await wb.call('CreateKey', { Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId, Description: 'first' }));
    expect(key).toMatchObject({ KeyState: 'Enabled', Enabled: true, Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId, CloudHsmClusterId: cluster.ClusterId, KeySpec: 'SYMMETRIC_DEFAULT', Description: 'first' });
    const material = ok(await wb.call('DescribeKeyMaterial', { KeyId: key.KeyId }));
    expect(material.Live).toBe(true);
    expect(material.BackingKeys.map((b) => b.Verification)).toEqual(['VERIFIED', 'VERIFIED']);
    const [a, b] = material.BackingKeys;
    expect(a?.CheckValue).toMatch(/^[0-9a-f]{6}$/);
    expect(b?.CheckValue).toBe(a?.CheckValue);
    expect(b?.BackingKeyId).toBe(a?.BackingKeyId);

    const record = JSON.parse((await wb.stateText()) ?? '{}').keys.find((k: { KeyId: string }) => k.KeyId === key.KeyId);
    expect(record.Creation).toBeUndefined();
    expect(record.BackingKeys).toHaveLength(2);

    const audit = (await wb.auditRecords()).filter((r) => r.eventName === 'CreateKey').at(-1);
    const data = audit?.additionalEventData as { backingKey: string; backingKeys: string };
    expect(JSON.parse(data.backingKey)).toEqual({ keyHandle: expect.any(String), backingKeyId: a?.BackingKeyId });
    expect(JSON.parse(data.backingKeys)).toHaveLength(2);

    const pin = await currentPassword();
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
