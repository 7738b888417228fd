import { spawn, spawnSync } from 'node:child_process';
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultState } from '../../main/state/state-schema';
import { openStateStore, STATE_FILE, STATE_LOCK_FILE, STATE_MARKER_FILE } from '../../main/state/state-store';
import { CLI_BIN as BIN } from '../fixtures/cli';
import { rejection } from '../fixtures/outcomes';
import { clusterRecord } from '../fixtures/records';
import { runWriter, startLockHolder, waitForExit } from './state-writer-process';

/** An id no cluster has: DeleteCluster takes the state lock, then finds nothing (no HSM needed). */
const ABSENT_ID = 'cluster-aaaaaaaaaaa';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hsmwb-hardening-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});


async function snapshot(root = dir): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of await readdir(root)) {
    const path = join(root, name);
    const info = await lstat(path);
    files[name] = info.isSymbolicLink() ? `-> ${await readlink(path)}` : info.isFile() ? (await readFile(path)).toString('base64') : `mode ${(info.mode & 0o7777).toString(8)}`;
  }
  return files;
}

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], options: { env?: Record<string, string>; uid?: number; onStderr?: (text: string) => void } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const command = options.uid === undefined ? [process.execPath, BIN] : ['setpriv', `--reuid=${options.uid}`, `--regid=${options.uid}`, '--clear-groups', process.execPath, BIN];
    const env = { ...process.env, HSM_WORKBENCH_LOG: '', ...options.env };
    const child = spawn(command[0] ?? '', [...command.slice(1), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      options.onStderr?.(stderr);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function expectNoStack(run: CliRun): void {
  expect(run.stderr).not.toMatch(/\n\s+at |"stack"/);
}

describe('symbolic links are refused, never replaced or followed (defect 2)', () => {
  it('a symlinked state.json: read and write refused, the link and its target untouched', async () => {
    const target = join(dir, 'elsewhere.json');
    const state = { ...defaultState(), clusters: [clusterRecord('in-target')] };
    await writeFile(target, JSON.stringify(state));
    await symlink(target, join(dir, STATE_FILE));
    const before = await snapshot();
    const store = await openStateStore({ stateDir: dir, program: 'test' });
    for (const attempt of [store.read(), store.transact((s) => void s.clusters.push(clusterRecord('never')))]) {
      const error = await rejection(attempt);
      expect(error.name).toBe('FileSystemException');
      expect(error.message).toContain(`The state file ${join(dir, STATE_FILE)} is a symbolic link (to ${target})`);
      expect(error.message).toContain('Nothing was changed');
    }
    expect(await snapshot()).toEqual(before);
  });

  it('a dangling symlinked state.lock is refused at once, not waited on', async () => {
    await symlink(join(dir, 'nowhere'), join(dir, STATE_LOCK_FILE));
    const store = await openStateStore({ stateDir: dir, program: 'test', lockWaitMs: 60_000 });
    const started = Date.now();
    const error = await rejection(store.transact((s) => void s.clusters.push(clusterRecord('never'))));
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error.name).toBe('FileSystemException');
    expect(error.message).toContain(`The lock file ${join(dir, STATE_LOCK_FILE)} is a symbolic link`);
    expect(await readdir(dir)).toEqual([STATE_LOCK_FILE]);
  });

  it('a symlinked state.created marker is refused', async () => {
    const store = await openStateStore({ stateDir: dir, program: 'test' });
    await store.transact((s) => void s.clusters.push(clusterRecord('kept')));
    await rm(join(dir, STATE_MARKER_FILE));
    await writeFile(join(dir, 'marker-elsewhere'), 'x');
    await symlink(join(dir, 'marker-elsewhere'), join(dir, STATE_MARKER_FILE));
    const before = await snapshot();
    const error = await rejection(store.transact((s) => void s.clusters.push(clusterRecord('never'))));
    expect(error.message).toContain(`The state marker ${join(dir, STATE_MARKER_FILE)} is a symbolic link`);
    expect(await snapshot()).toEqual(before);
  });
});

describe('filesystem errors say what failed, where, the errno and what to do (defect 5)', () => {
  it('state.lock being a directory', async () => {
    await mkdir(join(dir, STATE_LOCK_FILE));
    const store = await openStateStore({ stateDir: dir, program: 'test', lockWaitMs: 60_000 });
    const error = await rejection(store.transact((s) => void s.clusters.push(clusterRecord('never'))));
    expect(error.name).toBe('FileSystemException');
    expect(error.code).toBe('EISDIR');
    expect(error.message).toContain(`The lock file ${join(dir, STATE_LOCK_FILE)} is a directory, not a regular file`);
  });

  it('state.json being a directory or a FIFO (read without blocking)', async () => {
    await mkdir(join(dir, STATE_FILE));
    const store = await openStateStore({ stateDir: dir, program: 'test' });
    expect((await rejection(store.read())).message).toContain(`The state file ${join(dir, STATE_FILE)} is a directory`);
    await rm(join(dir, STATE_FILE), { recursive: true });
    spawnSync('mkfifo', [join(dir, STATE_FILE)]);
    expect((await rejection(store.read())).message).toContain(`The state file ${join(dir, STATE_FILE)} is a FIFO`);
  });

  it('the CLI on a state file it cannot read: a named error with the errno, no stack, exit 1', async () => {
    await mkdir(join(dir, STATE_FILE));
    const run = await cli(['--state-dir', dir, 'cluster', 'delete', '--yes', ABSENT_ID]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^FileSystemException \(EISDIR\): The state file .* is a directory/);
    expectNoStack(run);
  });

  it.runIf(process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0)('a state directory the user may not write: EACCES, the path and the fix', async () => {
    // Root ignores permissions, so the CLI runs as nobody on a directory nobody owns but may not write.
    await mkdir(join(dir, 'audit'), { mode: 0o700 });
    for (const path of [dir, join(dir, 'audit')]) await chown(path, 65534, 65534);
    await chmod(dir, 0o500);
    const run = await cli(['--state-dir', dir, 'cluster', 'delete', '--yes', ABSENT_ID], { uid: 65534 });
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`FileSystemException (EACCES): Could not create the lock file ${join(dir, STATE_LOCK_FILE)}: permission denied (EACCES). Check the owner and mode`);
    expectNoStack(run);
  });

  it('--state-dir naming a file is a usage error (exit 2), with no stack and nothing created', async () => {
    const file = join(dir, 'passwd');
    await writeFile(file, 'root:x:0:0::/root:/bin/sh\n');
    for (const args of [['cluster', 'list'], ['cluster', 'delete', '--yes', ABSENT_ID]]) {
      const run = await cli(['--state-dir', file, ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(new RegExp(`^StateDirectoryException: The state directory ${file} is not a directory`));
      expectNoStack(run);
    }
    const below = await cli(['--state-dir', join(file, 'sub'), 'cluster', 'delete', '--yes', ABSENT_ID]);
    expect(below.code).toBe(2);
    expect(below.stderr).toContain('(ENOTDIR)');
    // A script that asked for JSON gets the refusal as JSON too.
    const json = await cli(['--output', 'json', '--state-dir', file, 'cluster', 'list']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr)).toMatchObject({ Error: { Name: 'StateDirectoryException' } });
    expect(await readdir(dir)).toEqual(['passwd']);
  });
});

describe('the chmod 400 of an admin is honoured', () => {
  it('a read-only state.json is not replaced: the write is refused with the path and the chmod that allows it', async () => {
    const store = await openStateStore({ stateDir: dir, program: 'test' });
    await store.transact((s) => void s.clusters.push(clusterRecord('frozen')));
    await chmod(store.path, 0o400);
    const before = await snapshot();
    const error = await rejection(store.transact((s) => void s.clusters.push(clusterRecord('never'))));
    expect(error.name).toBe('FileSystemException');
    expect(error.message).toContain(`The state file ${store.path} is read-only (mode 0400)`);
    expect(error.message).toContain(`chmod u+w "${store.path}"`);
    expect(await snapshot()).toEqual(before);
    expect((await stat(store.path)).mode & 0o777).toBe(0o400);
    expect((await store.read()).clusters.map((c) => c.ClusterName)).toEqual(['frozen']);
  });
});

describe('the state directory', () => {
  it('read-only commands on a missing state directory say so, and create nothing (a typo in --state-dir)', async () => {
    const typo = join(dir, 'hsm-wrokbench');
    for (const args of [['cluster', 'list'], ['cluster', 'describe', ABSENT_ID]]) {
      const run = await cli(['--state-dir', typo, ...args]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(new RegExp(`^StateDirectoryException: There is no state directory at ${typo}\\.`));
      expect(run.stdout).not.toContain('No clusters');
    }
    expect(await readdir(dir)).toEqual([]);
    // A writer still creates it, private to its owner.
    const write = await cli(['--state-dir', typo, 'cluster', 'delete', '--yes', ABSENT_ID]);
    expect(write.stderr).toMatch(/^CloudHsmClusterNotFoundException/);
    expect((await stat(typo)).mode & 0o777).toBe(0o700);
  });

  it('refuses a world-writable state directory, saying chmod 700', async () => {
    await chmod(dir, 0o777);
    const error = await rejection(openStateStore({ stateDir: dir, program: 'test' }));
    expect(error.name).toBe('StateDirectoryException');
    expect(error.message).toContain(`is writable by every user (mode 0777)`);
    expect(error.message).toContain(`chmod 700 "${dir}"`);
    const run = await cli(['--state-dir', dir, 'cluster', 'list']);
    expect(run.code).toBe(2);
    expect(await readdir(dir)).toEqual([]);
  });

  it('accepts a group-writable state directory whose group is the user\'s own (user-private groups, umask 002)', async () => {
    await chmod(dir, 0o770);
    await expect(openStateStore({ stateDir: dir, program: 'test' })).resolves.toBeDefined();
  });

  it.runIf(process.getuid?.() === 0)('refuses a state directory writable by a group that is not the user\'s own, saying chmod', async () => {
    await chown(dir, 0, 65534);
    await chmod(dir, 0o770);
    const error = await rejection(openStateStore({ stateDir: dir, program: 'test' }));
    expect(error.name).toBe('StateDirectoryException');
    expect(error.message).toContain('is writable by group 65534 (mode 0770), which is not your own group');
    expect(error.message).toContain(`chmod 700 "${dir}"`);
  });

  it.runIf(process.getuid?.() === 0)('refuses a state directory owned by another user, saying chown', async () => {
    await chown(dir, 65534, 65534);
    const error = await rejection(openStateStore({ stateDir: dir, program: 'test' }));
    expect(error.name).toBe('StateDirectoryException');
    expect(error.message).toContain('belongs to uid 65534, not to you (uid 0)');
    expect(error.message).toContain(`chown -R 0 "${dir}"`);
  });
});

describe('unknown fields survive a write of a same-version file (defect 8)', () => {
  it('keeps unknown top-level, cluster and HSM member fields', async () => {
    const cluster = { ...clusterRecord('with-extras'), Hsms: [{ HsmId: 'hsm-1', TokenSerial: 'abc', TokenLabel: null, Zone: 'rack-2' }], Owner: { team: 'pki' } };
    await writeFile(join(dir, STATE_FILE), JSON.stringify({ ...defaultState(), clusters: [cluster], settings: { region: 'eu-1' } }));
    const store = await openStateStore({ stateDir: dir, program: 'test' });
    await store.transact((s) => void s.clusters.push(clusterRecord('added')));
    const written = JSON.parse(await readFile(store.path, 'utf8')) as Record<string, unknown> & { clusters: Record<string, unknown>[] };
    expect(written.settings).toEqual({ region: 'eu-1' });
    expect(written.clusters[0]).toEqual(cluster);
    expect(written.clusters.map((c) => c.ClusterName)).toEqual(['with-extras', 'added']);
  });
});

describe('records on disk meet the request rules (defect 9)', () => {
  const cases: [string, (c: ReturnType<typeof clusterRecord>) => unknown, RegExp][] = [
    ['a name with ESC', (c) => ({ ...c, ClusterName: 'evil\u001b[31m' }), /ClusterName: ClusterName has an invisible or control character \(U\+001B at position 5\)/],
    ['a name with NUL', (c) => ({ ...c, ClusterName: 'a\u0000b' }), /ClusterName/],
    ['an environment key with =', (c) => ({ ...c, ModuleEnvironment: { 'A=B': 'x' } }), /ModuleEnvironment/],
    ['an empty environment key', (c) => ({ ...c, ModuleEnvironment: { '': 'x' } }), /ModuleEnvironment/],
    ['a relative module path', (c) => ({ ...c, ModulePath: 'libsofthsm2.so' }), /ModulePath: ModulePath must be an absolute path/],
  ];
  for (const [what, damage, pattern] of cases) {
    it(`${what}: StateFileCorruptException naming the file and the record`, async () => {
      const good = clusterRecord('good');
      const bad = clusterRecord('bad');
      await writeFile(join(dir, STATE_FILE), JSON.stringify({ ...defaultState(), clusters: [good, damage(bad)] }));
      const before = await snapshot();
      const store = await openStateStore({ stateDir: dir, program: 'test' });
      const error = await rejection(store.read());
      expect(error.name).toBe('StateFileCorruptException');
      expect(error.message).toContain(`The state file ${join(dir, STATE_FILE)}`);
      expect(error.message).toContain(`clusters.1 (ClusterId "${bad.ClusterId}")`);
      expect(error.message).toMatch(pattern);
      expect(error.details?.records).toEqual(['clusters.1']);
      await rejection(store.transact(() => undefined));
      expect(await snapshot()).toEqual(before);
    });
  }

  it('two records with one ClusterId', async () => {
    const one = clusterRecord('one');
    await writeFile(join(dir, STATE_FILE), JSON.stringify({ ...defaultState(), clusters: [one, { ...clusterRecord('two'), ClusterId: one.ClusterId }] }));
    const error = await rejection((await openStateStore({ stateDir: dir, program: 'test' })).read());
    expect(error.name).toBe('StateFileCorruptException');
    expect(error.message).toContain(`clusters.1 (ClusterId "${one.ClusterId}") ClusterId: the same ClusterId as clusters.0`);
  });
});

describe('writers queue for the state lock (doubt: 4 of 20 concurrent creates failed)', () => {
  it('20 concurrent writer processes, default wait: all succeed', async () => {
    const startAt = String(Date.now() + 1_500);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => runWriter(['clusters', dir, '1', `w${i}`], { START_AT: startAt })));
    for (const r of results) expect(r.output, r.stderr).toEqual({ ok: true, result: { written: 1 } });
    expect((await (await openStateStore({ stateDir: dir, program: 'test' })).read()).clusters).toHaveLength(20);
  }, 120_000);

  it('a CLI writer says once that it waits, and for whom, then goes on when the holder is gone', async () => {
    const holder = await startLockHolder(dir, 'gui');
    try {
      const run = await cli(['--state-dir', dir, 'cluster', 'delete', '--yes', ABSENT_ID], {
        onStderr: (text) => {
          if (text.includes('Waiting for the state lock')) holder.kill('SIGKILL');
        },
      });
      const waits = run.stderr.split('\n').filter((line) => line.startsWith('Waiting for the state lock'));
      expect(waits).toEqual([expect.stringContaining(`held by hsm-workbench gui, pid ${holder.pid} on host`)]);
      expect(run.stderr).toMatch(/CloudHsmClusterNotFoundException/);
    } finally {
      holder.kill('SIGKILL');
      await waitForExit(holder);
    }
  });
});
