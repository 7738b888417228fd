import { watch } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { WorkbenchError } from '../../shared/errors';
import { DurableJsonFile, removeStaleTempFiles, writeFileDurably } from './durable-json-file';
import { withLock, type LockHolder } from './lock-file';
import { refuseSymlink } from './safe-files';
import { prepareStateDir } from './state-dir';
import { defaultState, parseState, STATE_SCHEMA_VERSION, toStateDocument, toWorkbenchState, WorkbenchStateSchema, type AuditAnchor, type StateDocument, type WorkbenchState } from './state-schema';

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
  const info = await lstat(path).catch(() => undefined);
  return info && `${info.ino}:${info.size}:${info.mtimeMs}`;
}

/**
 * Before the first write in this build's schema, the file as an older build wrote it goes to
 * `state.v<N>.json` (once; a later rewrite never touches it): that build refuses the migrated file, and the
 * admin who goes back to it needs this copy.
 */
async function keepOlderSchema(stateDir: string, text: string | undefined): Promise<void> {
  if (text === undefined) return;
  const version = (JSON.parse(text) as { schemaVersion?: unknown }).schemaVersion;
  if (typeof version !== 'number' || version >= STATE_SCHEMA_VERSION) return;
  const backup = join(stateDir, `state.v${version}.json`);
  if ((await refuseSymlink(backup, { what: 'The state file backup' })) !== undefined) return;
  await writeFileDurably(backup, text, { what: 'The state file backup' });
}

/** Writes come in bursts (temp file, rename, marker): one look after they settle. */
const WATCH_SETTLE_MS = 100;

export const STATE_FILE = 'state.json';
export const STATE_LOCK_FILE = 'state.lock';
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

export async function openStateStore(options: StateStoreOptions): Promise<StateStore> {
  const { stateDir, program, lockWaitMs, onLockWait, auditAnchor } = options;
  prepareStateDir(stateDir, { create: true });
  const path = join(stateDir, STATE_FILE);
  await removeStaleTempFiles(path);
  const markerPath = join(stateDir, STATE_MARKER_FILE);
  const lockPath = join(stateDir, STATE_LOCK_FILE);
  // The text behind the last load: a file of an older schema is kept as it was before this build first rewrites it.
  let loadedText: string | undefined;
  const file = new DurableJsonFile<StateDocument>(
    path,
    (text) => {
      loadedText = text;
      return parseState(text, path);
    },
    'The state file',
  );

  const adapter = {
    async read(): Promise<StateDocument | null> {
      const data = await file.read();
      if (data === null && (await markerExists(markerPath))) {
        throw new WorkbenchError(
          'StateFileMissingException',
          `The state file ${path} is missing, but this directory had one (${markerPath} exists). Nothing was written. ` +
            `Restore state.json from a backup; to start over with an empty model on purpose, delete ${markerPath}.`,
          { details: { path, markerPath } },
        );
      }
      return data;
    },
    write: (data: StateDocument): Promise<void> => file.write(data),
  };

  /** The version of the file this store last wrote: a watcher does not report it as someone else's change. */
  let ownVersion: string | undefined;

  /** A fresh database per call: lowdb's Low keeps its old data when the adapter returns null. */
  async function load(): Promise<Low<StateDocument>> {
    loadedText = undefined;
    const db = new Low<StateDocument>(adapter, defaultState());
    await db.read();
    return db;
  }

  return {
    path,
    async read() {
      return toWorkbenchState((await load()).data);
    },
    async transact(mutate) {
      return withLock({ path: lockPath, program, waitMs: lockWaitMs, onWait: onLockWait, resource: `The state file ${path}` }, async () => {
        const db = await load();
        const loadedFrom = loadedText;
        // Looked at before anything is written: a marker that must be refused (a symlink) refuses the whole write.
        const hasMarker = await markerExists(markerPath);
        const draft = toWorkbenchState(db.data);
        const result = await mutate(draft);
        db.data = toStateDocument(draft);
        // Another process may have anchored a later record: the anchor only moves forward.
        const anchor = auditAnchor?.();
        if (anchor && anchor.sequenceNumber > (db.data.auditAnchor?.sequenceNumber ?? 0)) db.data.auditAnchor = anchor;
        // A bug that breaks the schema must not produce a file every later start refuses.
        const checked = WorkbenchStateSchema.safeParse(db.data);
        if (!checked.success) {
          throw new WorkbenchError('KMSInternalException', `The change would have made the state file invalid, so it was not written (${checked.error.issues[0]?.message ?? 'schema'}).`);
        }
        await keepOlderSchema(stateDir, loadedFrom);
        await db.write();
        ownVersion = await fileVersion(path);
        // After the state file, never before: a marker without a file would refuse a fresh directory.
        if (!hasMarker) await writeFileDurably(markerPath, `${new Date().toISOString()}\n`, { what: 'The state marker' });
        return result;
      });
    },
    onExternalChange(listener) {
      let seen: string | undefined;
      let timer: NodeJS.Timeout | undefined;
      const look = async (): Promise<void> => {
        const version = await fileVersion(path);
        if (version === seen || version === ownVersion) return;
        seen = version;
        listener();
      };
      // The directory, not the file: a rename puts a new file under the name, which a watch on the old one would miss.
      const watcher = watch(stateDir, { persistent: false }, (_event, name) => {
        if (name !== STATE_FILE) return;
        clearTimeout(timer);
        timer = setTimeout(() => void look(), WATCH_SETTLE_MS);
      });
      // A watcher that fails (the directory went away) leaves the window as it was; the next visit reloads anyway.
      watcher.on('error', () => watcher.close());
      void fileVersion(path).then((version) => (seen ??= version));
      return () => {
        clearTimeout(timer);
        watcher.close();
      };
    },
  };
}
