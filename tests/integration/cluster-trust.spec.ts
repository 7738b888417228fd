import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectId } from '../../main/clusters/cluster-objects';
import type { ClusterInfo } from '../../shared/contract/clusters';
import { cli } from '../fixtures/cli';
import { ok } from '../fixtures/outcomes';
import { createSoftHsmCluster, showSlots, type SoftHsmCluster } from '../fixtures/softhsm';
import { openDirectSession, type DirectSession } from '../fixtures/token-objects';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';

const KMSUSER = 'kmsuser-pass-1';
const OAEP = { mechanism: pkcs11js.CKM_RSA_PKCS_OAEP, parameter: { type: pkcs11js.CK_PARAMS_RSA_OAEP, hashAlg: pkcs11js.CKM_SHA_1, mgf: pkcs11js.CKG_MGF1_SHA1, source: 1 } };

function listObjects(hsm: SoftHsmCluster, index: number, type: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('pkcs11-tool', ['--module', hsm.modulePath, '--slot', hsm.tokens[index]?.slotId ?? '', '-O', '--type', type], { env: { ...process.env, ...hsm.env } }, (error, stdout, stderr) =>
      error ? reject(new Error(stderr)) : resolve(stdout),
    );
  });
}

/** Independent of the workbench: a raw pkcs11js session on the member's token, logged in as kmsuser. */
function withDirect<T>(hsm: SoftHsmCluster, index: number, work: (d: DirectSession) => T): T {
  const direct = openDirectSession(hsm.modulePath, hsm.env, hsm.tokens[index]?.slotId ?? '', KMSUSER);
  try {
    return work(direct);
  } finally {
    direct.close();
  }
}

function find(d: DirectSession, template: pkcs11js.Template): Buffer[] {
  d.lib.C_FindObjectsInit(d.session, template);
  const found = d.lib.C_FindObjects(d.session, 16);
  d.lib.C_FindObjectsFinal(d.session);
  return found;
}

const memberKey = (hsmId: string, klass: number): pkcs11js.Template => [
  { type: pkcs11js.CKA_CLASS, value: klass },
  { type: pkcs11js.CKA_ID, value: Buffer.from(objectId(hsmId), 'hex') },
];

/** CKA_TRUSTED and CKA_WRAP of the public keys the token holds for `hsmId`. */
function trustedFlags(d: DirectSession, hsmId: string): Array<[number, number]> {
  return find(d, memberKey(hsmId, pkcs11js.CKO_PUBLIC_KEY)).map((h) => {
    const [trusted, wrap] = d.lib.C_GetAttributeValue(d.session, h, [{ type: pkcs11js.CKA_TRUSTED }, { type: pkcs11js.CKA_WRAP }]);
    return [(trusted?.value as Buffer)[0] ?? -1, (wrap?.value as Buffer)[0] ?? -1];
  });
}

/** A public RSA key "any local process" could create on a member's token under the member's CKA_ID: not the member's own. */
function plantPublicKey(hsm: SoftHsmCluster, index: number, hsmId: string, label: string): void {
  const { n = '' } = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
  withDirect(hsm, index, (d) =>
    d.lib.C_CreateObject(d.session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_RSA },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: false },
      { type: pkcs11js.CKA_WRAP, value: true },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_ID, value: Buffer.from(objectId(hsmId), 'hex') },
      { type: pkcs11js.CKA_MODULUS, value: Buffer.from(n, 'base64url') },
      { type: pkcs11js.CKA_PUBLIC_EXPONENT, value: Buffer.from('010001', 'hex') },
    ]),
  );
}

function destroyLabelled(hsm: SoftHsmCluster, index: number, label: string): void {
  withDirect(hsm, index, (d) => {
    for (const h of find(d, [{ type: pkcs11js.CKA_LABEL, value: label }])) d.lib.C_DestroyObject(d.session, h);
  });
}

/** Every object the token holds with CKA_TRUSTED set. */
function trustedObjects(hsm: SoftHsmCluster, index: number): number {
  return withDirect(hsm, index, (d) => find(d, [{ type: pkcs11js.CKA_TRUSTED, value: true }]).length);
}

const ECB = { mechanism: pkcs11js.CKM_AES_ECB };
const BLOCK = Buffer.alloc(16, 7);

describe('membership trust on real SoftHSM2 tokens', () => {
  let hsm: SoftHsmCluster;
  let wb: TestWorkbench;
  let cluster: ClusterInfo;
  /** A token whose SO PIN differs from the others': the member that refuses the one SO PIN. */
  let odd: string;

  beforeAll(async () => {
    hsm = await createSoftHsmCluster({ tokens: 3, userPin: KMSUSER, labelPrefix: 'tru' });
    await new Promise<void>((resolve, reject) =>
      execFile('softhsm2-util', ['--init-token', '--free', '--label', 'tru-odd', '--so-pin', 'another-so-pin', '--pin', KMSUSER], { env: { ...process.env, ...hsm.env } }, (e) => (e ? reject(e) : resolve())),
    );
    odd = (await showSlots(hsm.env)).find((slot) => slot.label === 'tru-odd')?.serial ?? '';
    wb = await createTestWorkbench();
    const created = ok(
      await wb.call('CreateCluster', { ClusterName: 'mesh', ModulePath: hsm.modulePath, ModuleEnvironment: hsm.env, Hsms: [0, 1].map((i) => ({ TokenSerial: hsm.tokens[i]?.serial ?? '' })) }),
    ).Cluster;
    cluster = ok(await wb.call('InitializeCluster', { ClusterId: created.ClusterId, DemoCa: true, SoPin: hsm.soPin, KmsuserPassword: KMSUSER })).Cluster;
  });
  afterAll(async () => {
    await wb?.dispose();
    await hsm?.cleanup();
  });

  const hsmId = (index: number): string => cluster.Hsms[index]?.HsmId ?? '';

  it('has every member hold each other member\'s key as a trusted wrapping key, and the cluster is ACTIVE', () => {
    expect(cluster.State).toBe('ACTIVE');
    expect(cluster.Hsms.map((h) => [h.Trust.Status, h.Trust.TrustedBy])).toEqual([
      ['COMPLETE', [hsmId(1)]],
      ['COMPLETE', [hsmId(0)]],
    ]);
    expect(withDirect(hsm, 0, (d) => trustedFlags(d, hsmId(1)))).toEqual([[1, 1]]);
    expect(withDirect(hsm, 1, (d) => trustedFlags(d, hsmId(0)))).toEqual([[1, 1]]);
    // The member private key: sensitive, not extractable, unwrap only.
    const flags = withDirect(hsm, 1, (d) => {
      const [key] = find(d, memberKey(hsmId(1), pkcs11js.CKO_PRIVATE_KEY));
      if (!key) throw new Error('no member private key');
      const attrs = d.lib.C_GetAttributeValue(d.session, key, [
        { type: pkcs11js.CKA_SENSITIVE },
        { type: pkcs11js.CKA_EXTRACTABLE },
        { type: pkcs11js.CKA_UNWRAP },
        { type: pkcs11js.CKA_DECRYPT },
        { type: pkcs11js.CKA_SIGN },
        { type: pkcs11js.CKA_MODULUS },
      ]);
      return attrs.map((a, i) => (i === 5 ? (a.value as Buffer).length * 8 : (a.value as Buffer)[0]));
    });
    expect(flags).toEqual([1, 0, 1, 0, 0, 3072]);
  });

  it('lets a CKA_WRAP_WITH_TRUSTED AES key be wrapped on one member for another, and unwrapped there to the same key', () => {
    const { wrapped, expected } = withDirect(hsm, 0, (d) => {
      const aes = d.lib.C_GenerateKey(d.session, { mechanism: pkcs11js.CKM_AES_KEY_GEN }, [
        { type: pkcs11js.CKA_VALUE_LEN, value: 32 },
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: true },
        { type: pkcs11js.CKA_WRAP_WITH_TRUSTED, value: true },
        { type: pkcs11js.CKA_ENCRYPT, value: true },
      ]);
      const [trusted] = find(d, memberKey(hsmId(1), pkcs11js.CKO_PUBLIC_KEY));
      if (!trusted) throw new Error('no trusted key for member 1');
      const out = d.lib.C_WrapKey(d.session, OAEP, trusted, aes, Buffer.alloc(1024));
      d.lib.C_EncryptInit(d.session, ECB, aes);
      return { wrapped: Buffer.from(out), expected: Buffer.from(d.lib.C_Encrypt(d.session, BLOCK, Buffer.alloc(16))) };
    });
    const got = withDirect(hsm, 1, (d) => {
      const [unwrapping] = find(d, memberKey(hsmId(1), pkcs11js.CKO_PRIVATE_KEY));
      if (!unwrapping) throw new Error('no member private key');
      const aes = d.lib.C_UnwrapKey(d.session, OAEP, unwrapping, wrapped, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
        { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_AES },
        { type: pkcs11js.CKA_TOKEN, value: false },
        { type: pkcs11js.CKA_ENCRYPT, value: true },
      ]);
      d.lib.C_EncryptInit(d.session, ECB, aes);
      return Buffer.from(d.lib.C_Encrypt(d.session, BLOCK, Buffer.alloc(16)));
    });
    expect(got.equals(expected)).toBe(true);
  });

  it('adds an HSM from the CLI with one SO PIN (trust both ways, certificates copied) and removes it again, with its trust everywhere', async () => {
    const added = await cli(wb.stateDir, ['--output', 'json', 'cluster', 'add-hsm', cluster.ClusterId, '--token-serial', hsm.tokens[2]?.serial ?? '', '--stdin'], `${hsm.soPin}\n${KMSUSER}\n`);
    expect(added.stderr).toBe('');
    const { Cluster, Hsm } = JSON.parse(added.stdout) as { Cluster: ClusterInfo; Hsm: ClusterInfo['Hsms'][number] };
    expect(Cluster.State).toBe('ACTIVE');
    expect(Hsm.Trust.Status).toBe('COMPLETE');
    expect(Hsm.Trust.TrustedBy.sort()).toEqual([hsmId(0), hsmId(1)].sort());
    expect(await listObjects(hsm, 2, 'cert')).toContain(`hsm-workbench trust anchor ${cluster.ClusterId}`);
    for (const index of [0, 1]) expect(withDirect(hsm, index, (d) => trustedFlags(d, Hsm.HsmId))).toEqual([[1, 1]]);
    expect(withDirect(hsm, 2, (d) => [trustedFlags(d, hsmId(0)), trustedFlags(d, hsmId(1))])).toEqual([[[1, 1]], [[1, 1]]]);

    const removed = await cli(wb.stateDir, ['cluster', 'remove-hsm', cluster.ClusterId, Hsm.HsmId, '--stdin'], `${hsm.soPin}\n`);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toContain(`Removed ${Hsm.HsmId}`);
    for (const index of [0, 1]) expect(withDirect(hsm, index, (d) => trustedFlags(d, Hsm.HsmId))).toEqual([]);
    expect(withDirect(hsm, 2, (d) => [trustedFlags(d, hsmId(0)), find(d, memberKey(Hsm.HsmId, pkcs11js.CKO_PUBLIC_KEY)).length])).toEqual([[], 0]);
    expect(await listObjects(hsm, 2, 'cert')).not.toContain('hsm-workbench');
    const after = ok(await wb.call('DescribeClusters', { ClusterIds: [cluster.ClusterId] })).Clusters[0];
    expect(after?.Hsms.map((h) => h.HsmId)).toEqual([hsmId(0), hsmId(1)]);
    expect(after?.State).toBe('ACTIVE');
    const steps = (await wb.auditRecords()).map((r) => JSON.stringify(r)).filter((r) => r.includes('RemoveTrustedMemberKey'));
    expect(steps.length).toBe(2);
    // An RSA-3072 key pair on a shared, busy machine takes seconds.
  }, 120_000);

  it('the member-trust check names a member whose trusted key is gone, with the command that repairs it, and initialize repairs it', async () => {
    withDirect(hsm, 0, (d) => {
      for (const h of find(d, memberKey(hsmId(1), pkcs11js.CKO_PUBLIC_KEY))) d.lib.C_DestroyObject(d.session, h);
    });
    const { Report } = ok(await wb.call('CheckCluster', { ClusterId: cluster.ClusterId }));
    const trust = Report.Checks.filter((c) => c.CheckId === 'hsm.member-trust');
    expect(trust.map((c) => c.Status)).toEqual(['fail', 'pass']);
    expect(trust[0]?.Evidence.join(' ')).toContain(`does not hold ${hsmId(1)}'s member key as a trusted wrapping key`);
    expect(trust[0]?.Remedy).toContain(`hsm-workbench cluster initialize ${cluster.ClusterId}`);

    ok(await wb.call('InitializeCluster', { ClusterId: cluster.ClusterId, SoPin: hsm.soPin, KmsuserPassword: KMSUSER }));
    const again = ok(await wb.call('CheckCluster', { ClusterId: cluster.ClusterId })).Report;
    expect(again.Checks.filter((c) => c.CheckId === 'hsm.member-trust').map((c) => c.Status)).toEqual(['pass', 'pass']);
  });

  it('trusts no public key planted under a member\'s CKA_ID: add-hsm and initialize refuse it by name, and nothing new is trusted', async () => {
    const PLANTED = 'planted by another process';
    plantPublicKey(hsm, 0, hsmId(0), PLANTED);
    const before = [0, 1, 2].map((i) => trustedObjects(hsm, i));
    try {
      const added = await wb.call('AddHsm', { ClusterId: cluster.ClusterId, Hsm: { TokenSerial: hsm.tokens[2]?.serial ?? '' }, SoPin: hsm.soPin, KmsuserPassword: KMSUSER });
      expect(added.ok).toBe(false);
      if (added.ok) return;
      expect(added.error.name).toBe('CloudHsmInvalidRequestException');
      expect(added.error.message).toContain(`HSM ${hsmId(0)}`);
      expect(added.error.message).toMatch(/2 public keys have that CKA_ID .*label "planted by another process".*No key was trusted/);
      const initialized = await wb.call('InitializeCluster', { ClusterId: cluster.ClusterId, SoPin: hsm.soPin, KmsuserPassword: KMSUSER });
      expect(initialized.ok).toBe(false);
      if (initialized.ok) return;
      expect(initialized.error.message).toMatch(/2 public keys have that CKA_ID .*label "planted by another process"/);
      expect([0, 1, 2].map((i) => trustedObjects(hsm, i))).toEqual(before);
      expect(withDirect(hsm, 1, (d) => trustedFlags(d, hsmId(0)))).toEqual([[1, 1]]);
    } finally {
      destroyLabelled(hsm, 0, PLANTED);
      // add-hsm recorded the newcomer before it refused: take it out again for the tests that follow.
      const newcomer = ok(await wb.call('DescribeClusters', { ClusterIds: [cluster.ClusterId] })).Clusters[0]?.Hsms.find((h) => h.TokenSerial === hsm.tokens[2]?.serial);
      if (newcomer) ok(await wb.call('RemoveHsm', { ClusterId: cluster.ClusterId, HsmId: newcomer.HsmId, SoPin: hsm.soPin }));
    }
  }, 120_000);

  it('reports per HSM what an add-hsm did before a member refused the SO PIN, and the cluster falls back to INITIALIZED until that member has its trust', async () => {
    const refused = await wb.call('AddHsm', { ClusterId: cluster.ClusterId, Hsm: { TokenSerial: odd }, SoPin: hsm.soPin, KmsuserPassword: KMSUSER });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error.code).toBe('CKR_PIN_INCORRECT');
    expect(refused.error.message).toContain(`token serial ${odd}`);
    expect(refused.error.message).toContain('refused the SO PIN');
    expect(refused.error.message).toMatch(/Done before this failure: hsm-\S+ recorded as a member; member key pair on hsm-\S+\./);
    const after = ok(await wb.call('DescribeClusters', { ClusterIds: [cluster.ClusterId] })).Clusters[0];
    const newcomer = after?.Hsms.find((h) => h.TokenSerial === odd);
    expect(after?.State).toBe('INITIALIZED');
    expect(newcomer?.Trust).toMatchObject({ MemberKey: true, TrustedBy: [], Status: 'INCOMPLETE', Certificates: false });
    const journal = (await wb.auditRecords()).filter((r) => JSON.stringify(r).includes('"AddHsm"')).map((r) => JSON.stringify(r));
    expect(journal.some((r) => r.includes('ImportTrustedMemberKeys'))).toBe(true);
    expect(journal.join('\n')).not.toContain(hsm.soPin);
  });
});
