import { lstatSync, watch, type Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkbenchError } from '../../shared/errors';
import { DurableJsonFile, readTextIfExists, refuseUnreplaceable, removeStaleTempFiles, writeFileDurably } from './durable-json-file';
import { withLock, type LockHolder } from './lock-file';
import { refuseSymlink } from './safe-files';
import { prepareStateDir } from './state-dir';
import { applyChanges, changesOf, draftOf, problemOf } from './state-changes';
import { appendJournal, JOURNAL_WHAT, journalCorrupt, journalLine, readJournal, startJournal, type JournalChanges, type JournalEntry, type JournalRead } from './state-journal';
import { defaultState, parseState, STATE_SCHEMA_VERSION, toStateDocument, toWorkbenchState, WorkbenchStateSchema, type AuditAnchor, type JournalPosition, type StateDocument, type WorkbenchState } from './state-schema';

export type { WorkbenchState } from './state-schema';

export interface StateStoreOptions {
  stateDir: string;
  /** Who writes: 'gui', 'cli', … — shown to anyone who finds the lock taken. */
  program: string;
  /** How long a writer waits for another process's transaction (default DEFAULT_LOCK_WAIT_MS, 30 s). */
  lockWaitMs?: number;
  /** Told once when a writer has been waiting a while for another process's lock (the CLI says so on stderr). */
  onLockWait?: (holder: LockHolder) => void;
  /** The audit log's last record, written with every change so a lost or shortened log is noticed. */
  auditAnchor?: () => AuditAnchor | undefined;
  /** After how many journal entries a commit folds the journal into the snapshot (default COMPACT_AFTER_ENTRIES; tests fold sooner). */
  compactAfterEntries?: number;
}

export interface StateStore {
  /** Reads the file afresh: another process may have written since. A file of an older schema is migrated in memory only; `transact` writes it in this one. */
  read(): Promise<WorkbenchState>;
  /**
   * Under the cross-process lock: read fresh → `mutate` the draft → durable write → release.
   * If `mutate` throws, nothing is written. Keep `mutate` short (no HSM calls): others wait on it.
   */
  transact<T>(mutate: (state: WorkbenchState) => T | Promise<T>): Promise<T>;
  /**
   * Calls `listener` when another process (a CLI run beside the GUI) or another store replaced the state
   * file; this store's own writes are not reported. Returns the function that stops watching.
   */
  onExternalChange(listener: () => void): () => void;
  readonly path: string;
}

/** A write replaces the file by rename: a new inode, so inode, size and mtime tell one version from the next. */
async function fileVersion(path: string): Promise<string | undefined> {
  return versionOf(await lstat(path).catch(() => undefined));
}

function versionOf(info: Stats | undefined): string | undefined {
  return info && `${info.ino}:${info.size}:${info.mtimeMs}`;
}

/**
 * lstat without the thread pool, for the freshness check every read makes (each crypto call): a look at cached
 * metadata costs a few µs, the thread pool's round trip 30–60 µs, twice per read.
 */
function lstatNow(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}

/**
 * Before the first write in this build's schema, the file as an older build wrote it goes to
 * `state.v<N>.json` (once; a later rewrite never touches it): that build refuses the migrated file, and the
 * admin who goes back to it needs this copy.
 */
async function keepOlderSchema(stateDir: string, text: string): Promise<void> {
  const version = schemaVersionOf(text);
  const backup = join(stateDir, `state.v${version}.json`);
  if ((await refuseSymlink(backup, { what: 'The state file backup' })) !== undefined) return;
  await writeFileDurably(backup, text, { what: 'The state file backup' });
}

function schemaVersionOf(text: string): unknown {
  return (JSON.parse(text) as { schemaVersion?: unknown }).schemaVersion;
}

/** Writes come in bursts (temp file, rename, marker): one look after they settle. */
const WATCH_SETTLE_MS = 100;

export const STATE_FILE = 'state.json';
export const STATE_LOCK_FILE = 'state.lock';
/** The transactions since state.json last folded them in (state-journal.ts). */
export const STATE_JOURNAL_FILE = 'state.journal';
/**
 * Written beside the state file when it is first created. lowdb treats a missing file as empty,
 * so a state.json deleted or moved away (a mistaken rm, a sync tool, an unmounted volume) would
 * silently become a fresh, empty model — and the next write would make that permanent while the
 * key material still sits in the HSMs. The marker records that this directory once had a state
 * file, so its absence is refused instead. A separate file (not a field inside state.json) because
 * what must be detected is precisely the state file being gone.
 */
export const STATE_MARKER_FILE = 'state.created';

/** Whether the marker exists; a symlinked marker is refused like a symlinked state file. */
async function markerExists(path: string): Promise<boolean> {
  return (await refuseSymlink(path, { what: 'The state marker' })) !== undefined;
}

/** Past either, a commit folds the journal into a new snapshot: reads replay it, so it must not grow without bound. */
export const COMPACT_AFTER_ENTRIES = 1000;
export const COMPACT_AFTER_BYTES = 4 * 1024 * 1024;

/** Where this store has read the journal to: the next read or append starts there. */
interface JournalCursor {
  ino: number;
  /** The end of the last good line. */
  end: number;
  /** The sequence number of the last entry (the snapshot's foldedThrough when there is none). */
  lastSeq: number;
  /** The line `end` is at, for messages. */
  lineNumber: number;
  entries: number;
}

/** The materialised state as this store last read it. */
interface Loaded {
  state: WorkbenchState;
  /** Undefined when there is no state file. */
  snapshotVersion?: string;
  /** Which journal the snapshot names; undefined for a file from before the journal (or none): the next write writes a whole snapshot. */
  position?: JournalPosition;
  /** The journal of `position`, or undefined when there is none yet (a compaction was killed before it started it). */
  journal?: JournalCursor;
  /** The snapshot's text when an older schema wrote it: kept as state.v<N>.json before the first write. */
  olderText?: string;
}

function cursorOf(read: JournalRead, lastSeq: number): JournalCursor {
  return { ino: read.ino, end: read.end, lastSeq: read.entries.at(-1)?.seq ?? lastSeq, lineNumber: 1 + (read.header ? 1 : 0) + read.entries.length, entries: read.entries.length };
}

export async function openStateStore(options: StateStoreOptions): Promise<StateStore> {
  const { stateDir, program, lockWaitMs, onLockWait, auditAnchor, compactAfterEntries = COMPACT_AFTER_ENTRIES } = options;
  prepareStateDir(stateDir, { create: true });
  const path = join(stateDir, STATE_FILE);
  const journalPath = join(stateDir, STATE_JOURNAL_FILE);
  await removeStaleTempFiles(path);
  await removeStaleTempFiles(journalPath);
  const markerPath = join(stateDir, STATE_MARKER_FILE);
  const lockPath = join(stateDir, STATE_LOCK_FILE);
  const file = new DurableJsonFile<StateDocument>(path, (text) => parseState(text, path), 'The state file');

  /** Replays journal entries onto `state`, each checked as a transaction's changes are. */
  function replay(state: WorkbenchState, entries: JournalEntry[], firstLine: number): void {
    entries.forEach((entry, i) => {
      const problem = problemOf(state, entry.changes);
      if (problem !== undefined) throw journalCorrupt(journalPath, firstLine + i, `does not match schema version ${STATE_SCHEMA_VERSION} (${problem})`);
      applyChanges(state, entry.changes);
    });
  }

  /** The snapshot and the journal, placed together (see the cases below); refused when they cannot be. */
  async function place(text: string | null, snapshotVersion: string | undefined, journal: JournalRead | undefined): Promise<Loaded> {
    if (text === null) {
      if (await markerExists(markerPath)) {
        throw new WorkbenchError(
          'StateFileMissingException',
          `The state file ${path} is missing, but this directory had one (${markerPath} exists). Nothing was written. ` +
            `Restore state.json from a backup; to start over with an empty model on purpose, delete ${markerPath}.`,
          { details: { path, markerPath } },
        );
      }
      if (journal && journal.entries.length > 0) throw journalCorrupt(journalPath, 2, `holds transactions, but there is no state file (${path}) they follow`);
      return { state: toWorkbenchState(defaultState()) };
    }
    const document = parseState(text, path);
    const position = document.journal;
    const loaded: Loaded = { state: toWorkbenchState(document), snapshotVersion, position };
    if (schemaVersionOf(text) !== STATE_SCHEMA_VERSION) loaded.olderText = text;
    if (!journal) {
      if (position) throw journalCorrupt(journalPath, undefined, `is missing, but the state file ${path} follows generation ${position.generation} of it: its transactions would be lost`);
      return loaded;
    }
    const { header } = journal;
    if (!header) throw journalCorrupt(journalPath, 1, 'has no header');
    if (position && header.generation === position.generation && header.foldedThrough === position.foldedThrough) {
      replay(loaded.state, journal.entries, 2);
      loaded.journal = cursorOf(journal, position.foldedThrough);
      return loaded;
    }
    // The first journal was started and the write of the snapshot that names it was killed: the snapshot is the state.
    if (!position && header.generation === 1 && header.foldedThrough === 0 && journal.entries.length === 0) return loaded;
    // A compaction wrote the snapshot and was killed before it started the new journal: the snapshot holds every entry.
    if (position && header.generation === position.generation - 1 && journal.entries.every((entry) => entry.seq <= position.foldedThrough)) return loaded;
    const snapshot = position ? `generation ${position.generation} through sequence number ${position.foldedThrough}` : 'no journal';
    throw journalCorrupt(journalPath, 1, `is generation ${header.generation} from sequence number ${header.foldedThrough}, which the state file ${path} (${snapshot}) cannot be placed with`);
  }

  async function loadAll(): Promise<Loaded> {
    // Outside the lock a compaction may replace both files between the two reads: read again until the snapshot held still.
    for (let attempt = 1; ; attempt += 1) {
      const snapshotVersion = await fileVersion(path);
      const text = await readTextIfExists(path, 'The state file');
      const journal = await readJournal(journalPath);
      if (attempt < 5 && (await fileVersion(path)) !== snapshotVersion) continue;
      return place(text, snapshotVersion, journal);
    }
  }

  let cache: Loaded | undefined;
  /**
   * How many times a refresh found the files changed by someone else: it replayed entries this store did not
   * write, or reloaded. This store's own commits move the cache themselves, so they never count. A watcher
   * compares it, not file versions: a change this store replayed in its own transaction still counts.
   */
  let externalChanges = 0;
  /** Which files the cache was last brought up to, by a refresh or by this store's own commit. */
  let seenFiles: string | undefined;
  const filesOf = (loaded: Loaded): string => `${String(loaded.snapshotVersion)}|${String(loaded.journal?.ino)}:${String(loaded.journal?.end)}`;

  /** The current state: the cached one plus the journal's new entries when the snapshot is the one cached, else a reload. */
  async function refresh(): Promise<Loaded> {
    const cursor = cache?.journal;
    if (cache && cursor && cache.snapshotVersion !== undefined && versionOf(lstatNow(path)) === cache.snapshotVersion) {
      const info = lstatNow(journalPath);
      if (info?.ino === cursor.ino && info.size === cursor.end) return cache;
      if (info?.ino === cursor.ino && info.size > cursor.end) {
        const read = await readJournal(journalPath, { from: cursor.end, after: cursor.lastSeq, lineNumber: cursor.lineNumber });
        if (read?.ino === cursor.ino) {
          replay(cache.state, read.entries, cursor.lineNumber);
          cache.journal = { ...cursorOf(read, cursor.lastSeq), lineNumber: cursor.lineNumber + read.entries.length, entries: cursor.entries + read.entries.length };
          if (read.entries.length > 0) externalChanges += 1;
          seenFiles = filesOf(cache);
          return cache;
        }
      }
    }
    cache = undefined;
    const loaded = await loadAll();
    cache = loaded;
    if (seenFiles !== undefined && filesOf(loaded) !== seenFiles) externalChanges += 1;
    seenFiles = filesOf(loaded);
    return loaded;
  }

  // One refresh or commit at a time in this process: each moves the cache. Never held across `mutate`.
  let turn: Promise<unknown> = Promise.resolve();
  function exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = turn.then(fn);
    turn = run.catch(() => undefined);
    return run;
  }

  /** A whole snapshot naming `position`, durably: temp file + fsync + rename + directory fsync. */
  async function writeSnapshot(state: WorkbenchState, position: JournalPosition): Promise<string | undefined> {
    await file.write({ ...toStateDocument(state), journal: position });
    return fileVersion(path);
  }

  async function startedJournal(position: JournalPosition): Promise<JournalCursor> {
    await startJournal(journalPath, { generation: position.generation, foldedThrough: position.foldedThrough });
    const read = await readJournal(journalPath);
    if (!read) throw journalCorrupt(journalPath, undefined, 'vanished as it was started');
    return cursorOf(read, position.foldedThrough);
  }

  /**
   * The first write after a file without a journal (none yet, an older schema, a file from before the journal):
   * a whole snapshot in this schema, never an entry against the old one. The journal first, the snapshot naming it
   * second: killed between, the old snapshot with an empty first journal is placed as the old snapshot.
   */
  async function writeFirstSnapshot(loaded: Loaded, state: WorkbenchState): Promise<void> {
    const check = WorkbenchStateSchema.safeParse(toStateDocument(state));
    if (!check.success) throw invalidChange(check.error.issues[0]?.message ?? 'schema');
    if (loaded.olderText !== undefined) await keepOlderSchema(stateDir, loaded.olderText);
    const position = { generation: 1, foldedThrough: 0 };
    const journal = await startedJournal(position);
    cache = { state, position, journal, snapshotVersion: await writeSnapshot(state, position) };
  }

  /** Folds the journal into a new snapshot, then starts the next generation's journal: killed between, the snapshot is placed alone. */
  async function compact(loaded: Loaded, folded: JournalPosition, cursor: JournalCursor): Promise<void> {
    const position = { generation: folded.generation + 1, foldedThrough: cursor.lastSeq };
    try {
      loaded.snapshotVersion = await writeSnapshot(loaded.state, position);
      loaded.position = position;
      loaded.journal = undefined;
      loaded.journal = await startedJournal(position);
    } catch {
      // The transaction is committed already and either file order is placed on the next read: a failed fold
      // (a full disk) loses nothing, and the next commit tries again.
      cache = undefined;
    }
  }

  /** Writes a transaction's changes: an entry appended to the journal, or a whole snapshot when there is no journal to append to yet. */
  async function commit(loaded: Loaded, changes: JournalChanges | undefined): Promise<void> {
    if (!loaded.position || loaded.olderText !== undefined) {
      if (changes) applyChanges(loaded.state, changes);
      await writeFirstSnapshot(loaded, loaded.state);
    } else if (changes) {
      loaded.journal ??= await startedJournal(loaded.position);
      const cursor = loaded.journal;
      const seq = cursor.lastSeq + 1;
      const bytes = await appendJournal(journalPath, cursor.end, journalLine({ seq, generation: loaded.position.generation, changes }));
      applyChanges(loaded.state, changes);
      loaded.journal = { ino: cursor.ino, end: cursor.end + bytes, lastSeq: seq, lineNumber: cursor.lineNumber + 1, entries: cursor.entries + 1 };
      if (loaded.journal.entries >= compactAfterEntries || loaded.journal.end >= COMPACT_AFTER_BYTES) await compact(loaded, loaded.position, loaded.journal);
    }
  }

  return {
    path,
    async read() {
      return draftOf((await exclusive(refresh)).state, { forRead: true });
    },
    async transact(mutate) {
      return withLock({ path: lockPath, program, waitMs: lockWaitMs, onWait: onLockWait, resource: `The state file ${path}` }, async () => {
        const base = await exclusive(refresh);
        // Looked at before anything is written: a marker that must be refused (a symlink) refuses the whole write.
        const marker = markerExists(markerPath);
        await allInOrder([marker, refuseUnreplaceable(path, 'The state file'), refuseUnreplaceable(journalPath, JOURNAL_WHAT)]);
        const hasMarker = await marker;
        const draft = draftOf(base.state);
        const result = await mutate(draft);
        // Another process may have anchored a later record: the anchor only moves forward.
        const anchor = auditAnchor?.();
        if (anchor && anchor.sequenceNumber > (draft.auditAnchor?.sequenceNumber ?? 0)) draft.auditAnchor = anchor;
        const changes = changesOf(base.state, draft);
        // A bug that breaks the schema must not produce a file every later start refuses.
        const problem = changes && problemOf(base.state, changes);
        if (problem !== undefined) throw invalidChange(problem);
        await exclusive(async () => {
          // Under the lock nobody else wrote: the cache is `base`, or the same state reloaded by a read meanwhile.
          const loaded = cache ?? (await refresh());
          try {
            await commit(loaded, changes);
          } catch (error) {
            // Whatever reached the files is placed by the next read; the cache may hold changes that did not.
            cache = undefined;
            throw error;
          }
          seenFiles = cache && filesOf(cache);
        });
        // After the state file, never before: a marker without a file would refuse a fresh directory.
        if (!hasMarker) await writeFileDurably(markerPath, `${new Date().toISOString()}\n`, { what: 'The state marker' });
        return result;
      });
    },
    onExternalChange(listener) {
      let seen: number | undefined;
      let timer: NodeJS.Timeout | undefined;
      const look = async (): Promise<void> => {
        // A change this store cannot read is a change too: the listener's own read reports what is wrong.
        await exclusive(refresh).catch(() => (externalChanges += 1));
        if (seen === undefined || externalChanges === seen) return;
        seen = externalChanges;
        listener();
      };
      // The directory, not the files: a rename puts a new file under the name, which a watch on the old one would miss.
      const watcher = watch(stateDir, { persistent: false }, (_event, name) => {
        if (name !== STATE_FILE && name !== STATE_JOURNAL_FILE) return;
        clearTimeout(timer);
        timer = setTimeout(() => void look(), WATCH_SETTLE_MS);
      });
      // A watcher that fails (the directory went away) leaves the window as it was; the next visit reloads anyway.
      watcher.on('error', () => watcher.close());
      // What this store has read so far is not news: the count from here on is.
      void exclusive(refresh)
        .catch(() => undefined)
        .finally(() => (seen ??= externalChanges));
      return () => {
        clearTimeout(timer);
        watcher.close();
      };
    },
  };
}

/** Waits for checks run together and, when several fail, throws the first one's error: the same refusal whichever finished first. */
async function allInOrder(checks: ReadonlyArray<Promise<unknown>>): Promise<void> {
  const failed = (await Promise.allSettled(checks)).find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
}

function invalidChange(problem: string): WorkbenchError {
  return new WorkbenchError('KMSInternalException', `The change would have made the state file invalid, so it was not written (${problem}).`);
}
