import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, type CliRun } from '../fixtures/cli';

// The built CLI on a fresh `demo init`, as the README walks an admin through it: every CMK command with the AWS
// CLI's shorthand, fileb:// blobs, --query and --output text.
describe('hsm-workbench kms for CMKs on a fresh demo init', () => {
  let root: string;
  let stateDir: string;
  const password = 'demo-kmsuser-pw';
  const kms = async (args: string[], stdin = ''): Promise<CliRun> => cli(stateDir, ['kms', ...args], stdin);
  /** A command that must succeed, its stdout without the final newline. */
  const ok = async (args: string[], stdin = ''): Promise<string> => {
    const run = await kms(args, stdin);
    expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(0);
    return run.stdout.replace(/\n$/, '');
  };

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'hsm-workbench-kms-cmk-cli-'));
    stateDir = join(root, 'state');
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('creates, describes, lists, aliases, encrypts and decrypts, disables and enables, schedules and cancels deletion', { timeout: 600_000 }, async () => {
    const demo = await cli(stateDir, ['--output', 'json', 'demo', 'init', '--kmsuser-password-stdin'], `${password}\n`);
    expect(demo.code, demo.stderr).toBe(0);
    const { Cluster, TrustAnchorCertificatePath } = JSON.parse(demo.stdout) as { Cluster: { ClusterId: string }; TrustAnchorCertificatePath: string };

    const storeId = await ok(
      ['create-custom-key-store', '--custom-key-store-name', 'demo-key-store', '--cloud-hsm-cluster-id', Cluster.ClusterId, '--trust-anchor-certificate', `file://${TrustAnchorCertificatePath}`, '--key-store-password-stdin', '--query', 'CustomKeyStoreId', '--output', 'text'],
      `${password}\n`,
    );
    expect(storeId).toMatch(/^cks-[0-9a-f]{17}$/);
    expect(await ok(['connect-custom-key-store', '--custom-key-store-id', storeId])).toBe('');

    // A bad expression is a usage error before anything runs: no key is made.
    const typo = await kms(['create-key', '--origin', 'AWS_CLOUDHSM', '--custom-key-store-id', storeId, '--query', 'KeyMetadata.[']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/option '--query <expression>' argument 'KeyMetadata\.\[' is invalid\. Expected a JMESPath expression/);

    const keyId = await ok(['create-key', '--origin', 'AWS_CLOUDHSM', '--custom-key-store-id', storeId, '--description', 'cli test key', '--tags', 'TagKey=Purpose,TagValue=test', 'TagKey=Team,TagValue="cli, ops"', '--query', 'KeyMetadata.KeyId', '--output', 'text']);
    expect(keyId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(JSON.parse(await ok(['list-resource-tags', '--key-id', keyId, '--output', 'json']))).toMatchObject({
      Tags: [
        { TagKey: 'Purpose', TagValue: 'test' },
        { TagKey: 'Team', TagValue: 'cli, ops' },
      ],
    });

    // describe-key as text: the KeyMetadata line (sorted keys), then its list of algorithms.
    const described = (await ok(['describe-key', '--key-id', keyId, '--output', 'text'])).split('\n');
    expect(described[0]).toMatch(new RegExp(`^KEYMETADATA\\t111122223333\\tarn:aws:kms:local-1:111122223333:key/${keyId}\\t`));
    expect(described[0]?.split('\t')).toEqual(expect.arrayContaining(['cli test key', 'True', 'Enabled', 'AWS_CLOUDHSM', storeId]));
    expect(described).toContain('ENCRYPTIONALGORITHMS\tSYMMETRIC_DEFAULT');
    expect(await ok(['list-keys', '--output', 'text'])).toBe(`KEYS\tarn:aws:kms:local-1:111122223333:key/${keyId}\t${keyId}`);

    expect(await ok(['create-alias', '--alias-name', 'alias/cli-test', '--target-key-id', keyId])).toBe('');
    expect(await ok(['list-aliases', '--query', "Aliases[?AliasName=='alias/cli-test'].TargetKeyId", '--output', 'text'])).toBe(keyId);

    // --max-items / --starting-token / --page-size page on the client, as the AWS CLI: one alias at a time, two per call.
    for (const name of ['alias/cli-test-2', 'alias/cli-test-3']) expect(await ok(['create-alias', '--alias-name', name, '--target-key-id', keyId])).toBe('');
    const allAliases = (JSON.parse(await ok(['list-aliases', '--output', 'json'])) as { Aliases: Array<{ AliasName: string }> }).Aliases.map((a) => a.AliasName);
    expect(allAliases).toEqual(expect.arrayContaining(['alias/cli-test', 'alias/cli-test-2', 'alias/cli-test-3']));
    const walked: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = JSON.parse(await ok(['list-aliases', '--max-items', '1', '--page-size', '2', '--output', 'json', ...(nextToken === undefined ? [] : ['--starting-token', nextToken])])) as { Aliases: Array<{ AliasName: string }>; NextToken?: string };
      walked.push(...page.Aliases.map((a) => a.AliasName));
      nextToken = page.NextToken;
    } while (nextToken !== undefined && walked.length <= allAliases.length);
    expect(walked).toEqual(allAliases);
    const firstTag = await ok(['list-resource-tags', '--key-id', keyId, '--max-items', '1', '--output', 'text']);
    expect(firstTag).toMatch(/^TAGS\tPurpose\ttest\nNEXTTOKEN\t\S+$/);
    const tagToken = /NEXTTOKEN\t(\S+)$/.exec(firstTag)?.[1] ?? '';
    expect(await ok(['list-resource-tags', '--key-id', keyId, '--starting-token', tagToken, '--output', 'text'])).toBe('TAGS\tTeam\tcli, ops');
    expect(JSON.parse(await ok(['list-keys', '--max-items', '1', '--output', 'json']))).toEqual({ Keys: [{ KeyId: keyId, KeyArn: `arn:aws:kms:local-1:111122223333:key/${keyId}` }] });
    const badToken = await kms(['list-keys', '--starting-token', 'bm90IGEgdG9rZW4=']);
    expect(badToken.code).toBe(2);
    expect(badToken.stderr).toMatch(/Expected the NextToken a previous call of this command printed/);

    // encrypt … --query CiphertextBlob --output text | base64 -d > ct.bin; decrypt --ciphertext-blob fileb://ct.bin … | base64 -d
    const plain = Buffer.from([0, 1, 2, 0x0a, 0xff, ...Buffer.from('secret-plaintext-xyz')]);
    await writeFile(join(root, 'plain.bin'), plain);
    const ciphertext = await ok(['encrypt', '--key-id', 'alias/cli-test', '--plaintext', `fileb://${join(root, 'plain.bin')}`, '--encryption-context', 'purpose=test,team=cli', '--query', 'CiphertextBlob', '--output', 'text']);
    await writeFile(join(root, 'ct.bin'), Buffer.from(ciphertext, 'base64'));
    const decrypted = await kms(['decrypt', '--ciphertext-blob', `fileb://${join(root, 'ct.bin')}`, '--encryption-context', '{"team":"cli","purpose":"test"}', '--query', 'Plaintext', '--output', 'text']);
    expect(decrypted.code, decrypted.stderr).toBe(0);
    expect(Buffer.from(decrypted.stdout.trim(), 'base64')).toEqual(plain);
    // Base64 text on argv is a blob too; a wrong context is AWS's exception, and the plaintext is in no message.
    const wrong = await kms(['decrypt', '--ciphertext-blob', ciphertext, '--encryption-context', 'purpose=other']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/(^|\n)InvalidCiphertextException: /);
    const asArgv = await kms(['encrypt', '--key-id', keyId, '--plaintext', plain.toString('base64'), '--query', 'KeyId', '--output', 'text']);
    expect(asArgv.stdout.trim()).toBe(`arn:aws:kms:local-1:111122223333:key/${keyId}`);
    expect([wrong, asArgv, decrypted].map((r) => r.stderr).join('')).not.toMatch(/secret-plaintext-xyz|c2VjcmV0/);
    const files = (await readdir(stateDir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    const stored = (await Promise.all(files.map((f) => readFile(f, 'latin1')))).join('\n');
    expect(stored).not.toMatch(/secret-plaintext-xyz/);
    expect(stored).not.toContain(plain.toString('base64'));

    const state = async (): Promise<string> => ok(['describe-key', '--key-id', keyId, '--query', 'KeyMetadata.KeyState', '--output', 'text']);
    expect(await ok(['disable-key', '--key-id', keyId])).toBe('');
    expect(await state()).toBe('Disabled');
    const refused = await kms(['encrypt', '--key-id', keyId, '--plaintext', `fileb://${join(root, 'plain.bin')}`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/(^|\n)DisabledException: /);
    expect(await ok(['enable-key', '--key-id', keyId])).toBe('');
    expect(await state()).toBe('Enabled');

    expect(await ok(['schedule-key-deletion', '--key-id', 'alias/cli-test', '--pending-window-in-days', '7', '--query', '[KeyState, PendingWindowInDays]', '--output', 'text'])).toBe('PendingDeletion\t7');
    expect(await ok(['cancel-key-deletion', '--key-id', keyId, '--query', 'KeyId', '--output', 'text'])).toBe(`arn:aws:kms:local-1:111122223333:key/${keyId}`);
    expect(await state()).toBe('Disabled');
    // Nothing is due: nothing deleted, said as such.
    expect(await ok(['run-deletions'])).toBe('Deleted: none');
    expect(await ok(['run-deletions', '--output', 'json'])).toBe('{\n  "Deleted": []\n}');
  });
});
