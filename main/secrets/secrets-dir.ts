import { constants, type Stats } from 'node:fs';
import { link, mkdir, open, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { WorkbenchError } from '../../shared/errors';
import { syncDirectory, tempFilePath } from '../state/durable-json-file';
import { isErrno, notAFileError, openNoFollow, refuseSymlink, withFileSystemErrors } from '../state/safe-files';

/**
 * <stateDir>/secrets/: the vault's manifest and, for the key-file protector, the key. Owner-only (0700 / 0600)
 * and never reached through a symbolic link: a link could point the key at a file others can read.
 */
export function secretsDirOf(stateDir: string): string {
  return join(stateDir, 'secrets');
}

const refusal = (what: string): { what: string; errorName: 'SecretStoreException' } => ({ what, errorName: 'SecretStoreException' });

/** Group or other bits on a secrets file or directory: on Windows (no POSIX modes) the per-user profile is private. */
function refuseShared(path: string, info: Stats, what: string, fix: string): void {
  if (process.getuid === undefined || (info.mode & 0o077) === 0) return;
  const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
  throw new WorkbenchError('SecretStoreException', `${what} ${path} can be read or changed by other users (mode ${mode}). Nothing was read or changed. Make it private: ${fix} "${path}".`, {
    code: 'UNSAFE_MODE',
    details: { path, mode },
  });
}

/** Creates the secrets directory (0700) when missing and refuses a link, a non-directory or a shared mode. */
export async function prepareSecretsDir(stateDir: string): Promise<string> {
  const dir = secretsDirOf(stateDir);
  const what = 'The secrets directory';
  let info = await refuseSymlink(dir, refusal(what));
  if (info === undefined) {
    await withFileSystemErrors('create the secrets directory', dir, () => mkdir(dir, { mode: 0o700 }).catch((error: unknown) => (isErrno(error, 'EEXIST') ? undefined : Promise.reject(error))));
    info = await refuseSymlink(dir, refusal(what));
  }
  if (info === undefined || !info.isDirectory()) {
    throw new WorkbenchError('SecretStoreException', `${what} ${dir} is not a directory. Nothing was changed. Move it aside (the workbench never removes it for you) and try again.`, {
      code: 'ENOTDIR',
      details: { path: dir },
    });
  }
  refuseShared(dir, info, what, 'chmod 700');
  return dir;
}

/** The text of a private file, or null when it does not exist; a link, a non-file or a shared mode is refused. */
export async function readPrivateFile(path: string, what: string): Promise<string | null> {
  let handle;
  try {
    handle = await openNoFollow(path, constants.O_RDONLY, refusal(what));
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw notAFileError(path, info, refusal(what));
    refuseShared(path, info, what, 'chmod 600');
    return await withFileSystemErrors(`read ${what.toLowerCase()}`, path, () => handle.readFile('utf8'));
  } finally {
    await handle.close();
  }
}

/**
 * Creates `path` (0600) with `content` only if nothing is there yet, durably: false when it already exists.
 * The content is complete and fsynced before the name appears (link(2) is atomic and never replaces), so a
 * crash leaves either no file or the whole file, and two processes creating it at once cannot both win.
 */
export async function createPrivateFileOnce(path: string, content: string, what: string): Promise<boolean> {
  const temp = tempFilePath(path);
  return withFileSystemErrors(`create ${what.toLowerCase()}`, path, async () => {
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(content, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await link(temp, path);
      } catch (error) {
        if (isErrno(error, 'EEXIST')) return false;
        throw error;
      }
      await syncDirectory(dirname(path));
      return true;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  });
}

/** Removes a file the vault wrote and no longer needs (a race loser's key); a missing file is fine. */
export async function removePrivateFile(path: string): Promise<void> {
  await unlink(path).catch((error: unknown) => (isErrno(error, 'ENOENT') ? undefined : Promise.reject(error)));
}
