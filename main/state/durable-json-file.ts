import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, readdir, rename, unlink } from 'node:fs/promises';
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
  const pattern = new RegExp(`^\\.${basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)\\.[0-9a-f]+\\.tmp$`);
  for (const name of await readdir(dirname(path)).catch(() => [] as string[])) {
    const pid = Number(pattern.exec(name)?.[1] ?? Number.NaN);
    if (Number.isInteger(pid) && !isProcessAlive(pid)) await unlink(join(dirname(path), name)).catch(() => undefined);
  }
}

/**
 * Refuses to replace what the admin did not leave to the workbench: a symbolic link (the rename
 * would replace the link and leave its target stale), a non-file, or a file whose owner removed
 * its write bit. chmod 400 says "do not change this"; a rename would ignore it (it needs only the
 * directory's permission) and root ignores it always, so the workbench honours it itself.
 */
async function refuseUnreplaceable(path: string, what: string): Promise<void> {
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
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
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
