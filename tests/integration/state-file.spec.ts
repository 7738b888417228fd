import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rejection } from '../fixtures/outcomes';
import { clusterRecord } from '../fixtures/records';
import { DurableJsonFile, tempFilePath } from '../../main/state/durable-json-file';
import { acquireLock } from '../../main/state/lock-file';
import { STATE_SCHEMA_VERSION, toStateDocument } from '../../main/state/state-schema';
import { openStateStore, STATE_FILE, STATE_JOURNAL_FILE, STATE_LOCK_FILE, STATE_MARKER_FILE } from '../../main/state/state-store';
import { runWriter, startLockHolder, waitForExit } from './state-writer-process';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hsmwb-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A pid that certainly belonged to a process that is gone. */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  if (pid === undefined) throw new Error('could not spawn');
  return pid;
}

async function snapshot(): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const name of await readdir(dir)) files[name] = (await readFile(join(dir, name))).toString('base64');
  return files;
}

describe('state file', () => {
  it('starts a fresh directory with defaults and writes nothing until the first transaction', async () => {
    const store = await openStateStore({ stateDir: dir, program: 'test' });
    expect(toStateDocument(await store.read())).toEqual({ schemaVersion: STATE_SCHEMA_VERSION, clusters: [], customKeyStores: [], keys: [], aliases: [], orphans: [] });
    expect(await readdir(dir)).toEqual([]);

    await store.transact((state) => void state.clusters.push(clusterRecord('first')));
    expect((await readdir(dir)).sort()).toEqual([STATE_MARKER_FILE, STATE_FILE, STATE_JOURNAL_FILE].sort());
    expect((await stat(store.path)).mode & 0o777).toBe(0o600);
    expect((await store.read()).clusters.map((c) => c.ClusterName)).toEqual(['first']);
  });

  it('reads fresh from disk what another store (another process) wrote', async () => {
    const a = await openStateStore({ stateDir: dir, program: 'gui' });
    const b = await openStateStore({ stateDir: dir, program: 'cli' });
    await a.transact((s) => void s.clusters.push(clusterRecord('from-a')));
    await b.transact((s) => void s.clusters.push(clusterRecord('from-b')));
    expect((await a.read()).clusters.map((c) => c.ClusterName)).toEqual(['from-a', 'from-b']);
  });

  it('loses no write when three processes each commit 15 transactions at once', async () => {
    const startAt = String(Date.now() + 400);
    const results = await Promise.all(['p', 'q', 'r'].map((tag) => runWriter(['clusters', dir, '15', tag], { START_AT: startAt })));
    for (const r of results) expect(r.output, r.stderr).toEqual({ ok: true, result: { written: 15 } });

    const names = (await (await openStateStore({ stateDir: dir, program: 'test' })).read()).clusters.map((c) => c.ClusterName);
    expect(names).toHaveLength(45);
    for (const tag of ['p', 'q', 'r']) {
      // Each writer's own transactions land in its order.
      expect(names.filter((n) => n.startsWith(`${tag}-`))).toEqual(Array.from({ length: 15 }, (_, i) => `${tag}-${i}`));
    }
    expect((await readdir(dir)).sort()).toEqual([STATE_MARKER_FILE, STATE_FILE, STATE_JOURNAL_FILE].sort());
  });

  it('refuses a writer with StateLockedException naming the live holder once the wait runs out', async () => {
    const before = await (async () => {
      const store = await openStateStore({ stateDir: dir, program: 'test' });
      await store.transact((s) => void s.clusters.push(clusterRecord('kept')));
      return readFile(store.path);
    })();
    const holder = await startLockHolder(dir, 'cli');
    try {
      const store = await openStateStore({ stateDir: dir, program: 'gui', lockWaitMs: 300 });
      const started = Date.now();
      const error = await rejection(store.transact((s) => void s.clusters.push(clusterRecord('never'))));
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(error.name).toBe('StateLockedException');
      expect(error.message).toContain(`locked by hsm-workbench cli, pid ${holder.pid} on host ${hostname()} since`);
      expect(error.details?.holder).toMatchObject({ pid: holder.pid, program: 'cli', hostname: hostname() });
      expect(await readFile(store.path)).toEqual(before);
      // Readers are never blocked by a writer.
      expect((await store.read()).clusters.map((c) => c.ClusterName)).toEqual(['kept']);
    } finally {
      holder.kill('SIGKILL');
      await waitForExit(holder);
    }
  });

  it('takes over the lock of a killed process, with two processes racing for it', async () => {
    const holder = await startLockHolder(dir, 'cli');
    holder.kill('SIGKILL');
    await waitForExit(holder);
    const lock = JSON.parse(await readFile(join(dir, STATE_LOCK_FILE), 'utf8')) as { pid: number };
    expect(lock.pid).toBe(holder.pid); // the lock really was left behind

    const startAt = String(Date.now() + 300);
    const results = await Promise.all(['x', 'y'].map((tag) => runWriter(['clusters', dir, '5', tag], { START_AT: startAt, LOCK_WAIT_MS: '1000' })));
    for (const r of results) expect(r.output, r.stderr).toEqual({ ok: true, result: { written: 5 } });
    const store = await openStateStore({ stateDir: dir, program: 'test' });
    expect((await store.read()).clusters).toHaveLength(10);
    expect((await readdir(dir)).sort()).toEqual([STATE_MARKER_FILE, STATE_FILE, STATE_JOURNAL_FILE].sort()); // no lock, no takeover files
  });

  it('lets exactly one of many concurrent waiters hold a stale lock at a time', async () => {
    const lockPath = join(dir, 'race.lock');
    await writeFile(lockPath, JSON.stringify({ pid: deadPid(), hostname: hostname(), program: 'cli', startedAt: new Date().toISOString(), nonce: 'dead' }));
    let inside = 0;
    let maxInside = 0;
    await Promise.all(
      Array.from({ length: 12 }, async () => {
        const lock = await acquireLock({ path: lockPath, program: 'test', waitMs: 5_000 });
        inside += 1;
        maxInside = Math.max(maxInside, inside);
        await new Promise((r) => setTimeout(r, 2));
        inside -= 1;
        await lock.release();
      }),
    );
    expect(maxInside).toBe(1);
    expect(await readdir(dir)).toEqual([]);
  });

  it('takes over a lock file left empty by a process killed while creating it', async () => {
    const lockPath = join(dir, STATE_LOCK_FILE);
    await writeFile(lockPath, '');
    const past = new Date(Date.now() - 60_000);
    await utimes(lockPath, past, past);
    const store = await openStateStore({ stateDir: dir, program: 'test', lockWaitMs: 200 });
    await store.transact((s) => void s.clusters.push(clusterRecord('after-empty-lock')));
    expect((await store.read()).clusters).toHaveLength(1);
  });

  it('never presumes a holder on another host dead, and says how to clear its lock', async () => {
    const lockPath = join(dir, STATE_LOCK_FILE);
    await writeFile(lockPath, JSON.stringify({ pid: deadPid(), hostname: 'elsewhere.example', program: 'gui', startedAt: '2025-01-01T00:00:00.000Z', nonce: 'n' }));
    const store = await openStateStore({ stateDir: dir, program: 'cli', lockWaitMs: 100 });
    const error = await rejection(store.transact(() => undefined));
    expect(error.name).toBe('StateLockedException');
    expect(error.message).toContain('hsm-workbench gui');
    expect(error.message).toContain(`delete ${lockPath}`);
  });

  describe('refuses rather than replaces', () => {
    async function expectRefused(content: string, name: string, pattern: RegExp): Promise<void> {
      const path = join(dir, STATE_FILE);
      await writeFile(path, content);
      const before = await snapshot();
      const store = await openStateStore({ stateDir: dir, program: 'test' });
      for (const attempt of [store.read(), store.transact((s) => void s.clusters.push(clusterRecord('never')))]) {
        const error = await rejection(attempt);
        expect(error.name).toBe(name);
        expect(error.message).toMatch(pattern);
        expect(error.message).toContain(path);
      }
      expect(await snapshot()).toEqual(before); // same bytes, no marker, no temp file, no lock
    }

    it('a file that is not JSON: StateFileCorruptException', async () => {
      await expectRefused('{"schemaVersion":1,"clusters":[', 'StateFileCorruptException', /not valid JSON.*left untouched/);
    });

    it('a file that fails the schema: StateFileCorruptException', async () => {
      await expectRefused(
        JSON.stringify({ schemaVersion: 1, clusters: [{ ClusterId: 'nope' }], customKeyStores: [], keys: [], aliases: [] }),
        'StateFileCorruptException',
        /does not match schema version 1.*left untouched/,
      );
    });

    it('a file from a newer workbench: StateFileVersionException', async () => {
      await expectRefused(
        JSON.stringify({ schemaVersion: STATE_SCHEMA_VERSION + 1, clusters: [], somethingNew: true }),
        'StateFileVersionException',
        new RegExp(`schema version ${STATE_SCHEMA_VERSION + 1}.*newer hsm-workbench`),
      );
    });

    it('a state file that is gone from a directory that had one: StateFileMissingException', async () => {
      const store = await openStateStore({ stateDir: dir, program: 'test' });
      await store.transact((s) => void s.clusters.push(clusterRecord('lost')));
      await unlink(store.path);
      for (const attempt of [store.read(), store.transact((s) => void s.clusters.push(clusterRecord('never')))]) {
        const error = await rejection(attempt);
        expect(error.name).toBe('StateFileMissingException');
        expect(error.message).toContain(STATE_MARKER_FILE);
      }
      expect((await readdir(dir)).sort()).toEqual([STATE_MARKER_FILE, STATE_JOURNAL_FILE]);
    });
  });

  describe('durable writes', () => {
    it('removes temp files of writers killed mid-write, and only theirs', async () => {
      const path = join(dir, STATE_FILE);
      const dead = tempFilePath(path, deadPid());
      const live = tempFilePath(path, process.pid);
      // The same dead pid on another host sharing the directory: never presumed dead, as for lock files.
      const elsewhere = tempFilePath(path, deadPid(), '0badc0de');
      await writeFile(dead, '{"half":');
      await writeFile(live, '{"being written":');
      await writeFile(elsewhere, '{"on another host":');
      await openStateStore({ stateDir: dir, program: 'test' });
      expect((await readdir(dir)).sort()).toEqual([basename(live), basename(elsewhere)].sort());
    });

    it('leaves the previous file intact and no temp file behind when mutate throws', async () => {
      const store = await openStateStore({ stateDir: dir, program: 'test' });
      await store.transact((s) => void s.clusters.push(clusterRecord('kept')));
      const before = await snapshot();
      await expect(
        store.transact((s) => {
          s.clusters.push(clusterRecord('half-done'));
          throw new Error('midway');
        }),
      ).rejects.toThrow('midway');
      expect(await snapshot()).toEqual(before);
    });

    it('writes nothing when an async mutate rejects after changing the draft', async () => {
      const store = await openStateStore({ stateDir: dir, program: 'test' });
      await store.transact((s) => void s.clusters.push(clusterRecord('kept')));
      const before = await snapshot();
      await expect(
        store.transact(async (s) => {
          s.clusters.length = 0;
          await new Promise((r) => setTimeout(r, 5));
          throw new Error('later');
        }),
      ).rejects.toThrow('later');
      expect(await snapshot()).toEqual(before);
    });

    it('refuses to write a state the schema would reject later', async () => {
      const store = await openStateStore({ stateDir: dir, program: 'test' });
      await store.transact((s) => void s.clusters.push(clusterRecord('kept')));
      const before = await snapshot();
      const error = await rejection(store.transact((s) => void s.clusters.push({ ...clusterRecord('bad'), ClusterId: 'not-an-id' })));
      expect(error.message).toContain('not written');
      expect(await snapshot()).toEqual(before);
    });

    it('cleans up its temp file when the write itself fails (rename refused)', async () => {
      const target = join(dir, 'occupied');
      await mkdir(target);
      await writeFile(join(target, 'inside'), 'x');
      const file = new DurableJsonFile<{ a: number }>(target, (text) => JSON.parse(text) as { a: number });
      await expect(file.write({ a: 1 })).rejects.toThrow();
      expect(await readdir(dir)).toEqual(['occupied']);
      expect(await readdir(target)).toEqual(['inside']);
    });

    it('returns what mutate returns and releases the lock', async () => {
      const store = await openStateStore({ stateDir: dir, program: 'test' });
      const result = await store.transact((s) => {
        s.clusters.push(clusterRecord('one'));
        return s.clusters.length;
      });
      expect(result).toBe(1);
      expect(await readdir(dir)).not.toContain(STATE_LOCK_FILE);
    });
  });
});
