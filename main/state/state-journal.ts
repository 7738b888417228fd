import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { WorkbenchError } from '../../shared/errors';
import { writeFileDurably } from './durable-json-file';
import { isErrno, openNoFollow, withFileSystemErrors } from './safe-files';
import type { TableChange } from './record-table';

/**
 * The state journal (state.journal): one line per committed transaction since the snapshot (state.json) last
 * folded it in, so a transaction costs one append + fdatasync of its own changes, not a rewrite of every key.
 *
 * Line 1 is the header (which generation this journal is, and the sequence number it continues from); each
 * other line is an entry. Every line is JSON ending in `"sha256":"…"}` over the line without that field, so a
 * torn or damaged line is told from a good one. Only the last line can be torn by a crash (a write that never
 * returned): it is dropped. Anything else out of place is refused, never repaired.
 */

export const JOURNAL_WHAT = 'The state journal';

export type TableName = 'keys' | 'aliases' | 'orphans';

export interface JournalChanges {
  /** The small top-level fields (clusters, customKeyStores, auditAnchor, …) this transaction changed: their new values. */
  set?: Record<string, unknown>;
  /** Top-level fields it removed. */
  unset?: string[];
  tables?: Partial<Record<TableName, Array<TableChange<object>>>>;
}

export interface JournalHeader {
  generation: number;
  /** The sequence number of the last entry the snapshot of this generation holds: entries continue from it. */
  foldedThrough: number;
}

export interface JournalEntry {
  seq: number;
  generation: number;
  changes: JournalChanges;
}

export interface JournalRead {
  /** Undefined when reading from past the header. */
  header?: JournalHeader;
  entries: JournalEntry[];
  /** Where the good lines end: the next append goes here. */
  end: number;
  /** A torn last line starts at `end`: a write that never returned. */
  torn: boolean;
  /** The file's inode and size when read, to tell an append (same inode) from a new journal (rename). */
  ino: number;
  size: number;
}

const SUFFIX = /,"sha256":"([0-9a-f]{64})"\}$/;

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The line for `body` (a JSON object): the body with its own hash as the last field. */
export function journalLine(body: object): string {
  const text = JSON.stringify(body);
  return `${text.slice(0, -1)},"sha256":"${sha256(text)}"}\n`;
}

/** The body of a line whose hash holds, else undefined. */
function verifiedBody(line: string): Record<string, unknown> | undefined {
  const match = SUFFIX.exec(line);
  if (!match) return undefined;
  const text = `${line.slice(0, match.index)}}`;
  if (sha256(text) !== match[1]) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function journalCorrupt(path: string, line: number | undefined, problem: string): WorkbenchError {
  return new WorkbenchError(
    'StateFileCorruptException',
    `The state journal ${path}${line === undefined ? '' : ` line ${line}`} ${problem}. It was left untouched and nothing was written; restore the state directory from a backup.`,
    { details: { path, ...(line === undefined ? {} : { line }) } },
  );
}

/**
 * Reads the journal from byte `from` (0: the whole file, header first) and verifies each line. `after`: the
 * sequence number the first entry must follow (known from the header or from an earlier read). `lineNumber`:
 * the line `from` is at, for messages. Undefined when the file does not exist.
 */
export async function readJournal(path: string, position: { from: number; after?: number; lineNumber?: number } = { from: 0 }): Promise<JournalRead | undefined> {
  let handle;
  try {
    handle = await openNoFollow(path, constants.O_RDONLY, { what: JOURNAL_WHAT });
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
  try {
    return await withFileSystemErrors('read the state journal', path, async () => {
      const info = await handle.stat();
      const length = Math.max(0, info.size - position.from);
      const buffer = Buffer.alloc(length);
      let read = 0;
      while (read < length) {
        const { bytesRead } = await handle.read(buffer, read, length - read, position.from + read);
        if (bytesRead === 0) break;
        read += bytesRead;
      }
      return parseJournal(path, buffer.subarray(0, read), { ...position, ino: info.ino, size: position.from + read });
    });
  } finally {
    await handle.close();
  }
}

function parseJournal(path: string, bytes: Buffer, position: { from: number; after?: number; lineNumber?: number; ino: number; size: number }): JournalRead {
  const result: JournalRead = { entries: [], end: position.from, torn: false, ino: position.ino, size: position.size };
  let after = position.after;
  let lineNumber = position.lineNumber ?? 1;
  let start = 0;
  while (start < bytes.length) {
    const newline = bytes.indexOf(0x0a, start);
    const last = newline === -1 || newline === bytes.length - 1;
    const body = newline === -1 ? undefined : verifiedBody(bytes.subarray(start, newline).toString('utf8'));
    if (body === undefined) {
      if (last) {
        result.torn = true;
        return result;
      }
      throw journalCorrupt(path, lineNumber, 'is damaged (its hash does not match), and lines follow it, so it is not a write a crash cut short');
    }
    if (position.from === 0 && lineNumber === 1) {
      if (!Number.isInteger(body.generation) || !Number.isInteger(body.foldedThrough)) throw journalCorrupt(path, 1, 'is not a journal header');
      result.header = { generation: body.generation as number, foldedThrough: body.foldedThrough as number };
      after = result.header.foldedThrough;
    } else {
      const entry = body as unknown as JournalEntry;
      if (!Number.isInteger(entry.seq) || !Number.isInteger(entry.generation) || typeof entry.changes !== 'object' || entry.changes === null) throw journalCorrupt(path, lineNumber, 'is not a journal entry');
      if (after !== undefined && entry.seq !== after + 1) throw journalCorrupt(path, lineNumber, `has sequence number ${entry.seq} where ${after + 1} belongs (a transaction is missing)`);
      const generation = result.header?.generation ?? result.entries[0]?.generation;
      if (generation !== undefined && entry.generation !== generation) throw journalCorrupt(path, lineNumber, `belongs to generation ${entry.generation}, not ${generation}`);
      result.entries.push(entry);
      after = entry.seq;
    }
    start = newline + 1;
    result.end = position.from + start;
    lineNumber += 1;
  }
  return result;
}

/** Starts a journal of `header.generation` holding no entry: written aside and renamed, so it is the old one or the new one. */
export async function startJournal(path: string, header: JournalHeader): Promise<void> {
  await writeFileDurably(path, journalLine({ journal: 'hsm-workbench state', ...header }), { what: JOURNAL_WHAT });
}

/**
 * Appends `lines` at `end` and makes them durable (fdatasync: the size is metadata it covers). What lies past
 * `end` is a torn tail (a write that never returned): it is cut off first, under the caller's lock.
 */
export async function appendJournal(path: string, end: number, lines: string): Promise<number> {
  const handle = await withFileSystemErrors('write the state journal', path, () => openNoFollow(path, constants.O_RDWR, { what: JOURNAL_WHAT }));
  try {
    return await withFileSystemErrors('write the state journal', path, async () => {
      const info = await handle.stat();
      if (info.size !== end) await handle.truncate(end);
      const bytes = Buffer.from(lines, 'utf8');
      try {
        let written = 0;
        while (written < bytes.length) written += (await handle.write(bytes, written, bytes.length - written, end + written)).bytesWritten;
        await handle.datasync();
      } catch (error) {
        // A transaction that failed must not be read back as committed: whole lines would pass their hash.
        await withdraw(path, handle, end);
        throw error;
      }
      return bytes.length;
    });
  } finally {
    await handle.close();
  }
}

/**
 * Takes back lines whose sync failed, before the lock is released. A reader outside the lock may have read
 * them meanwhile; its cursor is the inode and the end it read to, and a truncate in place keeps the inode,
 * so the next commit of the same length (same shape, same sequence number) would look to it like nothing
 * changed. So the journal up to `end` is written anew under its name: a new inode, which sends every such
 * reader back to a full read. Only when that fails as well (the disk refuses everything) is it cut in place.
 */
async function withdraw(path: string, handle: FileHandle, end: number): Promise<void> {
  try {
    const kept = Buffer.alloc(end);
    // A short read would drop committed lines from the copy: cut in place instead.
    if ((await handle.read(kept, 0, end, 0)).bytesRead !== end) throw new Error('short read');
    await writeFileDurably(path, kept.toString('utf8'), { what: JOURNAL_WHAT });
  } catch {
    await handle.truncate(end).catch(() => undefined);
  }
}
