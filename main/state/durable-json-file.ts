import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Adapter } from 'lowdb';
import { isProcessAlive } from './lock-file';

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
  ) {}

  /** null when the file does not exist; whatever `parse` throws when it does but is not valid. */
  async read(): Promise<T | null> {
    const text = await readTextIfExists(this.path);
    return text === null ? null : this.parse(text);
  }

  async write(data: T): Promise<void> {
    await writeFileDurably(this.path, `${JSON.stringify(data, null, 2)}\n`);
  }
}

export async function readTextIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
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

/** temp file → fsync → rename over `path` → fsync the directory. The temp file never outlives a failure. */
export async function writeFileDurably(path: string, content: string, mode = 0o600): Promise<void> {
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
    throw error;
  }
  await syncDirectory(dir);
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
