import { describe, expect, it } from 'vitest';
import { fixedString, paddedTokenLabel } from './ck-strings';

describe('fixed-length PKCS#11 strings', () => {
  it('strips the blank padding the spec prescribes', () => {
    expect(fixedString('SoftHSM project                 ')).toBe('SoftHSM project');
    expect(fixedString(' '.repeat(32))).toBe('');
  });

  it('strips NUL padding, which some modules use instead of blanks', () => {
    expect(fixedString('kms-hsm-1\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0')).toBe('kms-hsm-1');
    expect(fixedString('Vendor  \0\0\0\0')).toBe('Vendor');
    expect(fixedString('\0'.repeat(16))).toBe('');
  });

  it('ends at the first NUL: what follows a C terminator is not part of the string', () => {
    expect(fixedString('model\0garbage ')).toBe('model');
  });

  it('keeps leading blanks of a label and blanks inside it', () => {
    expect(fixedString('  my key store  ')).toBe('  my key store');
  });
});

describe('the C_InitToken label', () => {
  it('is padded with blanks to exactly 32 bytes of UTF-8', () => {
    expect(paddedTokenLabel('kms-hsm-1')).toBe(`kms-hsm-1${' '.repeat(23)}`);
    const multiByte = paddedTokenLabel('kms-hsm-ä-1');
    expect(Buffer.byteLength(multiByte, 'utf8')).toBe(32);
    expect(fixedString(multiByte)).toBe('kms-hsm-ä-1');
    expect(paddedTokenLabel('x'.repeat(32))).toBe('x'.repeat(32));
  });

  it('refuses more than 32 bytes, counting bytes rather than characters', () => {
    expect(() => paddedTokenLabel('x'.repeat(33))).toThrow(/33 bytes of UTF-8.*at most 32 bytes/);
    expect(() => paddedTokenLabel('é'.repeat(17))).toThrow(/34 bytes/);
    expect(() => paddedTokenLabel('a\0b')).toThrow(/NUL/);
  });
});
