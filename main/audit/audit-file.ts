import { readFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { WorkbenchError } from '../../shared/errors';
import { isChainableRecord, type AuditRecord } from './audit-record';
import { computeRecordHash, GENESIS_HASH } from './record-hash';

const NEWLINE = 0x0a;
const CHUNK = 64 * 1024;

export interface AuditTail {
  /** The last record, or null when the log holds none. */
  last: AuditRecord | null;
  /** Bytes after the last newline that are not a record: what an interrupted append left. */
  tornBytes: number;
  /** The file does not end with a newline: the next record must start on a fresh line. */
  torn: boolean;
}

/** One line read from the end of the log, without its newline, and the byte offset it starts at. */
interface LineFromEnd {
  bytes: Buffer;
  offset: number;
}

/**
 * Lines from the end of the file backwards, read in chunks, so an append costs the same on a
 * 10-line log as on a 10-million-line one. The first line yielded is what follows the last
 * newline (empty when the file ends cleanly); every later one is a complete line.
 */
async function* linesFromEnd(handle: FileHandle, size: number): AsyncGenerator<LineFromEnd> {
  let pos = size;
  let pending = Buffer.alloc(0);
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
    yield { bytes: pending.subarray(nl + 1), offset: pos + nl + 1 };
    if (nl === -1) return;
    pending = pending.subarray(0, nl);
  }
}

/**
 * Finds the record to chain onto, telling an interrupted append from an edited log.
 *
 * An append is one write of a line ending in a newline, so a process killed mid-write leaves
 * bytes after the last newline: those are torn, and the next append steps over them (a line
 * that is a whole record but for its newline is kept: it was written). A COMPLETE last line is
 * different: no interruption produces one that is not a record, whose hash does not match its
 * content, or that does not chain onto the record before it. Stepping over it would erase a
 * record as if it had been an interruption, so it is refused as tampering.
 */
export async function readTail(handle: FileHandle, size: number, path: string): Promise<AuditTail> {
  const lines = linesFromEnd(handle, size);
  const next = async (): Promise<LineFromEnd | undefined> => {
    const step = await lines.next();
    return step.done === true ? undefined : step.value;
  };
  const after = (await next()) ?? { bytes: Buffer.alloc(0), offset: size };
  const torn = after.bytes.length > 0;

  const lastLine = await next();
  let last: AuditRecord | null = null;
  if (lastLine) {
    const record = parseLine(lastLine.bytes.toString('utf8'));
    if (!record) throw tampered(path, lastLine.offset, 'is not an audit record');
    const problem = hashProblem(record) ?? chainProblem(record, await previousRecord(next, record, () => tampered(path, lastLine.offset, 'follows a line that is not a record without saying it stepped over it')));
    if (problem) throw tampered(path, lastLine.offset, problem);
    last = record;
  }
  await lines.return(undefined);

  if (torn) {
    const whole = parseLine(after.bytes.toString('utf8'));
    if (whole && hashProblem(whole) === undefined && chainProblem(whole, last) === undefined) return { last: whole, tornBytes: 0, torn };
  }
  return { last, tornBytes: after.bytes.length, torn };
}

/**
 * The record before `record`. Lines that are not records (what an interrupted append left) may lie
 * between the two only when `record` says it stepped over them.
 */
async function previousRecord(next: () => Promise<LineFromEnd | undefined>, record: AuditRecord, unexplained: () => WorkbenchError): Promise<AuditRecord | null> {
  for (let line = await next(); line; line = await next()) {
    const previous = parseLine(line.bytes.toString('utf8'));
    if (previous) return previous;
    if (!isRecovery(record)) throw unexplained();
  }
  return null;
}

/**
 * The record on the line that starts at byte `offset`; null when there is none. The log is
 * append-only, so a record's offset never changes: an anchor can name it and be checked in O(1).
 */
export async function recordAt(handle: FileHandle, size: number, offset: number): Promise<AuditRecord | null> {
  let line = Buffer.alloc(0);
  for (let pos = offset; pos < size; ) {
    const chunk = Buffer.alloc(Math.min(CHUNK, size - pos));
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, pos);
    if (bytesRead === 0) break;
    const nl = chunk.subarray(0, bytesRead).indexOf(NEWLINE);
    line = Buffer.concat([line, chunk.subarray(0, nl === -1 ? bytesRead : nl)]);
    if (nl !== -1) break;
    pos += bytesRead;
  }
  return parseLine(line.toString('utf8')) ?? null;
}

function hashProblem(record: AuditRecord): string | undefined {
  return computeRecordHash(record as unknown as Record<string, unknown>) === record.hash ? undefined : 'has a hash that does not match its content';
}

function chainProblem(record: AuditRecord, previous: AuditRecord | null): string | undefined {
  const expected = previous ? { sequenceNumber: previous.sequenceNumber + 1, previousHash: previous.hash } : { sequenceNumber: 1, previousHash: GENESIS_HASH };
  if (record.sequenceNumber !== expected.sequenceNumber) return `has sequence number ${record.sequenceNumber} where ${expected.sequenceNumber} was expected`;
  if (record.previousHash !== expected.previousHash) return previous ? `does not chain onto record ${previous.sequenceNumber} (its previousHash is not that record's hash)` : 'is the first record but does not start from the genesis hash';
  return undefined;
}

function isRecovery(record: AuditRecord): boolean {
  return record.additionalEventData?.auditLogRecovery !== undefined;
}

function tampered(path: string, offset: number, problem: string): WorkbenchError {
  return new WorkbenchError(
    'AuditLogException',
    `The audit log ${path} ends with a complete line (at byte ${offset}) that ${problem}. An interrupted append leaves a line without its newline; ` +
      'this one was written whole, so the log was edited. Nothing was written. Keep a copy of the file for investigation and restore the log from a backup.',
    { details: { path, offset, problem } },
  );
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
