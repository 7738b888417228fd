import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../fixtures/cli';

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

  it('reads the password from the first line of stdin: a 6-character first line is the ValidationException, in no file', async () => {
    const stateDir = await mkdtemp(join(root, 'state-'));
    const run = await cli(stateDir, ['--output', 'json', ...create, '--trust-anchor-certificate', 'x', '--key-store-password-stdin'], 'short6\nlong-enough-second-line\n');
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stderr)).toMatchObject({ Error: { Name: 'ValidationException', Message: expect.stringContaining('KeyStorePassword is 7 to 32 characters') } });
    expect(run.stdout).toBe('');
    expect(run.stdout + run.stderr).not.toContain('short6');
    const files = await allText(stateDir);
    expect(files).not.toContain('short6');
    expect(files).not.toContain('long-enough-second-line');
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
