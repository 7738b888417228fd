import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, open, readdir, readFile, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { rejection } from '../fixtures/outcomes';
import { clusterRecord, cmkRecord } from '../fixtures/records';
import { journalLine } from '../../main/state/state-journal';
import { STATE_SCHEMA_VERSION } from '../../main/state/state-schema';
import { openStateStore, STATE_FILE, STATE_JOURNAL_FILE, type StateStore } from '../../main/state/state-store';
import { WRITER, waitForExit } from './state-writer-process';

const KEY_STORE = 'cks-0123456789abcdef0';
const CLUSTER = 'cluster-abcdefghijk';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hsmwb-journal-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const journalPath = (): string => join(dir, STATE_JOURNAL_FILE);
const lines = async (): Promise<string[]> => (await readFile(journalPath(), 'utf8')).split('\n').filter((line) => line !== '');

async function files(): Promise<Record<string, string>> {
  const all: Record<string, string> = {};
  for (const name of await readdir(dir)) all[name] = (await readFile(join(dir, name))).toString('base64');
  return all;
}

/** A store over a directory whose first write (always a whole snapshot) is done: what follows is journaled. */
async function openPrimed(options: { program?: string; compactAfterEntries?: number } = {}): Promise<StateStore> {
  const store = await openStateStore({ stateDir: dir, program: options.program ?? 'test', compactAfterEntries: options.compactAfterEntries });
  await store.transact(() => undefined);
  return store;
}

async function putKeys(store: StateStore, count: number): Promise<string[]> {
  const ids: string[] = [];
  await store.transact((state) => {
    for (let i = 0; i < count; i += 1) {
      const key = cmkRecord(KEY_STORE, CLUSTER);
      state.keys.put(key);
      ids.push(key.KeyId);
    }
  });
  return ids;
}

describe('the state journal under the store', () => {
  it('at 10,000 keys one more put appends one line of its own size, and state.json is untouched', async () => {
    const store = await openStateStore({ stateDir: dir, program: 'test' });
    await putKeys(store, 10_000);
    const snapshotBefore = await readFile(join(dir, STATE_FILE));
    const journalBefore = await readFile(journalPath());
    const [id] = await putKeys(store, 1);
    // Buffer.equals: a deep equality of megabytes byte by byte would take the test's whole time.
    expect((await readFile(join(dir, STATE_FILE))).equals(snapshotBefore)).toBe(true);
    const journalAfter = await readFile(journalPath());
    expect(journalAfter.subarray(0, journalBefore.length).equals(journalBefore)).toBe(true);
    const appended = journalAfter.subarray(journalBefore.length).toString('utf8');
    expect(appended.split('\n').filter((line) => line !== '')).toHaveLength(1);
    // The bytes of one record (and the anchor-free envelope), not of the 10,000 others.
    expect(appended.length).toBeLessThan(JSON.stringify(cmkRecord(KEY_STORE, CLUSTER)).length + 200);
    expect(appended).toContain(String(id));
    const fresh = await (await openStateStore({ stateDir: dir, program: 'test' })).read();
    expect(fresh.keys.size).toBe(10_001);
    expect(fresh.keys.get(String(id))?.KeyId).toBe(id);
  });

  it('a transaction that changes nothing writes nothing; one whose mutate throws writes nothing and leaves the cache alone', async () => {
    const store = await openStateStore({ stateDir: dir, program: 'test' });
    await store.transact((s) => void s.clusters.push(clusterRecord('one')));
    const before = await files();
    await store.transact(() => undefined);
    await expect(
      store.transact((s) => {
        s.clusters.push(clusterRecord('never'));
        s.keys.put(cmkRecord(KEY_STORE, CLUSTER));
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await files()).toEqual(before);
    const read = await store.read();
    expect(read.clusters.map((c) => c.ClusterName)).toEqual(['one']);
    expect(read.keys.size).toBe(0);
  });

  it('drops a torn last line (a write that never returned), and the next transaction cuts it off', async () => {
    const store = await openPrimed();
    await putKeys(store, 1);
    const good = (await stat(journalPath())).size;
    await appendFile(journalPath(), journalLine({ seq: 3, generation: 1, changes: { set: { torn: true } } }).slice(0, 40));
    const fresh = await openStateStore({ stateDir: dir, program: 'test' });
    expect((await fresh.read()).keys.size).toBe(1);
    const [id] = await putKeys(fresh, 1);
    const after = await lines();
    expect(after).toHaveLength(3);
    expect(after[2]).toContain(String(id));
    expect((await stat(journalPath())).size).toBe(good + Buffer.byteLength(`${after[2]}\n`));
    expect((await store.read()).keys.size).toBe(2);
  });

  it('refuses a damaged line that is not the last (StateFileCorruptException naming file and line), and writes nothing', async () => {
    const store = await openPrimed();
    await putKeys(store, 1);
    await putKeys(store, 1);
    const [header, first, second] = await lines();
    await writeFile(journalPath(), `${header}\n${String(first).replace('"Enabled"', '"Disabled"')}\n${second}\n`);
    const before = await files();
    const fresh = await openStateStore({ stateDir: dir, program: 'test' });
    for (const attempt of [fresh.read(), fresh.transact((s) => void s.clusters.push(clusterRecord('never')))]) {
      const error = await rejection(attempt);
      expect(error.name).toBe('StateFileCorruptException');
      expect(error.message).toContain(`${journalPath()} line 2`);
    }
    expect(await files()).toEqual(before);
  });

  it('refuses a journal gone from beside a snapshot that follows it: its transactions would be lost', async () => {
    const store = await openStateStore({ stateDir: dir, program: 'test' });
    await putKeys(store, 1);
    await rm(journalPath());
    const error = await rejection((await openStateStore({ stateDir: dir, program: 'test' })).read());
    expect(error.name).toBe('StateFileCorruptException');
    expect(error.message).toContain(`${journalPath()} is missing`);
  });

  it('compacts past the threshold: the snapshot holds everything, a new generation starts empty, and nothing is lost', async () => {
    const store = await openPrimed({ compactAfterEntries: 3 });
    const ids = [...(await putKeys(store, 1)), ...(await putKeys(store, 1))];
    expect(await lines()).toHaveLength(3);
    ids.push(...(await putKeys(store, 1)));
    expect(JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8'))).toMatchObject({ journal: { generation: 2, foldedThrough: 3 } });
    expect(await lines()).toHaveLength(1);
    ids.push(...(await putKeys(store, 1)));
    expect(JSON.parse(String((await lines())[1]))).toMatchObject({ seq: 4, generation: 2 });
    const fresh = await (await openStateStore({ stateDir: dir, program: 'test' })).read();
    expect([...fresh.keys.values()].map((k) => k.KeyId)).toEqual(ids);
  });

  it('a compaction killed between its two steps (new snapshot, old journal) is placed, and the next write starts the new journal', async () => {
    const store = await openPrimed({ compactAfterEntries: 3 });
    const ids = [...(await putKeys(store, 1)), ...(await putKeys(store, 1))];
    const oldJournal = await readFile(journalPath(), 'utf8');
    ids.push(...(await putKeys(store, 1)));
    // The old generation's journal with the third entry appended, as the rename of the new one never happened.
    const snapshot = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as { keys: unknown[]; journal: unknown };
    expect(snapshot.journal).toEqual({ generation: 2, foldedThrough: 3 });
    await writeFile(journalPath(), oldJournal + journalLine({ seq: 3, generation: 1, changes: { tables: { keys: [{ put: snapshot.keys[2] as object }] } } }));
    const fresh = await openStateStore({ stateDir: dir, program: 'test' });
    expect([...(await fresh.read()).keys.values()].map((k) => k.KeyId)).toEqual(ids);
    ids.push(...(await putKeys(fresh, 1)));
    expect((await lines()).map((line) => JSON.parse(line) as object)).toMatchObject([{ generation: 2, foldedThrough: 3 }, { seq: 4, generation: 2 }]);
    expect([...(await (await openStateStore({ stateDir: dir, program: 'test' })).read()).keys.values()].map((k) => k.KeyId)).toEqual(ids);
  });

  it('a first journal started beside a file from before the journal, its snapshot never written: the old file is the state', async () => {
    await writeFile(join(dir, STATE_FILE), JSON.stringify({ schemaVersion: STATE_SCHEMA_VERSION, clusters: [clusterRecord('before')], customKeyStores: [], keys: [], aliases: [], orphans: [] }));
    await writeFile(journalPath(), journalLine({ journal: 'hsm-workbench state', generation: 1, foldedThrough: 0 }));
    const store = await openStateStore({ stateDir: dir, program: 'test' });
    expect((await store.read()).clusters.map((c) => c.ClusterName)).toEqual(['before']);
    await store.transact((s) => void s.clusters.push(clusterRecord('after')));
    expect(JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8'))).toMatchObject({ journal: { generation: 1, foldedThrough: 0 }, clusters: [{ ClusterName: 'before' }, { ClusterName: 'after' }] });
  });

  it('two stores (as two processes) interleave writes, each reading the other’s appends', async () => {
    const a = await openPrimed({ program: 'gui' });
    const b = await openStateStore({ stateDir: dir, program: 'cli' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      ids.push(...(await putKeys(i % 2 === 0 ? a : b, 1)));
      expect([...(await (i % 2 === 0 ? b : a).read()).keys.values()].map((k) => k.KeyId)).toEqual(ids);
    }
    expect(await lines()).toHaveLength(6);
  });

  it('onExternalChange hears another store’s append, not its own', async () => {
    const watched = await openStateStore({ stateDir: dir, program: 'gui' });
    const other = await openStateStore({ stateDir: dir, program: 'cli' });
    await putKeys(watched, 1);
    let heard = 0;
    const stop = watched.onExternalChange(() => (heard += 1));
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      await putKeys(watched, 1);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(heard).toBe(0);
      await putKeys(other, 1);
      await expect.poll(() => heard, { timeout: 3000 }).toBe(1);
    } finally {
      stop();
    }
  });

  it('onExternalChange hears another store’s append that this store replayed in its own write before the watcher looked', async () => {
    const watched = await openPrimed({ program: 'gui' });
    const other = await openStateStore({ stateDir: dir, program: 'cli' });
    let heard = 0;
    const stop = watched.onExternalChange(() => (heard += 1));
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      // The watcher waits for writes to settle; this store's write lands inside that wait (the CI race).
      await putKeys(other, 1);
      await putKeys(watched, 1);
      await expect.poll(() => heard, { timeout: 3000 }).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(heard).toBe(1);
    } finally {
      stop();
    }
  });

  it('an append whose fdatasync fails is gone for a reader that saw it meanwhile, even when the next commit has its length (review F4)', async () => {
    const writer = await openPrimed({ program: 'cli' });
    const reader = await openStateStore({ stateDir: dir, program: 'gui' });
    await reader.read();
    const probe = await open(journalPath(), 'r');
    const fileHandle = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    let seenMeanwhile: string[] = [];
    // The device refuses the sync after the line reached the page cache, where a reader outside the lock reads it.
    const sync = vi.spyOn(fileHandle, 'datasync').mockImplementationOnce(async () => {
      seenMeanwhile = [...(await reader.read()).keys.values()].map((k) => k.KeyId);
      throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO', syscall: 'fdatasync' });
    });
    try {
      expect((await rejection(putKeys(writer, 1))).name).toBe('FileSystemException');
    } finally {
      sync.mockRestore();
    }
    expect(seenMeanwhile).toHaveLength(1);
    // The next commit takes the failed one's sequence number and, same-shaped, its exact length.
    const committed = await putKeys(writer, 1);
    expect([...(await reader.read()).keys.values()].map((k) => k.KeyId)).toEqual(committed);
    expect([...(await openStateStore({ stateDir: dir, program: 'test' }).then((s) => s.read())).keys.values()].map((k) => k.KeyId)).toEqual(committed);
  });

  it('kill -9 of a writer, again and again across compactions: every committed transaction is there, in order, and at most the one in flight besides', async () => {
    const committed: string[] = [];
    for (let round = 0; round < 6; round += 1) {
      const child = spawn(process.execPath, [WRITER, 'keys', dir, '100000'], { env: { ...process.env, COMPACT_AFTER_ENTRIES: '7' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      // Killed after a different number of commits each round, mid-transaction.
      await expect.poll(() => stdout.split('\n').length, { timeout: 20_000, interval: 5 }).toBeGreaterThan(5 + round * 3);
      child.kill('SIGKILL');
      await waitForExit(child);
      for (const line of stdout.split('\n')) if (line.startsWith('{"committed"')) committed.push((JSON.parse(line) as { committed: string }).committed);
      const keys = [...(await (await openStateStore({ stateDir: dir, program: 'test' })).read()).keys.values()].map((k) => k.KeyId);
      expect(keys.slice(0, committed.length)).toEqual(committed);
      expect(keys.length - committed.length).toBeLessThanOrEqual(1);
      // The one in flight may have committed unseen: it counts as committed from now on.
      committed.splice(0, committed.length, ...keys);
    }
  }, 120_000);
});
