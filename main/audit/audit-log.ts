import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { WorkbenchError } from '../../shared/errors';
import { syncDirectory } from '../state/durable-json-file';
import { withLock } from '../state/lock-file';
import { isErrno, openNoFollow, refuseSymlink, type SymlinkRefusal } from '../state/safe-files';
import type { AuditRecord, AuditUserIdentity } from './audit-record';
import { checkAgainstExpectation, type AuditAnchor, type AuditExpectation } from './audit-anchor';
import { readTail } from './audit-file';
import { computeRecordHash, GENESIS_HASH } from './record-hash';
import { redactSecrets } from './redact';

export type { AuditRecord } from './audit-record';
export { readAuditLog, readAuditRecords } from './audit-file';
export { verifyChain } from './verify-chain';
export { expectationFromState, type AuditAnchor, type AuditExpectation } from './audit-anchor';

/** What an operation reports; the writer adds identity, time, ids and the chain. */
export interface AuditEvent {
  eventName: string;
  /** 'AwsServiceEvent' for what the workbench did on its own (a due deletion); default 'AwsApiCall'. */
  eventType?: AuditRecord['eventType'];
  readOnly: boolean;
  requestParameters: unknown;
  responseElements?: unknown;
  additionalEventData?: Record<string, unknown>;
  errorCode?: string;
  errorMessage?: string;
  requestID?: string;
  /** Fields to redact besides those whose names look secret (see redactSecrets). */
  secretFields?: readonly string[];
  /**
   * false: written without an fsync (a call's Step records). The next durable record of the file makes it
   * durable too, since an fsync flushes every earlier write of the file; a kill -9 keeps it anyway (the page
   * cache outlives the process), and a power cut can take it only with everything after it. Default true.
   */
  durable?: boolean;
}

export interface AuditLogOptions {
  stateDir: string;
  /** e.g. "hsm-workbench-cli/0.1.0". */
  userAgent: string;
  region: string;
  /** Shown to anyone who finds the log's lock taken; defaults to the part of userAgent after "hsm-workbench-". */
  program?: string;
  lockWaitMs?: number;
  /** What the state file says the log holds; checked on this process's first append. */
  expectation?: () => Promise<AuditExpectation | undefined>;
}

export interface AuditLog {
  append(event: AuditEvent): Promise<AuditRecord>;
  /**
   * The last durable record this process appended: the state store anchors it with each change. Never a
   * record not yet synced: after a power cut the state would name a record the log lost, and read as a shortened log.
   */
  anchor(): AuditAnchor | undefined;
  readonly path: string;
}

export const AUDIT_DIR = 'audit';
export const AUDIT_FILE = 'audit-log.jsonl';
export const AUDIT_LOCK_FILE = 'audit-log.lock';
/** Appends are short, and losing one after a completed change is worse than waiting a little. */
const AUDIT_LOCK_WAIT_MS = 5_000;

function localIdentity(): AuditUserIdentity {
  try {
    const info = userInfo();
    return { type: 'LocalUser', userName: info.username, uid: info.uid, hostname: hostname() };
  } catch {
    // userInfo throws when the uid has no passwd entry (some containers).
    return { type: 'LocalUser', userName: process.env.USER ?? process.env.USERNAME ?? 'unknown', uid: process.getuid?.() ?? -1, hostname: hostname() };
  }
}

/** Appends never follow a link: it would send the records (or the lock) to wherever it points. */
const LOG_FILE: SymlinkRefusal = { what: 'The audit log', errorName: 'AuditLogException' };
const LOCK_FILE: SymlinkRefusal = { what: "The audit log's lock", errorName: 'AuditLogException' };
const AUDIT_DIRECTORY: SymlinkRefusal = { what: 'The audit directory', errorName: 'AuditLogException' };

/** The log opened for appending; null when it does not exist and `create` is false. */
async function openLog(path: string, create: true): Promise<FileHandle>;
async function openLog(path: string, create: false): Promise<FileHandle | null>;
async function openLog(path: string, create: boolean): Promise<FileHandle | null> {
  try {
    return await openNoFollow(path, constants.O_RDWR | constants.O_APPEND | (create ? constants.O_CREAT : 0), LOG_FILE);
  } catch (error) {
    if (!create && isErrno(error, 'ENOENT')) return null;
    throw error;
  }
}

export async function openAuditLog(options: AuditLogOptions): Promise<AuditLog> {
  const dir = join(options.stateDir, AUDIT_DIR);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, AUDIT_FILE);
  const lockPath = join(dir, AUDIT_LOCK_FILE);
  const program = options.program ?? options.userAgent.replace(/^hsm-workbench-/, '').replace(/\/.*$/, '');
  const identity = localIdentity();
  /** The last record this process wrote, synced or not: what the log must still end with at its next append. */
  let lastAppended: AuditAnchor | undefined;
  /** The last record this process synced: the only kind the state may anchor (an unsynced one can vanish in a power cut). */
  let lastDurable: AuditAnchor | undefined;

  async function append(event: AuditEvent): Promise<AuditRecord> {
    const secretFields = event.secretFields ?? [];
    // Redacted before anything touches the file; the event object itself is left as it was.
    const requestParameters = redactSecrets(event.requestParameters ?? null, secretFields);
    const responseElements = event.errorCode === undefined && event.responseElements !== undefined ? redactSecrets(event.responseElements, secretFields) : null;
    const additional = event.additionalEventData === undefined ? undefined : (redactSecrets(event.additionalEventData, secretFields) as Record<string, unknown>);

    // O_NOFOLLOW guards the file names only: a linked audit/ directory would take the records elsewhere.
    await refuseSymlink(dir, AUDIT_DIRECTORY);
    // The lock is created with O_EXCL, which never follows a link: this turns a planted one into a clear refusal rather than a wait.
    await refuseSymlink(lockPath, LOCK_FILE);
    return withLock({ path: lockPath, program, waitMs: options.lockWaitMs ?? AUDIT_LOCK_WAIT_MS, errorName: 'AuditLogException', resource: `The audit log ${path}` }, async () => {
      let handle: FileHandle | null = null;
      try {
        // Before its first append only the state file knows what the log should hold; afterwards this process does too.
        const expected = lastAppended ? { source: 'this workbench process', anchor: lastAppended } : await options.expectation?.();
        // O_APPEND: every write lands at the end, whatever the offset; reads are positional.
        handle = await openLog(path, false);
        const created = handle === null;
        if (handle === null) {
          if (expected) await checkAgainstExpectation(path, null, expected);
          handle = await openLog(path, true);
        }
        const { size } = await handle.stat();
        const tail = await readTail(handle, size, path);
        if (expected) await checkAgainstExpectation(path, { handle, size, tail }, expected);
        let additionalEventData = additional;
        if (tail.tornBytes > 0) {
          /*
           * The last append was cut short (process killed mid-write, disk full): the file ends in
           * a partial line. Earlier lines are never rewritten, so the damage stays where it is:
           * this record starts on a fresh line, continues the chain from the last record, and says
           * what it stepped over, so a verifier can tell an interrupted append from a deleted record.
           */
          additionalEventData = {
            ...additionalEventData,
            auditLogRecovery: {
              damagedBytes: tail.tornBytes,
              resumedAfterSequenceNumber: tail.last?.sequenceNumber ?? 0,
              reason: 'The previous append was interrupted; its partial line was left in place and skipped.',
            },
          };
        }
        const body: Omit<AuditRecord, 'hash'> = {
          eventVersion: '1.08',
          eventTime: new Date().toISOString(),
          eventID: randomUUID(),
          eventName: event.eventName,
          eventSource: 'hsm-workbench.local',
          eventType: event.eventType ?? 'AwsApiCall',
          awsRegion: options.region,
          // As CloudTrail marks AWS's own actions "AWS Internal": the OS user ran the process, but nobody asked.
          ...(event.eventType === 'AwsServiceEvent'
            ? { sourceIPAddress: 'hsm-workbench internal', userAgent: options.userAgent, userIdentity: { ...identity, invokedBy: 'hsm-workbench' } }
            : { sourceIPAddress: 'localhost', userAgent: options.userAgent, userIdentity: identity }),
          requestParameters,
          responseElements,
          ...(additionalEventData === undefined ? {} : { additionalEventData }),
          ...(event.errorCode === undefined ? {} : { errorCode: event.errorCode }),
          ...(event.errorMessage === undefined ? {} : { errorMessage: event.errorMessage }),
          readOnly: event.readOnly,
          requestID: event.requestID ?? randomUUID(),
          sequenceNumber: (tail.last?.sequenceNumber ?? 0) + 1,
          previousHash: tail.last?.hash ?? GENESIS_HASH,
        };
        // Round-trip through JSON first so the hash covers exactly what a reader will parse back.
        const plain = JSON.parse(JSON.stringify(body)) as Omit<AuditRecord, 'hash'>;
        const record: AuditRecord = { ...plain, hash: computeRecordHash(plain) };
        const separator = tail.torn ? '\n' : '';
        const line = `${separator}${JSON.stringify(record)}\n`;
        // writeFile loops until every byte is down: a short write (a nearly full disk) must fail, not pass as a record.
        await handle.writeFile(line);
        const durable = event.durable !== false || created;
        if (durable) await handle.sync();
        if (created) await syncDirectory(dir); // make the new file's directory entry durable
        // O_APPEND under the lock: the line starts where the file ended.
        lastAppended = { sequenceNumber: record.sequenceNumber, hash: record.hash, byteOffset: size + separator.length };
        if (durable) lastDurable = lastAppended;
        return record;
      } catch (error) {
        if (error instanceof WorkbenchError) throw error;
        throw new WorkbenchError('AuditLogException', `The audit record for ${event.eventName} could not be written to ${path} (${(error as NodeJS.ErrnoException).code ?? 'I/O error'}). Check the disk and the file's permissions.`, {
          cause: error,
        });
      } finally {
        await handle?.close();
      }
    });
  }

  return { path, append, anchor: () => lastDurable };
}
