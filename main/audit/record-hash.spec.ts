import { describe, expect, it } from 'vitest';
import { canonicalJson, computeRecordHash, sha256Hex } from './record-hash';

describe('canonicalJson', () => {
  it('sorts keys recursively, whatever order they were written in', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } })).toBe('{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ b: 1, a: 2 })).toBe(canonicalJson({ a: 2, b: 1 }));
  });

  it('sorts integer-like keys as strings, not in JS property order', () => {
    expect(canonicalJson({ 10: 'a', 9: 'b', x: 'c' })).toBe('{"10":"a","9":"b","x":"c"}');
  });

  it('drops undefined fields and maps undefined array items and non-finite numbers to null, like JSON', () => {
    expect(canonicalJson({ a: undefined, b: [undefined, Number.NaN, 1] })).toBe('{"b":[null,null,1]}');
  });

  it('agrees with JSON.parse of its own output (what a verifier re-reads)', () => {
    const value = { when: new Date('2026-01-02T03:04:05.000Z'), s: 'é\n"', n: -0.5 };
    expect(canonicalJson(JSON.parse(canonicalJson(value)))).toBe(canonicalJson(value));
  });
});

describe('computeRecordHash', () => {
  it('hashes the record without its own hash field', () => {
    const record = { sequenceNumber: 1, previousHash: '0'.repeat(64) };
    const hash = computeRecordHash(record);
    expect(hash).toBe(sha256Hex('{"previousHash":"0000000000000000000000000000000000000000000000000000000000000000","sequenceNumber":1}'));
    expect(computeRecordHash({ ...record, hash })).toBe(hash);
  });
});
