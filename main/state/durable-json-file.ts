import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';
import { WorkbenchError } from '../../shared/errors';
import { isProcessAlive } from './lock-file';
import { fileSystemError, isErrno, notAFileError, openNoFollow, refuseSymlink, withFileSystemErrors } from './safe-files';

/**
 * A lowdb adapter whose writes survive a crash or power loss. lowdb's own file adapter (steno)
 * renames without fsync, so after a power cut the file may be empty or old. Here every write
 * goes to a temp file in the same directory, is fsynced, renamed over the target (atomic on one
 * filesystem) and the directory is fsynced so the rename itself is on disk.
 */
export class DurableJsonFile<T> implements Adapter<T> {
  constructor(
    readonly path: string,
    private readonly parse: (text: string) => T,
    /** What the file is, for error messages ("The state file"). */
    private readonly what = 'The file',
  ) {}

  /** null when the file does not exist; whatever `parse` throws when it does but is not valid. */
  async read(): Promise<T | null> {
    const text = await readTextIfExists(this.path, this.what);
    return text === null ? null : this.parse(text);
  }

  async write(data: T): Promise<void> {
    await writeFileDurably(this.path, `${JSON.stringify(data, null, 2)}\n`, { what: this.what });
  }
}

/** The file's text, or null when it does not exist. A symbolic link or a non-file (directory, FIFO) is refused. */
export async function readTextIfExists(path: string, what: string): Promise<string | null> {
  let handle;
  try {
    handle = await openNoFollow(path, constants.O_RDONLY, { what });
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return null;
    throw error;
  }
  try {
    return await withFileSystemErrors(`read ${what.toLowerCase()}`, path, () => handle.readFile('utf8'));
  } finally {
    await handle.close();
  }
}

/**
 * Removes temp files of `path` left by writers killed mid-write (their pid is gone). They hold only an
 * unfinished copy: the rename that would have made them the state file never happened.
 */
export async function removeStaleTempFiles(path: string): Promise<void> {
  for (const name of await readdir(dirname(path)).catch(() => [] as string[])) {
    const writer = tempFileWriter(path, name);
    // A writer on another host (a shared network directory) is never presumed dead, as for lock files.
    if (writer && writer.host === HOST_TAG && !isProcessAlive(writer.pid)) await unlink(join(dirname(path), name)).catch(() => undefined);
  }
}

/** Which host and process wrote temp file `name` of `path`, or undefined when `name` is no temp file of it. */
export function tempFileWriter(path: string, name: string): { host: string; pid: number } | undefined {
  const prefix = `.${basename(path)}.`;
  if (!name.startsWith(prefix)) return undefined;
  const match = /^([0-9a-f]{8})\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name.slice(prefix.length));
  return match?.[1] && match[2] ? { host: match[1], pid: Number(match[2]) } : undefined;
}

/** Where a write of `path` by process `pid` of host `host` (a HOST_TAG) puts its unfinished copy. */
export function tempFilePath(path: string, pid = process.pid, host = HOST_TAG): string {
  return join(dirname(path), `.${basename(path)}.${host}.${pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Names this host in temp file names: a pid is only unique on one host. */
const HOST_TAG = createHash('sha256').update(hostname()).digest('hex').slice(0, 8);

/**
 * Refuses to replace what the admin did not leave to the workbench: a symbolic link (the rename
 * would replace the link and leave its target stale), a non-file, or a file whose owner removed
 * its write bit. chmod 400 says "do not change this"; a rename would ignore it (it needs only the
 * directory's permission) and root ignores it always, so the workbench honours it itself. A file only
 * appended to (the state journal) is held to the same rule: the admin froze the state, not one file of it.
 */
export async function refuseUnreplaceable(path: string, what: string): Promise<void> {
  const info = await refuseSymlink(path, { what });
  if (info === undefined) return;
  if (!info.isFile()) throw notAFileError(path, info, { what });
  if ((info.mode & 0o200) === 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
    throw new WorkbenchError(
      'FileSystemException',
      `${what} ${path} is read-only (mode ${mode}), so the workbench does not replace it. Nothing was changed. To allow changes again: chmod u+w "${path}".`,
      { code: 'EACCES', details: { path, mode } },
    );
  }
}

export interface DurableWriteOptions {
  /** Mode of a newly written file. */
  mode?: number;
  /** What the file is, for error messages ("The state file"). */
  what?: string;
}

/** temp file → fsync → rename over `path` → fsync the directory. The temp file never outlives a failure. */
export async function writeFileDurably(path: string, content: string, options: DurableWriteOptions = {}): Promise<void> {
  const { mode = 0o600, what = 'The file' } = options;
  await refuseUnreplaceable(path, what);
  const dir = dirname(path);
  const temp = tempFilePath(path);
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      await handle.writeFile(content, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw fileSystemError(error, `write ${what.toLowerCase()}`, path);
  }
  await withFileSystemErrors(`write ${what.toLowerCase()}`, path, () => syncDirectory(dir));
}

/** Makes a rename or create in `dir` durable. Windows cannot open a directory for fsync; NTFS journals it. */
export async function syncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
