import { createHash } from 'node:crypto';
import { WorkbenchError } from '../../shared/errors';
import type { HsmHost, Mechanism, ObjectInfo, ObjectTemplate } from '../hsm/hsm-host';
import type { CmkRecord } from '../state/records';

/**
 * How a CMK's key material is named in every HSM (DESIGN.md §2): CKA_LABEL = the key's ARN, as AWS labels
 * it, and CKA_ID = the 16 bytes of the key id. Handles are session-scoped, so material is always found again
 * by these two, never by a handle kept from before.
 */
export function backingKeySelector(key: Pick<CmkRecord, 'KeyId' | 'Arn'>): ObjectTemplate {
  return { class: 'CKO_SECRET_KEY', label: key.Arn, id: keyIdBytes(key.KeyId) };
}

/** The key id's 16 bytes as hex (a UUID without its dashes). */
export function keyIdBytes(keyId: string): string {
  return keyId.replaceAll('-', '').toLowerCase();
}

/** The objects on a member that are this CMK's material: normally one; none when it is missing, more when something went wrong. */
export async function findBackingKeys(host: HsmHost, ref: string, key: Pick<CmkRecord, 'KeyId' | 'Arn'>, timeoutMs: number): Promise<ObjectInfo[]> {
  return host.findObjects(ref, { template: backingKeySelector(key), attributes: ['handle', 'label', 'id', 'keyType', 'valueLen', 'sensitive', 'extractable', 'neverExtractable', 'local'] }, { timeoutMs });
}

/**
 * The attributes of a CMK's key material (DESIGN.md §2), on the member it is generated on and on every copy.
 * CKA_EXTRACTABLE is true because C_WrapKey needs it (SoftHSM answers CKR_KEY_UNEXTRACTABLE otherwise); with
 * CKA_WRAP_WITH_TRUSTED the token lets it leave only wrapped for a member an SO trusted, never in clear (the
 * attribute policy's "extractable only with wrap-with-trusted"). No wrap/unwrap/sign/derive use, GCM only (no ECB oracle).
 */
export function backingKeyTemplate(key: Pick<CmkRecord, 'KeyId' | 'Arn'>): ObjectTemplate {
  return {
    ...backingKeySelector(key),
    keyType: 'CKK_AES',
    token: true,
    private: true,
    sensitive: true,
    extractable: true,
    wrapWithTrusted: true,
    encrypt: true,
    decrypt: true,
    wrap: false,
    unwrap: false,
    sign: false,
    verify: false,
    derive: false,
    allowedMechanisms: ['CKM_AES_GCM'],
  };
}

/** AES-256: generated with CKA_VALUE_LEN 32; an unwrap takes its length from the wrapped value (SoftHSM refuses the attribute there). */
export const BACKING_KEY_BYTES = 32;

/** How the material is copied: wrapped on the source for the target's trusted member key, RSA-OAEP (SHA-1, MGF1-SHA1: what SoftHSM supports). */
export const MEMBER_WRAP: Mechanism = { mechanism: 'CKM_RSA_PKCS_OAEP', params: { kind: 'rsa-oaep', hashAlg: 'CKM_SHA_1', mgf: 'CKG_MGF1_SHA1' } };

/**
 * The check value's computation (DESIGN.md §2): AES-GCM of 16 zero bytes under the all-zero 96-bit IV and a fixed
 * AAD, inside the HSM with the key's own mechanism. Real encryptions never use this IV (theirs come from the HSM's RNG).
 */
const CHECK_VALUE_GCM: Mechanism = { mechanism: 'CKM_AES_GCM', params: { kind: 'aes-gcm', iv: '00'.repeat(12), aad: Buffer.from('hsm-workbench kcv').toString('hex'), tagBits: 128 } };
const ZERO_BLOCK = '00'.repeat(16);

/** What a member proved of one copy: the 3-byte check value and the BackingKeyId derived from the whole block, or why it could not. */
export type CopyProof = { checkValue: string; backingKeyId: string } | { unverifiable: string };

/**
 * Computes the copy's check value in the HSM. A module that does not offer CKM_AES_GCM (the p11-kit 0.24 client
 * forwards no GCM: it is missing from C_GetMechanismList, or C_EncryptInit answers CKR_MECHANISM_INVALID) cannot
 * prove its copy: that is `unverifiable`, never a guess. CKA_ALLOWED_MECHANISMS is not read to decide it: through
 * that client the read answers CKR_DEVICE_ERROR, which the host treats as a lost device.
 */
export async function proveCopy(host: HsmHost, session: { ref: string; slot: { SlotId: string } }, handle: string, timeoutMs: number): Promise<CopyProof> {
  const mechanisms = await host.getMechanisms(session.slot.SlotId, { timeoutMs });
  if (!mechanisms.some((m) => m.Mechanism === 'CKM_AES_GCM')) return { unverifiable: 'its module does not offer CKM_AES_GCM (absent from C_GetMechanismList), so it cannot compute the check value' };
  try {
    const block = await host.encrypt(session.ref, CHECK_VALUE_GCM, handle, ZERO_BLOCK, { timeoutMs });
    return { checkValue: block.slice(0, 6), backingKeyId: createHash('sha256').update('hsm-workbench backing key id\0').update(Buffer.from(block, 'hex')).digest('hex') };
  } catch (error) {
    if (error instanceof WorkbenchError && error.code === 'CKR_MECHANISM_INVALID') return { unverifiable: 'its module answered CKR_MECHANISM_INVALID for CKM_AES_GCM, so it cannot compute the check value' };
    throw error;
  }
}
