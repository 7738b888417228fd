import type { AuditRecord } from './audit-record';
import { computeRecordHash, GENESIS_HASH } from './record-hash';

export type ChainVerification =
  | { valid: true; count: number; lastHash: string }
  | { valid: false; count: number; index: number; sequenceNumber: number | undefined; problem: string };

/**
 * Checks records in file order: sequence numbers run 1, 2, … without gaps, each record's hash
 * is the hash of its own content, and each previousHash is the hash of the record before.
 * Any edit, deletion, insertion or reordering of a record breaks one of the three.
 */
export function verifyChain(records: readonly AuditRecord[]): ChainVerification {
  let previousHash = GENESIS_HASH;
  for (const [index, record] of records.entries()) {
    const fail = (problem: string): ChainVerification => ({ valid: false, count: records.length, index, sequenceNumber: record.sequenceNumber, problem });
    if (record.sequenceNumber !== index + 1) return fail(`sequence number ${String(record.sequenceNumber)} where ${index + 1} was expected`);
    if (record.previousHash !== previousHash) return fail(`previousHash does not match the hash of record ${index}`);
    if (computeRecordHash(record as unknown as Record<string, unknown>) !== record.hash) return fail('the record was changed after it was written (its hash does not match its content)');
    previousHash = record.hash;
  }
  return { valid: true, count: records.length, lastHash: previousHash };
}
