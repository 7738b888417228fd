import type { ObjectTemplate } from '../hsm/hsm-host';

/*
 * The token objects the workbench makes for a cluster, by the CKA_LABEL and CKA_ID it finds them again by.
 * A CKA_ID is the hex of the id it is named for (cluster or member), so every run of a step finds what an
 * earlier, interrupted run made and reuses it instead of making a twin.
 */

export const CLUSTER_KEY_BITS = 2048;
export const MEMBER_KEY_BITS = 3072;
const RSA_F4 = '010001';

export function objectId(name: string): string {
  return Buffer.from(name, 'utf8').toString('hex');
}

/** The cluster signing key pair (on the first member): it signs the cluster's CSR, inside the HSM. */
export function clusterKeyTemplates(clusterId: string): { publicKey: ObjectTemplate; privateKey: ObjectTemplate } {
  const common = { keyType: 'CKK_RSA', token: true, label: `hsm-workbench cluster ${clusterId}`, id: objectId(clusterId) };
  return {
    publicKey: { ...common, class: 'CKO_PUBLIC_KEY', private: false, verify: true, encrypt: false, wrap: false, modulusBits: CLUSTER_KEY_BITS, publicExponent: RSA_F4 },
    privateKey: { ...common, class: 'CKO_PRIVATE_KEY', private: true, sensitive: true, extractable: false, sign: true, decrypt: false, unwrap: false, derive: false },
  };
}

/** A member's own key pair: the private half only unwraps (key material wrapped for this member by the others). */
export function memberKeyTemplates(hsmId: string): { publicKey: ObjectTemplate; privateKey: ObjectTemplate } {
  const common = { keyType: 'CKK_RSA', token: true, label: `hsm-workbench member ${hsmId}`, id: objectId(hsmId) };
  return {
    publicKey: { ...common, class: 'CKO_PUBLIC_KEY', private: false, wrap: true, encrypt: false, verify: false, modulusBits: MEMBER_KEY_BITS, publicExponent: RSA_F4 },
    privateKey: { ...common, class: 'CKO_PRIVATE_KEY', private: true, sensitive: true, extractable: false, unwrap: true, decrypt: false, sign: false, derive: false },
  };
}

/** How another member's SO holds member `hsmId`'s public key: a trusted wrapping key (only an SO can set CKA_TRUSTED). */
export function trustedMemberKeyTemplate(hsmId: string, key: { modulus: string; publicExponent: string }): ObjectTemplate {
  return {
    class: 'CKO_PUBLIC_KEY',
    keyType: 'CKK_RSA',
    token: true,
    private: false,
    label: `hsm-workbench trusted member ${hsmId}`,
    id: objectId(hsmId),
    modulus: key.modulus,
    publicExponent: key.publicExponent,
    wrap: true,
    trusted: true,
    encrypt: false,
    verify: false,
  };
}

/** The search for member `hsmId`'s public key: its own on its token, a trusted copy on every other member's. */
export function memberPublicKeyQuery(hsmId: string): ObjectTemplate {
  return { class: 'CKO_PUBLIC_KEY', id: objectId(hsmId), token: true };
}

export type ClusterCertificateRole = 'cluster certificate' | 'trust anchor';

/** One of the cluster's two certificates as a CKO_CERTIFICATE object (public: anyone may read a certificate). */
export function certificateTemplate(clusterId: string, role: ClusterCertificateRole, der: { value: string; subject: string; issuer: string }): ObjectTemplate {
  return { ...certificateQuery(clusterId, role), certificateType: 'CKC_X_509', private: false, value: der.value, subject: der.subject, issuer: der.issuer };
}

export function certificateQuery(clusterId: string, role: ClusterCertificateRole): ObjectTemplate {
  return { class: 'CKO_CERTIFICATE', token: true, label: `hsm-workbench ${role} ${clusterId}`, id: objectId(clusterId) };
}
