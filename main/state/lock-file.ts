import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, open, readdir, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkbenchError, type ErrorName } from '../../shared/errors';
import { fileSystemError, isErrno, openNoFollow, withFileSystemErrors } from './safe-files';

/**
 * An exclusive lock file shared by every workbench process (GUI, CLI) on one state directory.
 * Used by the state store and the audit log alike. The file holds who took it, so a waiter can
 * name the holder, and so a lock left by a killed process can be recognised and taken over.
 */
export interface LockHolder {
  pid: number;
  hostname: string;
  /** Which workbench front end holds it: 'gui', 'cli', a test fixture… */
  program: string;
  startedAt: string;
  /** Random per acquisition: tells this holder's lock apart from a later one by the same pid. */
  nonce: string;
}

export interface LockOptions {
  path: string;
  program: string;
  /** How long to wait for a live holder before giving up. */
  waitMs?: number;
  /** Error raised when the wait runs out, and what the lock protects (for the message). */
  errorName?: ErrorName;
  resource?: string;
  /** Called once, when this process has waited WAIT_NOTICE_MS for a live holder (a front end can say so). */
  onWait?: (holder: LockHolder) => void;
}

export interface HeldLock {
  readonly holder: LockHolder;
  release(): Promise<void>;
}

/**
 * Transactions are milliseconds long, so a waiter is normally in within a few of them; the bound is
 * there for a holder that is stuck. 2 s was too short under load (20 concurrent CLI writers).
 */
export const DEFAULT_LOCK_WAIT_MS = 30_000;
/** Waits shorter than this (the usual turn in a queue of writers) are not worth telling anyone about. */
export const WAIT_NOTICE_MS = 1_000;
const POLL_MIN_MS = 5;
const POLL_MAX_MS = 25;
/**
 * A lock file is created empty and its holder written a moment later (O_EXCL cannot create
 * with content). One that is still unreadable after this long belongs to a process killed in
 * that moment, and is treated as stale.
 */
const UNREADABLE_GRACE_MS = 5_000;

/** What is on disk at a lock path: a readable holder, an unreadable (torn) file, or nothing. */
type LockState = { kind: 'held'; holder: LockHolder; identity: string } | { kind: 'unreadable'; identity: string; ageMs: number } | { kind: 'free' };

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockHolder> | null;
    if (value && typeof value.pid === 'number' && typeof value.hostname === 'string' && typeof value.nonce === 'string') {
      return { pid: value.pid, hostname: value.hostname, program: String(value.program ?? 'unknown'), startedAt: String(value.startedAt ?? ''), nonce: value.nonce };
    }
  } catch {
    // fall through: unreadable
  }
  return undefined;
}

/** Reads the lock without following a link: a symlinked or directory lock is refused, never waited on. */
async function inspect(path: string): Promise<LockState> {
  let handle;
  try {
    handle = await openNoFollow(path, constants.O_RDONLY, { what: 'The lock file' });
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return { kind: 'free' };
    throw error;
  }
  try {
    const [text, info] = await withFileSystemErrors('read the lock file', path, () => Promise.all([handle.readFile('utf8'), handle.stat()]));
    const holder = parseHolder(text);
    if (holder) return { kind: 'held', holder, identity: holder.nonce };
    return { kind: 'unreadable', identity: `ino${info.ino}-${info.mtimeMs}`, ageMs: Date.now() - info.mtimeMs };
  } finally {
    await handle.close();
  }
}

/** True when `pid` names a running process on this host. EPERM means it exists but is not ours. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isErrno(error, 'EPERM');
  }
}

/**
 * A lock can be taken over only when we can prove its holder is gone: same host and the pid is
 * not running. A holder on another host (shared network directory) is never presumed dead.
 */
function isStale(state: LockState, host: string): boolean {
  if (state.kind === 'unreadable') return state.ageMs > UNREADABLE_GRACE_MS;
  if (state.kind === 'held') return state.holder.hostname === host && !isProcessAlive(state.holder.pid);
  return false;
}

/**
 * Creates the lock file with O_EXCL and fills in its holder; undefined when someone else holds it. The file
 * stays open while held: an open file's inode cannot be reused, so it tells this lock from any later one.
 */
async function tryCreate(path: string, holder: LockHolder): Promise<FileHandle | undefined> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (error) {
    if (isErrno(error, 'EEXIST')) return undefined;
    throw fileSystemError(error, 'create the lock file', path);
  }
  try {
    // Not fsynced: other processes see it through the page cache, and a lock a power cut left empty is an
    // unreadable lock, taken over after UNREADABLE_GRACE_MS. An fsync would double every state transaction's cost.
    await handle.writeFile(JSON.stringify(holder));
  } catch (error) {
    // A lock we could not fill in (disk full…) would look torn to everyone else for a while.
    await handle.close();
    await unlink(path).catch(ignoreMissing);
    throw fileSystemError(error, 'write the lock file', path);
  }
  return handle;
}

/**
 * Removes a stale lock, safely against other waiters doing the same at the same time.
 *
 * The danger: waiters A and B both judge lock L stale; A removes L and creates its own lock;
 * B, acting on its old judgement, then removes A's fresh lock and both believe they hold it.
 * So removal happens only under a second lock named after the stale lock's identity
 * (`<lock>.<nonce>.takeover`, O_EXCL). Under it the lock is read again and removed only if it
 * is still that same stale one. A late waiter that gets the takeover lock after A finished sees
 * A's lock (different identity) and leaves it alone. If a process dies while holding the
 * takeover lock, that takeover lock is itself stale and is removed the same way, recursively.
 * Returns false when another waiter is doing the takeover (the caller then backs off).
 */
async function removeStale(path: string, staleIdentity: string, self: LockHolder): Promise<boolean> {
  const takeoverPath = `${path}.${staleIdentity.replace(/[^A-Za-z0-9.-]/g, '_')}.takeover`;
  const takeover = await tryCreate(takeoverPath, { ...self, nonce: randomUUID() });
  if (!takeover) {
    const other = await inspect(takeoverPath);
    if (other.kind !== 'free' && isStale(other, self.hostname)) await removeStale(takeoverPath, other.identity, self);
    return false; // someone else is taking over, or just did; the caller polls again
  }
  try {
    const current = await inspect(path);
    if (current.kind !== 'free' && current.identity === staleIdentity) await unlink(path).catch(ignoreMissing);
  } finally {
    await takeover.close();
    await unlink(takeoverPath).catch(ignoreMissing);
  }
  return true;
}

function ignoreMissing(error: unknown): void {
  if (!isErrno(error, 'ENOENT')) throw error;
}

export function describeHolder(holder: LockHolder): string {
  return `hsm-workbench ${holder.program}, pid ${holder.pid} on host ${holder.hostname} since ${holder.startedAt}`;
}

/**
 * Takes the lock, waiting up to `waitMs` for a live holder and taking over a stale one.
 * Hold it for one short transaction only: every other GUI/CLI process waits on it.
 */
export async function acquireLock(options: LockOptions): Promise<HeldLock> {
  const { path, program, waitMs = DEFAULT_LOCK_WAIT_MS, errorName = 'StateLockedException', resource = path, onWait } = options;
  const self: LockHolder = { pid: process.pid, hostname: osHostname(), program, startedAt: new Date().toISOString(), nonce: randomUUID() };
  const started = Date.now();
  const deadline = started + waitMs;
  let told = false;
  const waitingPath = `${path}.waiting.${self.nonce}`;
  let announced = false;
  try {
    await yieldToWaiters(path, self.hostname);
    for (;;) {
      const created = await tryCreate(path, self);
      if (created) return heldLock(path, self, created);
      const state = await inspect(path);
      if (state.kind === 'free') continue; // released between our attempt and the look
      if (isStale(state, self.hostname) && (await removeStale(path, state.identity, self))) continue;
      if (Date.now() >= deadline) throw lockedError(path, state, errorName, resource);
      if (!announced) {
        // 'wx' with O_NOFOLLOW: a name planted in advance (a link) is refused, never written through.
        await writeFile(waitingPath, JSON.stringify({ pid: self.pid, hostname: self.hostname }), { mode: 0o600, flag: constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0) });
        announced = true;
      }
      if (!told && state.kind === 'held' && Date.now() - started >= WAIT_NOTICE_MS) {
        told = true;
        onWait?.(state.holder);
      }
      // Jitter keeps two waiters from retrying in lock-step.
      await sleep(POLL_MIN_MS + Math.random() * (POLL_MAX_MS - POLL_MIN_MS));
    }
  } finally {
    if (announced) await unlink(waitingPath).catch(ignoreMissing);
  }
}

/** When this process last released each lock path. */
const lastReleased = new Map<string, number>();

/**
 * Fairness. A process running transactions back to back releases and re-takes the lock within
 * microseconds, so a waiter polling every few milliseconds would rarely get in and would be
 * refused after its wait although the holder is healthy (a CLI bulk loop starving the GUI).
 * So a waiter leaves a `<lock>.waiting.<nonce>` marker, and a process about to re-take a lock it
 * has just released first steps aside for one poll interval if a live waiter is marked.
 * Markers of waiters that died are removed here.
 */
async function yieldToWaiters(path: string, host: string): Promise<void> {
  const released = lastReleased.get(path);
  if (released === undefined || Date.now() - released > POLL_MAX_MS * 2) return;
  const prefix = `${basename(path)}.waiting.`;
  let waiting = false;
  for (const name of await readdir(dirname(path)).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const marker = join(dirname(path), name);
    // Read without following a link and without blocking on a FIFO someone left under a marker's name.
    const owner = parseMarker(await readMarker(marker));
    if (owner && owner.hostname === host && !isProcessAlive(owner.pid)) await unlink(marker).catch(ignoreMissing);
    else if (owner?.pid !== process.pid) waiting = true;
  }
  if (waiting) await sleep(POLL_MAX_MS + POLL_MIN_MS);
}

async function readMarker(path: string): Promise<string> {
  try {
    const handle = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
    try {
      return (await handle.stat()).isFile() ? await handle.readFile('utf8') : '';
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}

function parseMarker(text: string): { pid: number; hostname: string } | undefined {
  try {
    const value = JSON.parse(text) as { pid?: unknown; hostname?: unknown } | null;
    if (value && typeof value.pid === 'number' && typeof value.hostname === 'string') return { pid: value.pid, hostname: value.hostname };
  } catch {
    // a marker being written: treat as a live waiter
  }
  return undefined;
}

function heldLock(path: string, holder: LockHolder, handle: FileHandle): HeldLock {
  let released = false;
  return {
    holder,
    async release(): Promise<void> {
      if (released) return;
      released = true;
      // Remove only our own lock: if it was (wrongly) taken over, the file under the name is someone else's now.
      // Our file is still open, so the same inode under the name is our file, not a later one reusing its number.
      let own, current;
      try {
        [own, current] = await Promise.all([handle.stat(), lstat(path).catch(() => undefined)]);
      } finally {
        // Closed before the unlink: Windows cannot remove an open file.
        await handle.close();
      }
      if (current && current.ino === own.ino && current.dev === own.dev) await unlink(path).catch(ignoreMissing);
      lastReleased.set(path, Date.now());
    },
  };
}

function lockedError(path: string, state: Exclude<LockState, { kind: 'free' }>, errorName: ErrorName, resource: string): WorkbenchError {
  if (state.kind === 'unreadable') {
    return new WorkbenchError(errorName, `${resource} is locked (${path} was just created by another process). Try again in a moment.`, { details: { lockPath: path } });
  }
  const { holder } = state;
  const remedy =
    holder.hostname === osHostname()
      ? `Wait for it to finish and try again. If pid ${holder.pid} is not a workbench process (the pid was reused), delete ${path}.`
      : `If no workbench is running on ${holder.hostname}, delete ${path} and try again.`;
  return new WorkbenchError(errorName, `${resource} is locked by ${describeHolder(holder)}. ${remedy}`, {
    details: { lockPath: path, holder: { pid: holder.pid, hostname: holder.hostname, program: holder.program, startedAt: holder.startedAt } },
  });
}

/** Runs `fn` while holding the lock; the lock is released whatever `fn` does. */
export async function withLock<T>(options: LockOptions, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(options);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
