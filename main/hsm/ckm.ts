import pkcs11js from 'pkcs11js';
import type { Mechanism } from './hsm-host';
import { bytesFromHex } from './handles';
import { constantNames, constantValues, unknownName } from './pkcs11-constants';

/** CK_MECHANISM_TYPE → CKM_ name. Of two names for one value, the current spec's wins. */
const CKM_NAMES = constantNames('CKM_', ['CKM_EC_KEY_PAIR_GEN']);
const CKM_VALUES = constantValues('CKM_');
const CKG_VALUES = constantValues('CKG_');
/** CKZ_DATA_SPECIFIED: the OAEP label comes from the parameters (empty here). pkcs11js lacks the constant. */
const CKZ_DATA_SPECIFIED = 1;
const OAEP_HASHES: readonly string[] = ['CKM_SHA_1', 'CKM_SHA256'];
const OAEP_MGFS: readonly string[] = ['CKG_MGF1_SHA1', 'CKG_MGF1_SHA256'];

export function ckmName(mechanism: number): string {
  return CKM_NAMES.get(mechanism) ?? unknownName('CKM_', mechanism);
}

/** The CKM_ value for a name, or undefined if pkcs11js does not know it. */
export function ckmValue(name: string): number | undefined {
  return CKM_VALUES.get(name);
}

/**
 * A Mechanism (CKM_ name and plain-data parameters) as pkcs11js takes it. Throws RangeError saying which part
 * is wrong (an unknown CKM_ name, a hash or MGF OAEP does not use here, bad hex), never the parameter values.
 */
export function toPkcs11Mechanism(mechanism: Mechanism): pkcs11js.Mechanism {
  const code = typeof mechanism?.mechanism === 'string' ? ckmValue(mechanism.mechanism) : undefined;
  if (code === undefined) throw new RangeError('the mechanism must be a known CKM_ name');
  const params = mechanism.params;
  if (params === undefined) return { mechanism: code };
  if (params.kind === 'rsa-oaep') {
    if (!OAEP_HASHES.includes(params.hashAlg) || !OAEP_MGFS.includes(params.mgf)) throw new RangeError('RSA-OAEP takes hashAlg CKM_SHA_1 or CKM_SHA256 and mgf CKG_MGF1_SHA1 or CKG_MGF1_SHA256');
    const parameter: pkcs11js.RsaOAEP = { type: pkcs11js.CK_PARAMS_RSA_OAEP, hashAlg: ckmValue(params.hashAlg) ?? 0, mgf: CKG_VALUES.get(params.mgf) ?? 0, source: CKZ_DATA_SPECIFIED };
    return { mechanism: code, parameter };
  }
  if (params.kind === 'aes-gcm') {
    const iv = bytesFromHex(params.iv, 'the AES-GCM iv');
    const aad = bytesFromHex(params.aad, 'the AES-GCM aad');
    if (!Number.isInteger(params.tagBits) || params.tagBits < 0 || params.tagBits > 128) throw new RangeError('the AES-GCM tagBits must be an integer from 0 to 128');
    if (iv.length === 0) throw new RangeError('the AES-GCM iv must not be empty');
    // pkcs11js refuses an empty buffer; no AAD is the same as an absent one.
    const parameter: pkcs11js.GcmParams = { type: pkcs11js.CK_PARAMS_GCM, iv, ivBits: iv.length * 8, tagBits: params.tagBits, ...(aad.length > 0 ? { aad } : {}) };
    return { mechanism: code, parameter };
  }
  throw new RangeError('the mechanism parameters must be of kind rsa-oaep or aes-gcm');
}
