import { describe, expect, it } from 'vitest';
import type { AuditRecord } from './audit-record';
import { computeRecordHash, GENESIS_HASH } from './record-hash';
import { verifyChain } from './verify-chain';

function chain(length: number): AuditRecord[] {
  const records: AuditRecord[] = [];
  let previousHash = GENESIS_HASH;
  for (let i = 1; i <= length; i += 1) {
    const body = {
      eventVersion: '1.08',
      eventTime: `2026-01-01T00:00:0${i}.000Z`,
      eventID: `id-${i}`,
      eventName: 'CreateCluster',
      eventSource: 'hsm-workbench.local',
      eventType: 'AwsApiCall',
      awsRegion: 'local-1',
      sourceIPAddress: 'localhost',
      userAgent: 'hsm-workbench-cli/0.1.0',
      userIdentity: { type: 'LocalUser', userName: 'u', uid: 1, hostname: 'h' },
      requestParameters: { n: i },
      responseElements: null,
      readOnly: false,
      requestID: `r-${i}`,
      sequenceNumber: i,
      previousHash,
    } as const;
    const record = { ...body, hash: computeRecordHash(body) } as AuditRecord;
    records.push(record);
    previousHash = record.hash;
  }
  return records;
}

describe('verifyChain', () => {
  it('accepts an intact chain, and an empty log', () => {
    expect(verifyChain(chain(3))).toMatchObject({ valid: true, count: 3 });
    expect(verifyChain([])).toEqual({ valid: true, count: 0, lastHash: GENESIS_HASH });
  });

  it('catches an edited record', () => {
    const records = chain(3);
    records[1] = { ...records[1], requestParameters: { n: 99 } } as AuditRecord;
    expect(verifyChain(records)).toMatchObject({ valid: false, index: 1, sequenceNumber: 2 });
  });

  it('catches a deleted record', () => {
    const records = chain(3);
    records.splice(1, 1);
    expect(verifyChain(records)).toMatchObject({ valid: false, index: 1 });
  });

  it('catches a re-hashed edit through the next record', () => {
    const records = chain(3);
    const edited = { ...records[1], requestParameters: { n: 99 } } as AuditRecord;
    records[1] = { ...edited, hash: computeRecordHash(edited as unknown as Record<string, unknown>) };
    expect(verifyChain(records)).toMatchObject({ valid: false, index: 2, problem: expect.stringContaining('previousHash') });
  });
});
