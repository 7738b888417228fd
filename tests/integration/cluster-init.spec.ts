import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectId } from '../../main/clusters/cluster-objects';
import { cli } from '../fixtures/cli';
import { ok } from '../fixtures/outcomes';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { openDirectSession } from '../fixtures/token-objects';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';

const KMSUSER = 'kmsuser-pass-1';

function run(file: string, args: readonly string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env: { ...process.env, ...env } }, (error, stdout, stderr) => (error ? reject(new Error(`${file} failed: ${stderr}${stdout}`)) : resolve(`${stdout}${stderr}`)));
  });
}

/** A CA of the test's own, made with openssl: an independent party that signs the workbench's CSR. */
async function opensslCa(dir: string, name: string): Promise<{ crt: string; key: string }> {
  const crt = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-subj', `/CN=${name}`, '-days', '30']);
  return { crt, key };
}

async function signCsr(dir: string, csrPem: string, ca: { crt: string; key: string }, out: string): Promise<string> {
  const csr = join(dir, `${out}.csr`);
  await writeFile(csr, csrPem);
  const crt = join(dir, `${out}.crt`);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.crt, '-CAkey', ca.key, '-CAcreateserial', '-out', crt, '-days', '30']);
  return readFile(crt, 'utf8');
}

describe('cluster initialization and certificates on real SoftHSM2 tokens', () => {
  let hsm: SoftHsmCluster;
  let wb: TestWorkbench;
  let dir: string;

  beforeAll(async () => {
    hsm = await createSoftHsmCluster({ tokens: 5, userPin: KMSUSER, labelPrefix: 'ini' });
    wb = await createTestWorkbench();
    dir = await mkdtemp(join(tmpdir(), 'hsm-workbench-pki-'));
  });
  afterAll(async () => {
    await wb?.dispose();
    await hsm?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const createCluster = async (name: string, tokens: number[]): Promise<string> =>
    ok(
      await wb.call('CreateCluster', {
        ClusterName: name,
        ModulePath: hsm.modulePath,
        ModuleEnvironment: hsm.env,
        Hsms: tokens.map((i) => ({ TokenSerial: hsm.tokens[i]?.serial ?? '' })),
      }),
    ).Cluster.ClusterId;

  const listCertificates = (index: number): Promise<string> =>
    run('pkcs11-tool', ['--module', hsm.modulePath, '--slot', hsm.tokens[index]?.slotId ?? '', '-O', '--type', 'cert'], hsm.env);

  it('makes the signing key pair in the first HSM and a CSR signed there that openssl verifies; then installs an openssl CA\'s certificate on every member', async () => {
    const clusterId = await createCluster('pki', [0, 1]);
    const init = ok(await wb.call('InitializeCluster', { ClusterId: clusterId, SoPin: hsm.soPin, KmsuserPassword: KMSUSER }));
    expect(init.Cluster.State).toBe('INITIALIZED');
    expect(init.TrustAnchorCertificatePath).toBeNull();
    expect(init.Cluster.Certificates.ClusterCsr).toBe(init.ClusterCsr);
    const csrFile = join(dir, 'pki.csr');
    await writeFile(csrFile, init.ClusterCsr);
    expect(await run('openssl', ['req', '-verify', '-in', csrFile, '-noout'])).toMatch(/verif(y|ication) OK/i);

    // The private half as the token holds it, read independently: sensitive, never extractable, sign only.
    const direct = openDirectSession(hsm.modulePath, hsm.env, hsm.tokens[0]?.slotId ?? '', KMSUSER);
    try {
      direct.lib.C_FindObjectsInit(direct.session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
        { type: pkcs11js.CKA_ID, value: Buffer.from(objectId(clusterId), 'hex') },
      ]);
      const [key] = direct.lib.C_FindObjects(direct.session, 2);
      direct.lib.C_FindObjectsFinal(direct.session);
      if (!key) throw new Error('no cluster private key');
      const attrs = direct.lib.C_GetAttributeValue(direct.session, key, [
        { type: pkcs11js.CKA_SENSITIVE },
        { type: pkcs11js.CKA_EXTRACTABLE },
        { type: pkcs11js.CKA_SIGN },
        { type: pkcs11js.CKA_DECRYPT },
        { type: pkcs11js.CKA_UNWRAP },
      ]);
      expect(attrs.map((a) => (a.value as Buffer)[0])).toEqual([1, 0, 1, 0, 0]);
    } finally {
      direct.close();
    }

    const ca = await opensslCa(dir, 'customerCA');
    const certificate = await signCsr(dir, init.ClusterCsr, ca, 'pki-cluster');
    const before = await wb.stateText();

    // Bad input changes nothing: not a certificate, another CA, a certificate for another key.
    const notACert = await wb.call('InstallClusterCertificate', { ClusterId: clusterId, ClusterCertificate: 'hello', TrustAnchorCertificate: await readFile(ca.crt, 'utf8'), SoPin: hsm.soPin });
    expect(notACert.ok ? null : notACert.error.name).toBe('ValidationException');
    expect(notACert.ok ? '' : notACert.error.message).toContain('ClusterCertificate is not an X.509 certificate');
    const other = await opensslCa(dir, 'otherCA');
    const wrongAnchor = await wb.call('InstallClusterCertificate', { ClusterId: clusterId, ClusterCertificate: certificate, TrustAnchorCertificate: await readFile(other.crt, 'utf8'), SoPin: hsm.soPin });
    expect(wrongAnchor.ok ? null : wrongAnchor.error.name).toBe('IncorrectTrustAnchorException');
    await run('openssl', ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'stray.key'), '-out', join(dir, 'stray.csr'), '-subj', '/CN=stray']);
    const stray = await signCsr(dir, await readFile(join(dir, 'stray.csr'), 'utf8'), ca, 'stray');
    const mismatch = await wb.call('InstallClusterCertificate', { ClusterId: clusterId, ClusterCertificate: stray, TrustAnchorCertificate: await readFile(ca.crt, 'utf8'), SoPin: hsm.soPin });
    expect(mismatch.ok ? null : mismatch.error.name).toBe('ValidationException');
    expect(mismatch.ok ? '' : mismatch.error.message).toContain('certifies another key');
    expect(await wb.stateText()).toBe(before);
    expect(await listCertificates(1)).not.toContain('Certificate Object');

    const installed = ok(await wb.call('InstallClusterCertificate', { ClusterId: clusterId, ClusterCertificate: certificate, TrustAnchorCertificate: await readFile(ca.crt, 'utf8'), SoPin: hsm.soPin }));
    expect(installed.Cluster.State).toBe('ACTIVE');
    expect(installed.Cluster.Hsms.map((h) => h.Trust.Status)).toEqual(['COMPLETE', 'COMPLETE']);
    for (const index of [0, 1]) {
      const listed = await listCertificates(index);
      expect(listed).toContain(`hsm-workbench cluster certificate ${clusterId}`);
      expect(listed).toContain(`hsm-workbench trust anchor ${clusterId}`);
    }
    const audit = await wb.auditText();
    expect(audit).not.toContain(hsm.soPin);
    expect(audit).not.toContain(KMSUSER);
    expect(audit).toContain('StoreCertificates');
  });

  it('with --demo-ca ends ACTIVE from the CLI, keeps the demo CA under the state directory (0700, key 0600) labelled as not for production, and prints the trust anchor path', async () => {
    const clusterId = await createCluster('demo-pki', [2]);
    const run1 = await cli(wb.stateDir, ['cluster', 'initialize', clusterId, '--demo-ca', '--stdin', '--csr-out', join(dir, 'demo.csr')], `${hsm.soPin}\n${KMSUSER}\n`);
    expect(run1.stderr).toBe('');
    expect(run1.code).toBe(0);
    const caDir = join(wb.stateDir, 'demo-ca', clusterId);
    expect(run1.stdout).toContain(`file://${join(caDir, 'demo-ca-certificate.pem')}`);
    expect(run1.stdout).toContain('demo CA — not for production');
    expect((await stat(join(wb.stateDir, 'demo-ca'))).mode & 0o777).toBe(0o700);
    expect((await stat(caDir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(caDir, 'demo-ca-key.pem'))).mode & 0o777).toBe(0o600);
    const subject = await run('openssl', ['x509', '-in', join(caDir, 'demo-ca-certificate.pem'), '-noout', '-subject', '-nameopt', 'utf8']);
    expect(subject).toContain('demo CA — not for production');
    expect(await run('openssl', ['req', '-verify', '-in', join(dir, 'demo.csr'), '-noout'])).toMatch(/verif(y|ication) OK/i);
    const described = await cli(wb.stateDir, ['cluster', 'describe', clusterId]);
    expect(described.stdout).toMatch(/State\s+│?\s*ACTIVE|ACTIVE/);
    expect(described.stdout).toContain('demo CA — not for production');
    expect(await listCertificates(2)).toContain(`hsm-workbench trust anchor ${clusterId}`);
  });

  it('names the HSM that refuses the SO PIN and asks for no PIN on the command line', async () => {
    const clusterId = await createCluster('bad-so', [3]);
    const refused = await wb.call('InitializeCluster', { ClusterId: clusterId, SoPin: 'wrong-so-pin', KmsuserPassword: KMSUSER, DemoCa: true });
    expect(refused.ok).toBe(false);
    if (refused.ok) return;
    expect(refused.error.code).toBe('CKR_PIN_INCORRECT');
    expect(refused.error.message).toContain(hsm.tokens[3]?.serial ?? '?');
    expect(refused.error.message).toContain('refused the SO PIN');
    expect(refused.error.message).not.toContain('wrong-so-pin');
    const noTty = await cli(wb.stateDir, ['cluster', 'initialize', clusterId]);
    expect(noTty.code).toBe(2);
    expect(noTty.stderr).toContain('--stdin');
  });
});
