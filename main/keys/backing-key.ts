import type { HsmHost, ObjectInfo, ObjectTemplate } from '../hsm/hsm-host';
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
