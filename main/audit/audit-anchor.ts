import type { FileHandle } from 'node:fs/promises';
import { WorkbenchError } from '../../shared/errors';
import type { AuditAnchor } from '../state/state-schema';
import type { StateStore } from '../state/state-store';
import { recordAt, type AuditTail } from './audit-file';

export type { AuditAnchor } from '../state/state-schema';

/**
 * What is known, from outside the log, about the records it must hold. The log cannot vouch for
 * itself: deleted, it starts a fresh chain at 1; cut short, its new last line still chains. So the
 * state file keeps an anchor (the last record at its last change), and each process remembers
 * the last record it appended.
 */
export interface AuditExpectation {
  /** Who says so, for the message: "the state file /…/state.json". */
  source: string;
  /** The last record known to be in the log; null when records must exist but which is unknown. */
  anchor: AuditAnchor | null;
  /** Why records must exist when the anchor is unknown: "the state file … holds 2 cluster(s), …". */
  reason?: string;
  /** What to do if the log cannot be restored. */
  giveUp?: string;
}

/**
 * The state file's expectation. Its anchor is what it says; a file from before anchors that holds
 * clusters says only that records exist; `"auditAnchor": null` says a new chain was started on
 * purpose. Undefined when the state cannot be read: the operation itself reports that.
 */
export function expectationFromState(state: Pick<StateStore, 'read' | 'path'>): () => Promise<AuditExpectation | undefined> {
  return async () => {
    const current = await state.read().catch(() => undefined);
    if (!current || current.auditAnchor === null) return undefined;
    const source = `the state file ${state.path}`;
    const giveUp = `If it cannot be restored, move what is left of it aside and set "auditAnchor" to null in ${state.path} to start a new chain on purpose.`;
    if (current.auditAnchor) return { source, anchor: current.auditAnchor, giveUp };
    if (current.clusters.length > 0) return { source, anchor: null, reason: `${source} holds ${current.clusters.length} cluster(s), which were created with audit records`, giveUp };
    return undefined;
  };
}

function refused(path: string, found: string, expected: AuditExpectation, detail: string): WorkbenchError {
  const remedy = ['Records were lost or replaced, so nothing was written. Restore the audit log from a backup.', expected.giveUp].filter(Boolean).join(' ');
  return new WorkbenchError('AuditLogException', `The audit log ${path} ${found}, but ${detail}. ${remedy}`, {
    details: { path, expected: expected.anchor, source: expected.source },
  });
}

function known(expected: AuditExpectation, anchor: AuditAnchor): string {
  return `the last record known from ${expected.source} is sequence number ${anchor.sequenceNumber} (hash ${anchor.hash}, at byte ${anchor.byteOffset})`;
}

/** Refuses a log that is missing, or that lacks the expected record (`tail` null: the file does not exist). */
export async function checkAgainstExpectation(path: string, log: { handle: FileHandle; size: number; tail: AuditTail } | null, expected: AuditExpectation): Promise<void> {
  const { anchor } = expected;
  const last = log?.tail.last ?? null;
  if (!log || !last) {
    throw refused(path, log ? 'holds no records' : 'is missing', expected, anchor ? known(expected, anchor) : (expected.reason ?? `${expected.source} says it had records`));
  }
  if (!anchor) return;
  if (last.sequenceNumber < anchor.sequenceNumber) {
    const missing = anchor.sequenceNumber - last.sequenceNumber;
    throw refused(path, `ends at sequence number ${last.sequenceNumber}`, expected, `${known(expected, anchor)}: ${missing} record(s) are missing from its end`);
  }
  const record = await recordAt(log.handle, log.size, anchor.byteOffset);
  if (record?.sequenceNumber !== anchor.sequenceNumber) {
    throw refused(path, `has no record with sequence number ${anchor.sequenceNumber} at byte ${anchor.byteOffset}`, expected, known(expected, anchor));
  }
  if (record.hash !== anchor.hash) throw refused(path, `has hash ${record.hash} at sequence number ${anchor.sequenceNumber}`, expected, known(expected, anchor));
}
