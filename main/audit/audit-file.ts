import { readFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { isChainableRecord, type AuditRecord } from './audit-record';

const NEWLINE = 0x0a;
const CHUNK = 64 * 1024;

export interface AuditTail {
  /** The last complete, readable record, or null when there is none. */
  last: AuditRecord | null;
  /** Bytes after that record that are not a record: a torn last line, or damaged lines. */
  damagedBytes: number;
  /** The file does not end with a newline (the last append was cut short). */
  torn: boolean;
}

/**
 * Finds the record to chain onto by reading backwards from the end of the file in chunks,
 * so an append costs the same on a 10-line log as on a 10-million-line one.
 */
export async function readTail(handle: FileHandle, size: number): Promise<AuditTail> {
  let pos = size;
  let pending = Buffer.alloc(0);
  let damagedBytes = 0;
  let first = true;
  let torn = false;
  for (;;) {
    const nl = pending.lastIndexOf(NEWLINE);
    if (nl === -1 && pos > 0) {
      const length = Math.min(CHUNK, pos);
      const chunk = Buffer.alloc(length);
      const { bytesRead } = await handle.read(chunk, 0, length, pos - length);
      pos -= length;
      pending = Buffer.concat([chunk.subarray(0, bytesRead), pending]);
      continue;
    }
    // The segment after the last newline: on the first pass, what follows the file's last
    // newline (empty when the file ends cleanly); afterwards, one complete line.
    const segment = pending.subarray(nl + 1);
    if (first) {
      torn = segment.length > 0;
      damagedBytes += segment.length;
      first = false;
    } else if (segment.length > 0) {
      const record = parseLine(segment.toString('utf8'));
      if (record) return { last: record, damagedBytes, torn };
      damagedBytes += segment.length + 1;
    }
    if (nl === -1) return { last: null, damagedBytes, torn };
    pending = pending.subarray(0, nl);
  }
}

function parseLine(line: string): AuditRecord | undefined {
  try {
    const value: unknown = JSON.parse(line);
    return isChainableRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export interface AuditLogContents {
  records: AuditRecord[];
  /** 1-based line numbers of lines that are not records (a torn append), with their length. */
  damagedLines: { lineNumber: number; bytes: number }[];
}

/** Reads the whole log (for tests and the later viewer/verifier; appends only ever read the tail). */
export async function readAuditLog(path: string): Promise<AuditLogContents> {
  const text = await readFile(path, 'utf8');
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const contents: AuditLogContents = { records: [], damagedLines: [] };
  lines.forEach((line, i) => {
    const record = line === '' ? undefined : parseLine(line);
    if (record) contents.records.push(record);
    else contents.damagedLines.push({ lineNumber: i + 1, bytes: Buffer.byteLength(line) });
  });
  return contents;
}

export async function readAuditRecords(path: string): Promise<AuditRecord[]> {
  return (await readAuditLog(path)).records;
}
