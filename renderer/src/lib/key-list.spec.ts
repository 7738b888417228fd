import { describe, expect, it } from 'vitest';
import type { KeySummary } from '../../../shared/contract/keys';
import { filterKeys, keyCount, keyStateBadge } from './key-list';

function key(id: string, patch: Partial<KeySummary> = {}): KeySummary {
  return {
    AWSAccountId: '111122223333',
    KeyId: id,
    Arn: `arn:aws:kms:local-1:111122223333:key/${id}`,
    CreationDate: '2026-01-01T00:00:00.000Z',
    Enabled: true,
    Description: '',
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyState: 'Enabled',
    Origin: 'AWS_CLOUDHSM',
    CustomKeyStoreId: 'cks-0123456789abcdef0',
    CloudHsmClusterId: 'cluster-abcdefghijk',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    KeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegion: false,
    AliasNames: [],
    ...patch,
  };
}

const NONE = { state: '', customKeyStoreId: '', search: '' } as const;

describe('the Keys page filter', () => {
  const keys = [
    key('11111111-1111-4111-8111-111111111111', { Description: 'Payroll database', AliasNames: ['alias/payroll'] }),
    key('22222222-2222-4222-8222-222222222222', { KeyState: 'Disabled', CustomKeyStoreId: 'cks-fedcba98765432100' }),
    key('33333333-3333-4333-8333-333333333333', { KeyState: 'PendingDeletion', AliasNames: ['alias/old-backups'] }),
  ];

  it('hands back the same list when no filter is set (no copy per keystroke)', () => {
    expect(filterKeys(keys, NONE)).toBe(keys);
  });

  it('searches id, alias and description case-insensitively', () => {
    expect(filterKeys(keys, { ...NONE, search: '2222-4222' }).map((k) => k.KeyId)).toEqual([keys[1]?.KeyId]);
    expect(filterKeys(keys, { ...NONE, search: 'BACKUPS' }).map((k) => k.KeyId)).toEqual([keys[2]?.KeyId]);
    expect(filterKeys(keys, { ...NONE, search: ' payroll db' })).toEqual([]);
    expect(filterKeys(keys, { ...NONE, search: 'payroll data' }).map((k) => k.KeyId)).toEqual([keys[0]?.KeyId]);
  });

  it('combines the state and key store filters with the search', () => {
    expect(filterKeys(keys, { ...NONE, state: 'Disabled' }).map((k) => k.KeyId)).toEqual([keys[1]?.KeyId]);
    expect(filterKeys(keys, { ...NONE, customKeyStoreId: 'cks-0123456789abcdef0' })).toHaveLength(2);
    expect(filterKeys(keys, { state: 'Enabled', customKeyStoreId: 'cks-0123456789abcdef0', search: 'old' })).toEqual([]);
  });

  it('names every state in words, also one it does not expect', () => {
    expect(keyStateBadge('PendingDeletion')).toEqual({ tone: 'bad', text: 'Pending deletion' });
    expect(keyStateBadge('Updating')).toEqual({ tone: 'neutral', text: 'Updating' });
  });
});

describe('the Keys page count', () => {
  it('reads as an admin counts: thousands separated, and what a filter leaves out of how many', () => {
    expect(keyCount(10_000, 10_000)).toBe('10,000 keys');
    expect(keyCount(1, 1)).toBe('1 key');
    expect(keyCount(0, 0)).toBe('0 keys');
    expect(keyCount(1, 10_000)).toBe('1 of 10,000 keys');
  });
});
