import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateStore } from '../../main/state/state-store';
import { cli } from '../fixtures/cli';
import { activateCluster, makeClusterPki } from '../fixtures/cluster-pki';
import { createSoftHsmCluster } from '../fixtures/softhsm';

/** Every file under `dir`, as text, for grepping for a secret. */
async function allText(dir: string): Promise<string> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
  return (await Promise.all(files.map((f) => readFile(f, 'utf8')))).join('\n');
}

// The built CLI, generated from the real operations table.
describe('hsm-workbench kms (generated from the contract)', () => {
  let root: string;
  const create = ['kms', 'create-custom-key-store', '--custom-key-store-name', 'ExampleKeyStore', '--cloud-hsm-cluster-id', 'cluster-234567abcde'];

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hsm-workbench-kms-cli-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('describe-custom-key-stores prints {"CustomKeyStores":[]} on a fresh state directory, and on a demo cluster\'s; a reader does not make a state directory', async () => {
    const stateDir = await mkdtemp(join(root, 'state-'));
    const fresh = await cli(stateDir, ['--output', 'json', 'kms', 'describe-custom-key-stores']);
    expect(fresh.stderr).toBe('');
    expect(fresh.code).toBe(0);
    expect(JSON.parse(fresh.stdout)).toEqual({ CustomKeyStores: [] });
    const asText = await cli(stateDir, ['kms', 'describe-custom-key-stores']);
    expect(asText.stdout).toBe('CustomKeyStores: none\n');

    // Real SoftHSM2 tokens under the state directory: still no store until one is created.
    const demo = await cli(stateDir, ['demo', 'init', '--kmsuser-password-stdin'], 'demo-kmsuser-pw\n');
    expect(demo.code).toBe(0);
    expect(JSON.parse((await cli(stateDir, ['--output', 'json', 'kms', 'describe-custom-key-stores'])).stdout)).toEqual({ CustomKeyStores: [] });

    const missing = await cli(join(root, 'no-such-dir'), ['kms', 'describe-custom-key-stores']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^StateDirectoryException: There is no state directory/);
    expect(existsSync(join(root, 'no-such-dir'))).toBe(false);
  });

  it('an unknown id is the service\'s named error, exit 1, in the output format asked for', async () => {
    const stateDir = await mkdtemp(join(root, 'state-'));
    const run = await cli(stateDir, ['--output', 'json', 'kms', 'connect-custom-key-store', '--custom-key-store-id', 'cks-0123456789abcdef0']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(JSON.parse(run.stderr)).toMatchObject({ Error: { Name: 'CustomKeyStoreNotFoundException' } });
  });

  it('runs a key store\'s life on real SoftHSM2 tokens: create from file:// and stdin, connect waits for CONNECTED, disconnect prints nothing ({} as JSON)', async () => {
    const password = 'kmsuser-cli-pw-1';
    const hsm = await createSoftHsmCluster({ tokens: 2, userPin: password, labelPrefix: 'kmscli' });
    try {
      const stateDir = await mkdtemp(join(root, 'state-'));
      const env = Object.entries(hsm.env).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
      const made = await cli(stateDir, ['--output', 'json', 'cluster', 'create', '--name', 'prod', '--module', hsm.modulePath, ...env, ...hsm.tokens.flatMap((t) => ['--token-serial', t.serial])]);
      expect(made.code).toBe(0);
      const clusterId = (JSON.parse(made.stdout) as { Cluster: { ClusterId: string } }).Cluster.ClusterId;
      // Initialization and trust are other commands' work: recorded here as they leave it.
      const pki = await makeClusterPki();
      await (await openStateStore({ stateDir, program: 'test' })).transact((state) => activateCluster(state, clusterId, pki));
      const anchor = join(root, 'customerCA.pem');
      await writeFile(anchor, pki.trustAnchor);

      const created = await cli(
        stateDir,
        ['--output', 'json', 'kms', 'create-custom-key-store', '--custom-key-store-name', 'ExampleKeyStore', '--cloud-hsm-cluster-id', clusterId, '--trust-anchor-certificate', `file://${anchor}`, '--key-store-password-stdin'],
        `${password}\n`,
      );
      // stderr may say which secret store protection is in force (the secrets helper's notice): not an error.
      expect(created.code).toBe(0);
      const id = (JSON.parse(created.stdout) as { CustomKeyStoreId: string }).CustomKeyStoreId;
      expect(id).toMatch(/^cks-[0-9a-f]{17}$/);

      const connect = await cli(stateDir, ['kms', 'connect-custom-key-store', '--custom-key-store-id', id]);
      expect([connect.code, connect.stdout]).toEqual([0, '']);
      expect(connect.stderr).toMatch(/(^|\n)ConnectionState: CONNECTED\n$/);
      const described = await cli(stateDir, ['--output', 'json', 'kms', 'describe-custom-key-stores', '--custom-key-store-id', id]);
      expect(JSON.parse(described.stdout)).toMatchObject({ CustomKeyStores: [{ CustomKeyStoreId: id, ConnectionState: 'CONNECTED', TrustAnchorCertificate: pki.trustAnchor }] });

      const disconnect = await cli(stateDir, ['--output', 'json', 'kms', 'disconnect-custom-key-store', '--custom-key-store-id', id]);
      expect([disconnect.code, disconnect.stdout]).toEqual([0, '{}\n']);
      const again = await cli(stateDir, ['kms', 'disconnect-custom-key-store', '--custom-key-store-id', id]);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/^CustomKeyStoreInvalidStateException: /);
      expect(await allText(stateDir)).not.toContain(password);
      expect([created, connect, disconnect].map((r) => r.stdout + r.stderr).join('')).not.toContain(password);
    } finally {
      await hsm.cleanup();
    }
  });

  it('lists the six custom key store commands under kms --help', async () => {
    const help = await cli(join(root, 'unused'), ['kms', '--help']);
    expect(help.code).toBe(0);
    for (const command of ['create-custom-key-store', 'describe-custom-key-stores', 'connect-custom-key-store', 'disconnect-custom-key-store', 'update-custom-key-store', 'delete-custom-key-store']) {
      expect(help.stdout).toContain(command);
    }
    const connect = await cli(join(root, 'unused'), ['kms', 'connect-custom-key-store', '--help']);
    expect(connect.stdout).toMatch(/--custom-key-store-id <value>/);
    expect(connect.stdout).toMatch(/--no-wait/);
  });

  it('refuses --key-store-password on argv with exit 2, says to use --key-store-password-stdin, echoes nothing and creates nothing', async () => {
    const stateDir = join(root, 'never-made');
    const run = await cli(stateDir, [...create, '--trust-anchor-certificate', 'x', '--key-store-password', 'hunter22-on-argv']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: --key-store-password is not accepted: .*Pass --key-store-password-stdin/);
    expect(run.stdout + run.stderr).not.toContain('hunter22-on-argv');
    expect(existsSync(stateDir)).toBe(false);
  });

  it('reads the password as the one line of stdin: a 6-character line is the ValidationException, in no file', async () => {
    const stateDir = await mkdtemp(join(root, 'state-'));
    const run = await cli(stateDir, ['--output', 'json', ...create, '--trust-anchor-certificate', 'x', '--key-store-password-stdin'], 'short6\n');
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stderr)).toMatchObject({ Error: { Name: 'ValidationException', Message: expect.stringContaining('KeyStorePassword is 7 to 32 characters') } });
    expect(run.stdout).toBe('');
    expect(run.stdout + run.stderr).not.toContain('short6');
    expect(await allText(stateDir)).not.toContain('short6');
  });

  it('refuses a second line on stdin with exit 2, as for the SO PIN: neither line is taken, none is echoed or kept', async () => {
    const stateDir = await mkdtemp(join(root, 'state-'));
    const run = await cli(stateDir, ['--output', 'json', ...create, '--trust-anchor-certificate', 'x', '--key-store-password-stdin'], 'first-line-pw\nlong-enough-second-line\n');
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stderr)).toMatchObject({ Error: { Name: 'ValidationException', Message: expect.stringContaining('stdin holds 2 line(s) where 1 are expected (line 1: KeyStorePassword)') } });
    expect(run.stdout).toBe('');
    expect(run.stdout + run.stderr).not.toMatch(/first-line-pw|long-enough-second-line/);
    expect(await allText(stateDir)).not.toMatch(/first-line-pw|long-enough-second-line/);
  });

  it('reads --trust-anchor-certificate from a file:// path: its text reaches the request', async () => {
    const stateDir = await mkdtemp(join(root, 'state-'));
    const big = join(root, 'too-big.crt');
    await writeFile(big, `-----BEGIN CERTIFICATE-----\n${'A'.repeat(5000)}\n-----END CERTIFICATE-----\n`);
    const run = await cli(stateDir, [...create, '--trust-anchor-certificate', `file://${big}`, '--key-store-password-stdin'], 'kmsuser-pw-ok\n');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^ValidationException: .*TrustAnchorCertificate is 1 to 5000 characters/);

    const missing = await cli(stateDir, [...create, '--trust-anchor-certificate', `file://${join(root, 'customerCA.crt')}`, '--key-store-password-stdin'], 'kmsuser-pw-ok\n');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`There is no file at ${join(root, 'customerCA.crt')} (ENOENT)`);
  });
});
