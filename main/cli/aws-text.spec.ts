import { describe, expect, it } from 'vitest';
import { formatText } from './aws-text';

describe('formatText (the AWS CLI\'s --output text)', () => {
  it('prints a bare scalar as it is: the base64 of a blob alone, True/False/None for the rest', () => {
    expect(formatText('AQICAHg=')).toBe('AQICAHg=');
    expect(formatText(42)).toBe('42');
    expect([true, false, null].map(formatText)).toEqual(['True', 'False', 'None']);
  });

  it('puts a structure\'s scalars on one line in the order of their sorted keys', () => {
    expect(formatText({ KeyId: 'arn:k', CiphertextBlob: 'AQID', EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' })).toBe('AQID\tSYMMETRIC_DEFAULT\tarn:k');
  });

  it('gives a nested structure and its lists their own lines, prefixed by the upper-cased key', () => {
    const described = {
      KeyMetadata: { KeyId: '1234abcd', Enabled: true, KeyState: 'Enabled', EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'], CreationDate: '2026-12-02T12:00:00.000Z', MultiRegion: false },
    };
    expect(formatText(described).split('\n')).toEqual(['KEYMETADATA\t2026-12-02T12:00:00.000Z\tTrue\t1234abcd\tEnabled\tFalse', 'ENCRYPTIONALGORITHMS\tSYMMETRIC_DEFAULT']);
  });

  it('prints a list of structures one line per item, with the same sorted columns for every item', () => {
    const page = {
      Aliases: [
        { AliasName: 'alias/a', AliasArn: 'arn:a', TargetKeyId: 'k1' },
        { AliasName: 'alias/b', AliasArn: 'arn:b' },
      ],
      Truncated: false,
    };
    expect(formatText(page).split('\n')).toEqual(['False', 'ALIASES\tarn:a\talias/a\tk1', 'ALIASES\tarn:b\talias/b\t']);
    expect(formatText({ Tags: [{ TagKey: 'Purpose', TagValue: 'test' }] })).toBe('TAGS\tPurpose\ttest');
  });

  it('prints a list of scalars on one line bare and one line each under a key; a list of lists one line per list', () => {
    expect(formatText(['a', 'b'])).toBe('a\tb');
    expect(formatText({ TagKeys: ['a', 'b'] })).toBe('TAGKEYS\ta\nTAGKEYS\tb');
    expect(formatText([['k1', 'Enabled'], ['k2', 'Disabled']])).toBe('k1\tEnabled\nk2\tDisabled');
  });

  it('prints nothing for an empty structure or list', () => {
    expect(formatText({})).toBe('');
    expect(formatText([])).toBe('');
    expect(formatText({ Keys: [] })).toBe('');
  });
});
