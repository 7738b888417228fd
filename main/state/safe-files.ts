import { constants, type Stats } from 'node:fs';
import { lstat, open, readlink, type FileHandle } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { WorkbenchError, type ErrorName } from '../../shared/errors';

/**
 * The file-level rules every workbench file (state, lock, marker, audit log) obeys, and the one
 * translation of an OS error into a message that says what failed, where, and what to do.
 */

function errnoOf(error: unknown): string | undefined {
  const code = error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

export function isErrno(error: unknown, code: string): boolean {
  return errnoOf(error) === code;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid ${String(process.getuid?.() ?? 'unknown')}`;
  }
}

/** What each errno means for a workbench file, and what the admin can do about it. */
function explain(code: string, path: string): { problem: string; remedy: string } {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return { problem: 'permission denied', remedy: `Check the owner and mode of ${path} and its directory (ls -ld): the workbench runs as ${currentUser()}.` };
    case 'EROFS':
      return { problem: 'the filesystem is read-only', remedy: 'Remount it read-write, or point --state-dir (or HSM_WORKBENCH_HOME) at a writable directory.' };
    case 'ENOSPC':
    case 'EDQUOT':
      return { problem: 'no space left (disk or quota full)', remedy: 'Free some space on that filesystem and try again; nothing was half-written.' };
    case 'EISDIR':
      return { problem: 'it is a directory where a file belongs', remedy: `Move the directory ${path} aside (the workbench never removes it for you).` };
    case 'ENOTDIR':
      return { problem: 'a part of the path is a file, not a directory', remedy: 'Check --state-dir (or HSM_WORKBENCH_HOME): it must name a directory.' };
    case 'ELOOP':
      return { problem: 'too many symbolic links in the path', remedy: `Replace the links in ${path} by real directories and files.` };
    case 'EMFILE':
    case 'ENFILE':
      return { problem: 'too many open files', remedy: 'Close other programs or raise the open-file limit (ulimit -n), then try again.' };
    case 'EIO':
      return { problem: 'an input/output error of the device', remedy: 'Check the disk (dmesg) before trying again.' };
    default:
      return { problem: 'the operating system refused it', remedy: `Check ${path}.` };
  }
}

/**
 * An OS error from a file call becomes a FileSystemException that names the action, the path and
 * the errno; a WorkbenchError (already written for users) and anything that is not an OS error
 * pass through unchanged. The OS message itself is not echoed: it adds nothing to the errno.
 */
export function fileSystemError(error: unknown, action: string, path: string, errorName: ErrorName = 'FileSystemException'): unknown {
  const code = errnoOf(error);
  if (error instanceof WorkbenchError || code === undefined) return error;
  const { problem, remedy } = explain(code, path);
  const syscall = (error as NodeJS.ErrnoException).syscall;
  return new WorkbenchError(errorName, `Could not ${action} ${path}: ${problem} (${code}). ${remedy}`, {
    code,
    details: { path, errno: code, ...(syscall === undefined ? {} : { syscall }) },
    cause: error,
  });
}

/** Runs a file operation and translates its OS errors (see fileSystemError). */
export async function withFileSystemErrors<T>(action: string, path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw fileSystemError(error, action, path);
  }
}

export interface SymlinkRefusal {
  /** What the file is, for the message: "The state file", "The audit log"… */
  what: string;
  /** The error to raise; FileSystemException unless the file's own layer has a name (AuditLogException). */
  errorName?: ErrorName;
}

async function symlinkError(path: string, refusal: SymlinkRefusal): Promise<WorkbenchError> {
  const target = await readlink(path).catch(() => undefined);
  return new WorkbenchError(
    refusal.errorName ?? 'FileSystemException',
    `${refusal.what} ${path} is a symbolic link${target === undefined ? '' : ` (to ${target})`}. The workbench does not follow links for its own files: ` +
      `replacing the file would replace the link and leave its target stale. Nothing was changed. Put the file itself at ${path} ` +
      `(for example: mv "${target ?? '<target>'}" "${path}"), or point --state-dir at the directory that holds it.`,
    { code: 'ELOOP', details: { path, ...(target === undefined ? {} : { linkTarget: target }) } },
  );
}

/**
 * Refuses a symbolic link at `path` (a missing file is fine). For checks before a rename or a
 * create; opening an existing file should use openNoFollow, which cannot be raced.
 */
export async function refuseSymlink(path: string, refusal: SymlinkRefusal): Promise<Stats | undefined> {
  let info: Stats;
  try {
    info = await lstat(path);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw fileSystemError(error, `inspect ${refusal.what.toLowerCase()}`, path);
  }
  if (info.isSymbolicLink()) throw await symlinkError(path, refusal);
  return info;
}

/**
 * Opens `path` without following a symbolic link in its last component (O_NOFOLLOW), and never
 * blocks on a FIFO (O_NONBLOCK): a link or anything but a regular file is refused by name.
 * ENOENT is passed through untranslated, so callers can treat a missing file as they need.
 * Windows has no O_NOFOLLOW; there an lstat check comes first.
 */
export async function openNoFollow(path: string, flags: number, refusal: SymlinkRefusal, mode = 0o600): Promise<FileHandle> {
  if (constants.O_NOFOLLOW === undefined) await refuseSymlink(path, refusal);
  let handle: FileHandle;
  try {
    handle = await open(path, flags | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0), mode);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) throw error;
    if (isErrno(error, 'ELOOP') && (await lstat(path).catch(() => undefined))?.isSymbolicLink()) throw await symlinkError(path, refusal);
    throw fileSystemError(error, `open ${refusal.what.toLowerCase()}`, path);
  }
  const info = await handle.stat();
  if (!info.isFile()) {
    await handle.close();
    throw notAFileError(path, info, refusal);
  }
  return handle;
}

export function notAFileError(path: string, info: Stats, refusal: SymlinkRefusal): WorkbenchError {
  const kind = info.isDirectory() ? 'a directory' : info.isFIFO() ? 'a FIFO' : info.isSocket() ? 'a socket' : info.isCharacterDevice() || info.isBlockDevice() ? 'a device' : 'not a regular file';
  return new WorkbenchError(
    refusal.errorName ?? 'FileSystemException',
    `${refusal.what} ${path} is ${kind}, not a regular file. Nothing was changed. Move it aside (the workbench never removes it for you) and try again.`,
    { code: info.isDirectory() ? 'EISDIR' : 'EINVAL', details: { path } },
  );
}
