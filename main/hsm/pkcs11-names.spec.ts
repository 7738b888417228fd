import { describe, expect, it } from 'vitest';
import { mechanismFlagNames, sessionStateName, slotFlagNames, tokenFlagNames } from './ckf';
import { ckmName, ckmValue, toPkcs11Mechanism } from './ckm';
import { ckrMessage, ckrName } from './ckr';
import { handleFromString, handleToString, readUlong } from './handles';
import type { ObjectTemplate, RsaOaepParams } from './hsm-host';
import { attributeQuery, decodeAttributes, toPkcs11Template } from './template';

describe('PKCS#11 names', () => {
  it('names return values from the spec, and keeps vendor codes recognisable', () => {
    expect(ckrName(0)).toBe('CKR_OK');
    expect(ckrName(0xa0)).toBe('CKR_PIN_INCORRECT');
    expect(ckrName(0x30)).toBe('CKR_DEVICE_ERROR');
    expect(ckrName(0x80000123)).toBe('CKR_VENDOR_DEFINED+0x00000123');
    expect(ckrName(0x7777)).toBe('CKR_0x00007777');
    expect(ckrMessage('C_Login', 'CKR_PIN_INCORRECT')).toMatch(/^C_Login failed with CKR_PIN_INCORRECT\. The PIN was not accepted/);
  });

  it('reads the same bit differently in slot, token and mechanism flags', () => {
    expect(slotFlagNames(0x1)).toEqual(['CKF_TOKEN_PRESENT']);
    expect(tokenFlagNames(0x1)).toEqual(['CKF_RNG']);
    expect(mechanismFlagNames(0x1)).toEqual(['CKF_HW']);
    // SoftHSM's usual token flags, plus CKF_USER_PIN_COUNT_LOW after a wrong PIN.
    expect(tokenFlagNames(0x42d | 0x10000)).toEqual(['CKF_RNG', 'CKF_LOGIN_REQUIRED', 'CKF_USER_PIN_INITIALIZED', 'CKF_RESTORE_KEY_NOT_NEEDED', 'CKF_TOKEN_INITIALIZED', 'CKF_USER_PIN_COUNT_LOW']);
    expect(slotFlagNames(0x1 | 0x100)).toEqual(['CKF_TOKEN_PRESENT', '0x100']);
    expect(mechanismFlagNames(0x80000000)).toEqual(['CKF_EXTENSION']);
    expect(sessionStateName(3)).toBe('CKS_RW_USER_FUNCTIONS');
  });

  it('names mechanisms, preferring the current name of an alias', () => {
    expect(ckmName(0x1087)).toBe('CKM_AES_GCM');
    expect(ckmName(0x1040)).toBe('CKM_EC_KEY_PAIR_GEN');
    expect(ckmValue('CKM_ECDSA_KEY_PAIR_GEN')).toBe(0x1040);
    expect(ckmName(0x80000001)).toBe('CKM_VENDOR_DEFINED+0x00000001');
  });
});

describe('handles and templates', () => {
  it('turns 8-byte little-endian handles into decimal strings and back', () => {
    const handle = Buffer.from('ed58696a00000000', 'hex');
    expect(handleToString(handle)).toBe('1785288941');
    expect(handleFromString('1785288941', 8)).toEqual(handle);
    expect(handleToString(handleFromString('18446744073709551615', 8))).toBe('18446744073709551615');
    expect(() => handleFromString('12; rm -rf', 8)).toThrow(RangeError);
  });

  it('converts a search template and decodes attribute values', () => {
    const template = toPkcs11Template({ class: 'CKO_SECRET_KEY', keyType: 'CKK_AES', label: 'arn:x', id: '00ff', token: true }, 8);
    expect(template.map((a) => a.type)).toEqual([0x0, 0x100, 0x3, 0x102, 0x1]);
    expect(template[3]?.value).toEqual(Buffer.from([0, 255]));
    expect(() => toPkcs11Template({ class: 'CKO_NOPE' }, 8)).toThrow(/unknown object class CKO_NOPE/);
    expect(() => toPkcs11Template({ id: 'xyz' }, 8)).toThrow(/hex/);

    expect(attributeQuery(['handle', 'label', 'class'])).toEqual([{ type: 0x3 }, { type: 0x0 }]);
    const ulong = (n: number): Buffer => Buffer.from(new BigUint64Array([BigInt(n)]).buffer);
    const decoded = decodeAttributes(
      [
        { type: 0x3, value: Buffer.from('label é') },
        { type: 0x0, value: ulong(4) },
        { type: 0x100, value: ulong(0x1f) },
        { type: 0x102, value: Buffer.from([1, 2]) },
        { type: 0x162, value: Buffer.from([0]) },
        { type: 0x161, value: ulong(32) },
      ],
      { handle: '7' },
      8,
    );
    expect(decoded).toEqual({ handle: '7', label: 'label é', class: 'CKO_SECRET_KEY', keyType: 'CKK_AES', id: '0102', extractable: false, valueLen: 32 });
    expect(readUlong(ulong(4))).toBe(4);
  });

  it('converts the key-management attributes both ways, CK_ULONG arrays in the module width', () => {
    const template = toPkcs11Template({ certificateType: 'CKC_X_509', allowedMechanisms: ['CKM_AES_GCM', 'CKM_RSA_PKCS_OAEP'], keyGenMechanism: 'CKM_AES_KEY_GEN', wrapWithTrusted: true, modulusBits: 3072, subject: '3000' }, 4);
    expect(template.map((a) => a.type)).toEqual([0x80, 0x40000600, 0x166, 0x210, 0x121, 0x101]);
    expect(template[0]?.value).toBe(0);
    expect(template[1]?.value).toEqual(Buffer.from('8710000009000000', 'hex'));
    expect(toPkcs11Template({ allowedMechanisms: ['CKM_AES_GCM'] }, 8)[0]?.value).toEqual(Buffer.from('8710000000000000', 'hex'));
    expect(() => toPkcs11Template({ allowedMechanisms: ['CKM_NOPE'] }, 8)).toThrow(/unknown mechanism CKM_NOPE/);
    expect(() => toPkcs11Template({ trusted: 'yes' } as unknown as ObjectTemplate, 8)).toThrow(/trusted must be true or false/);
    expect(() => toPkcs11Template({ value: 'secret!' }, 8)).toThrow(/^value must be hex$/);
    expect(() => toPkcs11Template({ colour: 'red' } as unknown as ObjectTemplate, 8)).toThrow(/colour is not an attribute/);

    const decoded = decodeAttributes(
      [
        { type: 0x80, value: Buffer.from('0000000000000000', 'hex') },
        { type: 0x40000600, value: Buffer.from('87100000000000000900000000000000', 'hex') },
        { type: 0x86, value: Buffer.from([1]) },
        { type: 0x11, value: Buffer.from('3082', 'hex') },
      ],
      {},
      8,
    );
    expect(decoded).toEqual({ certificateType: 'CKC_X_509', allowedMechanisms: ['CKM_AES_GCM', 'CKM_RSA_PKCS_OAEP'], trusted: true, value: '3082' });
  });

  it('converts mechanisms with RSA-OAEP and AES-GCM parameters, refusing unknown parts by name', () => {
    expect(toPkcs11Mechanism({ mechanism: 'CKM_RSA_PKCS_OAEP', params: { kind: 'rsa-oaep', hashAlg: 'CKM_SHA256', mgf: 'CKG_MGF1_SHA256' } })).toEqual({
      mechanism: 0x9,
      parameter: { type: 4, hashAlg: 0x250, mgf: 2, source: 1 },
    });
    expect(toPkcs11Mechanism({ mechanism: 'CKM_AES_GCM', params: { kind: 'aes-gcm', iv: '00'.repeat(12), aad: '', tagBits: 128 } })).toEqual({
      mechanism: 0x1087,
      parameter: { type: 25, iv: Buffer.alloc(12), ivBits: 96, tagBits: 128 },
    });
    expect(() => toPkcs11Mechanism({ mechanism: 'CKM_NOPE' })).toThrow(/known CKM_ name/);
    expect(() => toPkcs11Mechanism({ mechanism: 'CKM_RSA_PKCS_OAEP', params: { kind: 'rsa-oaep', hashAlg: 'CKM_MD5', mgf: 'CKG_MGF1_SHA1' } as unknown as RsaOaepParams })).toThrow(/hashAlg/);
    expect(() => toPkcs11Mechanism({ mechanism: 'CKM_AES_GCM', params: { kind: 'aes-gcm', iv: 'zz', aad: '', tagBits: 128 } })).toThrow(/iv must be hex/);
  });
});
