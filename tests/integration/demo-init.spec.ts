import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStateStore } from '../../main/state/state-store';
import { cli, type CliRun } from '../fixtures/cli';
import { demoDirOf, demoTokens, forgetDemoRecord } from '../fixtures/demo';
import { associateKeyStore, clusterRecord } from '../fixtures/records';
import { expectWorkingDemo } from './demo-expectations';
import { startLockHolder, waitForExit } from './state-writer-process';

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'hsm-workbench-demo-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

/** A demo init makes three RSA key pairs in SoftHSM: a test that makes two demos needs more than the default on a busy machine. */
const DEMO_TIMEOUT_MS = 120_000;

/** JSON output, for the response; `refusedDemoInit` prints errors as a user reads them. */
function demoInit(): Promise<CliRun> {
  return cli(stateDir, ['--output', 'json', 'demo', 'init']);
}

/** A short lock wait: a refusal for a held lock need not take the default 30 s. */
function refusedDemoInit(): Promise<CliRun> {
  return cli(stateDir, ['--lock-wait', '2', 'demo', 'init']);
}

describe('demo init checks everything that can refuse it before it touches a token', () => {
  it('fails on a corrupt state file with the state error and makes no token; once the state is fixed, the next run succeeds', async () => {
    await writeFile(join(stateDir, 'state.json'), '{bad\n');
    const refused = await refusedDemoInit();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^StateFileCorruptException: The state file .*state\.json is not valid JSON/);
    expect(existsSync(demoDirOf(stateDir))).toBe(false);
    expect(await readFile(join(stateDir, 'state.json'), 'utf8')).toBe('{bad\n');

    await rm(join(stateDir, 'state.json'));
    const out = await expectWorkingDemo(stateDir, await demoInit());
    expect(out.Recovery).toBeNull();
  });

  it('refuses a taken demo name and makes no token; once that cluster is deleted, the next run succeeds', async () => {
    const taken = clusterRecord('Demo-Cluster');
    await (await openStateStore({ stateDir, program: 'test' })).transact((state) => {
      state.clusters.push(taken);
      // Written behind the workbench's back, with no audit log: say a new chain starts here on purpose.
      state.auditAnchor = null;
    });
    const refused = await refusedDemoInit();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^ClusterNameInUseException: A cluster named "Demo-Cluster" already exists/);
    expect(refused.stderr).toContain(`hsm-workbench cluster delete ${taken.ClusterId} --yes`);
    expect(existsSync(demoDirOf(stateDir))).toBe(false);

    expect((await cli(stateDir, ['cluster', 'delete', taken.ClusterId, '--yes'])).code).toBe(0);
    await expectWorkingDemo(stateDir, await demoInit());
  });

  it('refuses while another process holds the state lock and makes no token; once it is released, the next run succeeds', async () => {
    const holder = await startLockHolder(stateDir, 'gui');
    try {
      const refused = await refusedDemoInit();
      expect(refused.code).toBe(1);
      // It says whom it waits for, then gives up when --lock-wait runs out.
      expect(refused.stderr).toMatch(new RegExp(`^Waiting for the state lock, held by hsm-workbench gui, pid ${holder.pid}`));
      expect(refused.stderr).toMatch(new RegExp(`^StateLockedException: .* is locked by hsm-workbench gui, pid ${holder.pid}`, 'm'));
      expect(existsSync(demoDirOf(stateDir))).toBe(false);
    } finally {
      holder.kill('SIGKILL');
      await waitForExit(holder);
    }
    await expectWorkingDemo(stateDir, await demoInit());
  });
});

describe('demo init makes an ACTIVE cluster', { timeout: DEMO_TIMEOUT_MS }, () => {
  it('prints the demo CA certificate as the trust anchor, labelled, and the kms command that uses it; the audit record has every step and no secret', async () => {
    const run = await cli(stateDir, ['demo', 'init']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const clusterId = /ClusterId\s+│ (cluster-\w+)/.exec(run.stdout)?.[1] ?? '';
    const anchor = join(stateDir, 'demo-ca', clusterId, 'demo-ca-certificate.pem');
    expect(run.stdout).toContain(`Trust anchor (demo CA — not for production): ${anchor}\n`);
    expect(run.stdout).toContain(
      `\n  hsm-workbench kms create-custom-key-store --custom-key-store-name demo-key-store --cloud-hsm-cluster-id ${clusterId} --trust-anchor-certificate file://${anchor} --key-store-password-stdin\n`,
    );
    expect(run.stdout).toMatch(/State\s+│ ACTIVE /);

    const password = /^kmsuser password: (\S+)$/m.exec(run.stdout)?.[1] ?? '';
    const soPin = /^SO PIN:\s+(\S+)$/m.exec(run.stdout)?.[1] ?? '';
    expect(password).not.toBe('');
    expect(soPin).not.toBe('');
    const audit = await readFile(join(stateDir, 'audit', 'audit-log.jsonl'), 'utf8');
    const steps = audit
      .split('\n')
      .filter((line) => line.includes('"eventName":"CreateDemoCluster"') && line.includes('"auditPhase":"Step"'))
      .map((line) => (JSON.parse(line) as { additionalEventData: { step: { name: string } } }).additionalEventData.step.name);
    for (const step of ['SetKmsuserPassword', 'MakeClusterSigningKeyAndMemberKey', 'MakeMemberKey', 'ImportTrustedMemberKeys', 'IssueWithDemoCa', 'StoreCertificates']) expect(steps).toContain(step);
    for (const secret of [password, soPin]) expect(audit).not.toContain(secret);
  });
});

describe('demo init after an interrupted one', { timeout: DEMO_TIMEOUT_MS }, () => {
  it('starts over a demo whose credentials were never confirmed shown: its cluster record and tokens are replaced, and it says so', async () => {
    const first = await expectWorkingDemo(stateDir, await demoInit());
    const oldSerials = first.Cluster.Hsms.map((h) => h.TokenSerial);
    // As a run killed after recording its cluster but before the CLI confirmed the credentials were printed leaves it.
    const journalPath = join(demoDirOf(stateDir), 'demo-init.json');
    const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { Phase: string; StartedAt: string; Owner: { Pid: number } };
    // A pid above Linux's pid_max: no process has it.
    await writeFile(journalPath, JSON.stringify({ ...journal, Phase: 'started', Owner: { ...journal.Owner, Pid: 2 ** 22 + 1 } }));

    const again = await expectWorkingDemo(stateDir, await demoInit());
    expect(again.Recovery).toBe(
      `A previous demo init (started ${journal.StartedAt}) was interrupted before its credentials were confirmed shown; ` +
        `its cluster record ${first.Cluster.ClusterId} was deleted and its half-made tokens in ${demoDirOf(stateDir)} were removed and made again.`,
    );
    expect(again.Cluster.ClusterId).not.toBe(first.Cluster.ClusterId);
    expect((await demoTokens(stateDir)).map((t) => t.serial)).not.toEqual(expect.arrayContaining(oldSerials));

    // Now its credentials were shown: complete, and a further run refuses without touching it.
    const refused = await refusedDemoInit();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/already exists/);
    expect((await demoTokens(stateDir)).map((t) => t.serial).sort()).toEqual(again.Cluster.Hsms.map((h) => h.TokenSerial).sort());
  });

  it('removes the demo CA of the demo it starts over, found by the cluster id its journal names, and makes a new one', async () => {
    const first = await expectWorkingDemo(stateDir, await demoInit());
    const journalPath = join(demoDirOf(stateDir), 'demo-init.json');
    const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { ClusterId?: string; Owner: { Pid: number } };
    expect(journal.ClusterId).toBe(first.Cluster.ClusterId);
    expect(existsSync(dirname(first.TrustAnchorCertificatePath))).toBe(true);
    // As a run killed after recording its cluster leaves it; and the record already gone, as a start-over killed part-way leaves it.
    await writeFile(journalPath, JSON.stringify({ ...journal, Phase: 'started', Owner: { ...journal.Owner, Pid: 2 ** 22 + 1 } }));
    await forgetDemoRecord(stateDir, first.Cluster.ClusterId);

    const again = await expectWorkingDemo(stateDir, await demoInit());
    expect(again.TrustAnchorCertificatePath).not.toBe(first.TrustAnchorCertificatePath);
    expect(existsSync(dirname(first.TrustAnchorCertificatePath))).toBe(false);
    expect(await readdir(join(stateDir, 'demo-ca'))).toEqual([again.Cluster.ClusterId]);
  });

  it('does not start over an interrupted demo whose cluster a key store uses: whoever connected it knows its credentials', async () => {
    const first = await expectWorkingDemo(stateDir, await demoInit());
    const journalPath = join(demoDirOf(stateDir), 'demo-init.json');
    const journal = JSON.parse(await readFile(journalPath, 'utf8')) as { Owner: { Pid: number } };
    await writeFile(journalPath, JSON.stringify({ ...journal, Phase: 'started', Owner: { ...journal.Owner, Pid: 2 ** 22 + 1 } }));
    const store = await openStateStore({ stateDir, program: 'test' });
    await store.transact((state) => associateKeyStore(state, first.Cluster.ClusterId, 'cks-0123456789abcdef0'));
    const before = await readFile(store.path, 'utf8');

    const refused = await refusedDemoInit();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/already exists/);
    expect(await readFile(store.path, 'utf8')).toBe(before);
    expect((await demoTokens(stateDir)).map((t) => t.serial).sort()).toEqual(first.Cluster.Hsms.map((h) => h.TokenSerial).sort());
  });

  it('removes a directory left before any token was touched, and says so', async () => {
    await mkdir(demoDirOf(stateDir));
    const out = await expectWorkingDemo(stateDir, await demoInit());
    expect(out.Recovery).toBe(`A previous demo init was interrupted before it touched any token; its empty directory ${demoDirOf(stateDir)} was removed and the demo made afresh.`);
  });

  it('refuses a demo directory that is a symbolic link, or that holds files it did not make, and removes nothing', async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), 'hsm-workbench-precious-'));
    try {
      await writeFile(join(elsewhere, 'precious.txt'), 'keep me\n');
      await symlink(elsewhere, demoDirOf(stateDir));
      const linked = await refusedDemoInit();
      expect(linked.code).toBe(1);
      expect(linked.stderr).toMatch(/The demo directory .*demo-softhsm is a symbolic link/);
      expect(await readdir(elsewhere)).toEqual(['precious.txt']);

      await rm(demoDirOf(stateDir));
      await mkdir(demoDirOf(stateDir));
      await writeFile(join(demoDirOf(stateDir), 'notes.txt'), 'mine\n');
      const strays = await refusedDemoInit();
      expect(strays.code).toBe(1);
      expect(strays.stderr).toMatch(/has no demo journal but holds files the workbench did not make there \(notes\.txt\)\. Nothing was removed/);
      expect(await readFile(join(demoDirOf(stateDir), 'notes.txt'), 'utf8')).toBe('mine\n');
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('leaves alone a demo another live process is making', async () => {
    await mkdir(demoDirOf(stateDir));
    // This test's own process stands in for the maker: alive, and not the CLI process.
    const journal = { Phase: 'started', StartedAt: new Date().toISOString(), Owner: { Pid: process.pid, Hostname: hostname() } };
    await writeFile(join(demoDirOf(stateDir), 'demo-init.json'), JSON.stringify(journal));
    const refused = await refusedDemoInit();
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`StateLockedException: The demo in ${demoDirOf(stateDir)} is being made by hsm-workbench pid ${process.pid}`);
    expect(JSON.parse(await readFile(join(demoDirOf(stateDir), 'demo-init.json'), 'utf8'))).toEqual(journal);
  });
});
