import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuditRecords, verifyChain } from '../../main/audit/audit-log';
import { cli, CLI_BIN, type CliRun } from '../fixtures/cli';
import { startP11KitServer, type P11KitServer } from '../fixtures/p11kit-server';
import { createSoftHsmCluster, showSlots, type SoftHsmCluster } from '../fixtures/softhsm';

const KMSUSER_PASSWORD = 'demo-kmsuser-pw';

describe('hsm-workbench CLI', () => {
  let stateDir: string;
  let clusterId: string;

  beforeAll(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'hsm-workbench-cli-'));
  });
  afterAll(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('demo init creates two SoftHSM2 tokens and a cluster; cluster check passes on them', async () => {
    const init = await cli(stateDir, ['--output', 'json', 'demo', 'init', '--kmsuser-password-stdin'], `${KMSUSER_PASSWORD}\n`);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    const out = JSON.parse(init.stdout) as { Cluster: { ClusterId: string; Hsms: unknown[] }; DemoCredentials: { KmsuserPassword: string | null; SoPin: string } };
    expect(out.Cluster.Hsms).toHaveLength(2);
    expect(out.DemoCredentials.KmsuserPassword).toBeNull(); // chosen by the admin: not echoed back
    // The tokens were initialised through the HSM host: softhsm2-util, as a peer, sees both with kmsuser set.
    const peer = (await showSlots({ SOFTHSM2_CONF: join(stateDir, 'demo-softhsm', 'softhsm2.conf') })).filter((s) => s.initialized);
    expect(peer.map((s) => s.label).sort()).toEqual(['demo-hsm-1', 'demo-hsm-2']);
    // The audit log has the demo's creation, with the secrets redacted.
    const audit = await readFile(join(stateDir, 'audit', 'audit-log.jsonl'), 'utf8');
    expect(audit).toContain('"eventName":"CreateDemoCluster"');
    expect(audit).not.toContain(KMSUSER_PASSWORD);
    expect(audit).not.toContain(out.DemoCredentials.SoPin);
    clusterId = out.Cluster.ClusterId;

    const check = await cli(stateDir, ['cluster', 'check', clusterId, '--kmsuser-password-stdin'], `${KMSUSER_PASSWORD}\n`);
    expect(check.code).toBe(0);
    expect(check.stdout).toMatch(/^PASS\s+kmsuser can log in/m);
    expect(check.stdout).toMatch(/Cluster checks passed .*2 active HSM\(s\)/);
    expect(check.stdout + check.stderr).not.toContain(KMSUSER_PASSWORD);

    const again = await cli(stateDir, ['demo', 'init']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);
  });

  it('lists, describes and refuses to delete without confirmation', async () => {
    const list = await cli(stateDir, ['cluster', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(clusterId);

    const described = await cli(stateDir, ['--output', 'json', 'cluster', 'describe', clusterId]);
    expect(JSON.parse(described.stdout)).toMatchObject({ Cluster: { ClusterId: clusterId, ClusterName: 'demo-cluster' } });

    const unconfirmed = await cli(stateDir, ['cluster', 'delete', clusterId]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toMatch(/--yes/);
    // Not a validation error: nothing was wrong with the request, it was not confirmed.
    expect(unconfirmed.stderr).toMatch(/^OperationCancelledException: Not deleted: there is no terminal/);
    expect((await cli(stateDir, ['cluster', 'list'])).stdout).toContain(clusterId);
  });

  it('declining the delete prompt at a terminal cancels, exit 1, and deletes nothing', async () => {
    const declined = await atTerminal(stateDir, ['cluster', 'delete', clusterId], 'n\n');
    expect(declined.stdout).toMatch(/Delete cluster .*\[y\/N\]/);
    expect(declined.stdout).toMatch(/OperationCancelledException: Not deleted: the deletion of cluster-\w+ was not confirmed/);
    expect(declined.stdout).not.toMatch(/ValidationException/);
    expect(declined.code).toBe(1);
    expect((await cli(stateDir, ['cluster', 'list'])).stdout).toContain(clusterId);
  });

  it('says what is wrong with an --env that is not NAME=VALUE, for list-slots and cluster create', async () => {
    const module = ['--module', '/usr/lib/softhsm/libsofthsm2.so'];
    for (const command of [['hsm', 'list-slots', ...module], ['cluster', 'create', '--name', 'x', ...module, '--token-label', 'x']]) {
      const noEquals = await cli(stateDir, [...command, '--env', 'FOO']);
      expect(noEquals.code).toBe(2);
      expect(noEquals.stderr).toMatch(/^error: option '--env <NAME=VALUE>' argument 'FOO' is invalid\. Expected NAME=VALUE \(there is no "="\)/);
      const noName = await cli(stateDir, [...command, '--env', '=x']);
      expect(noName.code).toBe(2);
      expect(noName.stderr).toMatch(/^error: option '--env <NAME=VALUE>' argument '=x' is invalid\. Expected NAME=VALUE: the variable name before "=" is empty/);
    }
  });

  it('exits 2 for usage and validation errors, with a named error', async () => {
    const badId = await cli(stateDir, ['cluster', 'describe', 'not-a-cluster']);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toMatch(/^ValidationException: .*ClusterId/);

    const unknownId = await cli(stateDir, ['cluster', 'describe', 'cluster-aaaaaaaaaaa']);
    expect(unknownId.code).toBe(1);
    expect(unknownId.stderr).toMatch(/^CloudHsmClusterNotFoundException/);

    expect((await cli(stateDir, ['cluster', 'frobnicate'])).code).toBe(2);
    expect((await cli(stateDir, ['hsm', 'list-slots', '--module', '/usr/lib/softhsm/libsofthsm2.so', '--env', 'NOEQUALS'])).code).toBe(2);
    // There is no way to pass a secret on the command line.
    const argvSecret = await cli(stateDir, ['cluster', 'check', clusterId, '--kmsuser-password', 'x']);
    expect(argvSecret.code).toBe(2);
    expect(argvSecret.stderr).toMatch(/unknown option/);
  });

  it('exits 1 when a check fails', async () => {
    const wrong = await cli(stateDir, ['--output', 'json', 'cluster', 'check', clusterId, '--kmsuser-password-stdin'], 'wrong-password\n');
    expect(wrong.code).toBe(1);
    const report = JSON.parse(wrong.stdout) as { Report: { Passed: boolean; Checks: Array<{ CheckId: string; Status: string; PredictedConnectionErrorCode: string | null }> } };
    expect(report.Report.Passed).toBe(false);
    // The first HSM refuses the password; the second is not asked, so it keeps all its login tries.
    expect(report.Report.Checks.filter((c) => c.CheckId === 'hsm.kmsuser-login').map((c) => [c.Status, c.PredictedConnectionErrorCode])).toEqual([
      ['fail', 'INVALID_CREDENTIALS'],
      ['skipped', null],
    ]);
  });

  it('leaves an audit log whose hash chain verifies over everything the commands above did', async () => {
    const records = await readAuditRecords(join(stateDir, 'audit', 'audit-log.jsonl'));
    expect(verifyChain(records)).toMatchObject({ valid: true, count: records.length });
    const names = new Set(records.map((r) => r.eventName));
    for (const name of ['CreateDemoCluster', 'CheckCluster', 'DescribeClusters']) expect(names).toContain(name);
    // Every change is preceded by its Started record (the second demo init was refused after starting);
    // refusals (validation, unknown ids) are there too.
    // (The demo's Step records, kmsuser and cluster initialization, come between its first two.)
    const demoPhases = records.filter((r) => r.eventName === 'CreateDemoCluster').map((r) => (r.additionalEventData as { auditPhase?: string } | undefined)?.auditPhase);
    expect(demoPhases.filter((phase) => phase !== 'Step')).toEqual(['Started', 'Completed', 'Started', 'Failed']);
    expect(records.some((r) => r.errorCode === 'ValidationException')).toBe(true);
    expect(records.every((r) => r.userIdentity.type === 'LocalUser')).toBe(true);
  });
});

/** Runs the built CLI on a pseudo-terminal (util-linux `script`), typing `input`; the terminal's output comes back as stdout. */
function atTerminal(stateDir: string, args: string[], input: string): Promise<CliRun> {
  const command = [process.execPath, CLI_BIN, '--state-dir', stateDir, ...args].map((a) => `'${a}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? -1, signal, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('hsm-workbench CLI and a network HSM that does not answer', () => {
  let hsm: SoftHsmCluster;
  let stateDir: string;
  let server: P11KitServer | undefined;
  beforeAll(async () => {
    hsm = await createSoftHsmCluster({ tokens: 1, labelPrefix: 'net' });
    stateDir = await mkdtemp(join(tmpdir(), 'hsm-workbench-cli-net-'));
  });
  afterAll(async () => {
    server?.kill('SIGCONT');
    await server?.stop();
    await hsm.cleanup();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('hsm list-slots exits 1 and says no connection was made when the p11-kit server is not there', async () => {
    const address = `unix:path=${join(stateDir, 'no-server.sock')}`;
    for (const output of ['table', 'json']) {
      const run = await cli(stateDir, ['--output', output, 'hsm', 'list-slots', '--module', '/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so', '--env', `P11_KIT_SERVER_ADDRESS=${address}`]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`No connection was made to the p11-kit server at ${address}: The module loaded but lists no slots at all.`);
    }
  });

  it('--timeout reaches the core: list-slots, cluster create and cluster check give up on a frozen server after it', async () => {
    server = await startP11KitServer({ providerModule: hsm.modulePath, env: hsm.env });
    const module = ['--module', server.clientModulePath, '--env', `P11_KIT_SERVER_ADDRESS=${server.env.P11_KIT_SERVER_ADDRESS}`];
    const created = await cli(stateDir, ['--output', 'json', 'cluster', 'create', '--name', 'net', ...module, '--token-serial', hsm.tokens[0]?.serial ?? '']);
    expect(created.code).toBe(0);
    const { Cluster } = JSON.parse(created.stdout) as { Cluster: { ClusterId: string } };

    server.kill('SIGSTOP');
    const listed = await cli(stateDir, ['hsm', 'list-slots', ...module, '--timeout', '1.5']);
    expect(listed.code).toBe(1);
    expect(listed.stderr).toMatch(/^HsmHostTimeoutException: .*within 1\.5 s/);

    const create = await cli(stateDir, ['cluster', 'create', '--name', 'net-2', ...module, '--token-serial', hsm.tokens[0]?.serial ?? '', '--timeout', '1']);
    expect(create.code).toBe(1);
    expect(create.stderr).toMatch(/^HsmHostTimeoutException: .*within 1 s/);

    const checked = await cli(stateDir, ['--output', 'json', 'cluster', 'check', Cluster.ClusterId, '--timeout', '1']);
    expect(checked.code).toBe(1);
    const failed = (JSON.parse(checked.stdout) as { Report: { Checks: Array<{ Status: string; Evidence: string[]; PredictedConnectionErrorCode: string | null }> } }).Report.Checks.filter((c) => c.Status === 'fail');
    expect(failed[0]?.PredictedConnectionErrorCode).toBe('NETWORK_ERRORS');
    expect(failed[0]?.Evidence.join(' ')).toMatch(/HsmHostTimeoutException: .*within 1 s/);

    const bad = await cli(stateDir, ['cluster', 'check', Cluster.ClusterId, '--timeout', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: option '--timeout <seconds>' argument '0' is invalid\. Expected a number of seconds greater than 0/);
  }, 60_000);
});

describe('hsm list-slots against pkcs11-tool, an independent peer', () => {
  let hsm: SoftHsmCluster;
  let stateDir: string;
  beforeAll(async () => {
    hsm = await createSoftHsmCluster({ tokens: 2, userPin: KMSUSER_PASSWORD, labelPrefix: 'peer' });
    stateDir = await mkdtemp(join(tmpdir(), 'hsm-workbench-cli-'));
  });
  afterAll(async () => {
    await hsm.cleanup();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('reports the same slots, labels and serials as pkcs11-tool -L', async () => {
    const ours = await cli(stateDir, ['--output', 'json', 'hsm', 'list-slots', '--module', hsm.modulePath, '--env', `SOFTHSM2_CONF=${hsm.conf}`]);
    expect(ours.code).toBe(0);
    const slots = (JSON.parse(ours.stdout) as { Slots: Array<{ SlotId: string; Token: { Label: string; SerialNumber: string; Flags: string[] } | null }> }).Slots;

    const { stdout } = await promisify(execFile)('pkcs11-tool', ['--module', hsm.modulePath, '-L'], { env: { ...process.env, SOFTHSM2_CONF: hsm.conf } });
    // pkcs11-tool prints "Slot N (0xID): description" then "  token label        : X" and "  serial num         : Y".
    const peer = stdout
      .split(/\n(?=Slot \d+)/)
      .filter((block) => block.startsWith('Slot'))
      .map((block) => ({
        SlotId: String(Number.parseInt(/\(0x([0-9a-f]+)\)/i.exec(block)?.[1] ?? 'NaN', 16)),
        Label: /token label\s*:\s*(.*)/.exec(block)?.[1]?.trim() ?? null,
        SerialNumber: /serial num\s*:\s*(.*)/.exec(block)?.[1]?.trim() ?? null,
      }));

    expect(slots.map((s) => ({ SlotId: s.SlotId, Label: s.Token?.Flags.includes('CKF_TOKEN_INITIALIZED') ? s.Token.Label : null, SerialNumber: s.Token?.Flags.includes('CKF_TOKEN_INITIALIZED') ? s.Token.SerialNumber : null }))).toEqual(
      peer.map((p) => ({ ...p, Label: p.SerialNumber ? p.Label : null, SerialNumber: p.SerialNumber || null })),
    );
    expect(peer.filter((p) => p.SerialNumber).map((p) => p.SerialNumber).sort()).toEqual(hsm.tokens.map((t) => t.serial).sort());
  });

  it('names an uninitialised token as such, not by its blank label and "(serial )"', async () => {
    // SoftHSM always offers one free, uninitialised token.
    const table = await cli(stateDir, ['hsm', 'list-slots', '--module', hsm.modulePath, '--env', `SOFTHSM2_CONF=${hsm.conf}`]);
    expect(table.stdout).toMatch(/│ \d+ +│ \(uninitialised\) +│ +│ .*│ not initialized +│/);
    const missing = await cli(stateDir, ['cluster', 'create', '--name', 'ghost', '--module', hsm.modulePath, '--env', `SOFTHSM2_CONF=${hsm.conf}`, '--token-serial', '0000000000000000']);
    expect(missing.stderr).toMatch(/^TokenNotFoundException: .*Tokens present: .*an uninitialised token \(slot \d+\)\./);
    expect(missing.stderr).not.toContain('(serial )');
  });

  it('creates a cluster from flags (by serial and by label), describes it, and deletes it with --yes', async () => {
    const [first, second] = hsm.tokens;
    if (!first || !second) throw new Error('fixture has two tokens');
    const created = await cli(stateDir, [
      '--output', 'json', 'cluster', 'create', '--name', 'from-flags', '--module', hsm.modulePath, '--env', `SOFTHSM2_CONF=${hsm.conf}`,
      '--token-serial', first.serial, '--token-label', second.label,
    ]);
    expect(created.stderr).toBe('');
    const { Cluster } = JSON.parse(created.stdout) as { Cluster: { ClusterId: string; Hsms: Array<{ TokenSerial: string }> } };
    expect(Cluster.Hsms.map((h) => h.TokenSerial)).toEqual([first.serial, second.serial]);

    const table = await cli(stateDir, ['cluster', 'describe', Cluster.ClusterId]);
    expect(table.stdout).toContain('from-flags');
    expect(table.stdout).toContain(second.label);

    const deleted = await cli(stateDir, ['cluster', 'delete', Cluster.ClusterId, '--yes']);
    expect(deleted.code).toBe(0);
    expect((await cli(stateDir, ['cluster', 'describe', Cluster.ClusterId])).code).toBe(1);
  });

  it('refuses a --query naming no function before the change, and never reports a change that happened as a usage error (review F5)', async () => {
    const create = (query: string): Promise<CliRun> =>
      cli(stateDir, ['--query', query, 'cluster', 'create', '--name', 'queried', '--module', hsm.modulePath, '--env', `SOFTHSM2_CONF=${hsm.conf}`, '--token-label', 'peer-1', '--token-label', 'peer-2']);
    const clusterNames = async (): Promise<string> => (await cli(stateDir, ['--query', 'Clusters[].ClusterName', '--output', 'json', 'cluster', 'list'])).stdout;

    const misspelt = await create('lenght(Cluster.Hsms)');
    expect(misspelt.code).toBe(2);
    expect(misspelt.stderr).toMatch(/argument 'lenght\(Cluster\.Hsms\)' is invalid\. .*there is no function lenght\(\)/);
    const arity = await create('length(Cluster.Hsms, Cluster.Hsms)');
    expect(arity.code).toBe(2);
    expect(arity.stderr).toMatch(/length\(\) takes 1 argument, not 2/);
    expect(JSON.parse(await clusterNames())).not.toContain('queried');

    // Only a type error is left for after the call: the cluster is made, and the exit says so (1, not 2).
    const typeError = await create('abs(Cluster.ClusterName)');
    expect(typeError.stdout).toBe('');
    expect(typeError.stderr).toMatch(/^QueryFailedException: The operation succeeded, but --query could not be applied to its response: /);
    expect(typeError.code).toBe(1);
    expect(JSON.parse(await clusterNames())).toContain('queried');
  });
});
