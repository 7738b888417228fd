import type { HsmHost, ObjectTemplate } from '../hsm/hsm-host';
import { certificateQuery, certificateTemplate, memberPublicKeyQuery, trustedMemberKeyTemplate, type ClusterCertificateRole } from './cluster-objects';
import type { RsaPublicKeyHex } from './hsm-signer';

/*
 * The token-level steps of cluster trust, each safe to run again: what an interrupted run made is found by
 * CKA_ID and reused, never made twice. Each runs in a session the caller logged in (asMember).
 */

async function handles(host: HsmHost, ref: string, template: ObjectTemplate): Promise<string[]> {
  const found = await host.findObjects(ref, { template, attributes: ['handle'] });
  return found.flatMap((o) => (o.handle === undefined ? [] : [o.handle]));
}

async function readRsaPublicKey(host: HsmHost, ref: string, handle: string): Promise<RsaPublicKeyHex> {
  const { modulus, publicExponent } = await host.getAttributes(ref, handle, ['modulus', 'publicExponent']);
  if (modulus === undefined || publicExponent === undefined) throw new Error(`public key ${handle} has no CKA_MODULUS or CKA_PUBLIC_EXPONENT`);
  return { modulus, publicExponent };
}

/** An RSA public key on the token by its search template, if there is one. */
export async function findRsaPublicKey(host: HsmHost, ref: string, template: ObjectTemplate): Promise<RsaPublicKeyHex | undefined> {
  const [handle] = await handles(host, ref, template);
  return handle === undefined ? undefined : readRsaPublicKey(host, ref, handle);
}

/**
 * The key pair the templates describe: found by CKA_ID and class, or generated (in a kmsuser session: SoftHSM
 * lets only CKU_USER make private objects). A lone half (the other destroyed by hand) is destroyed and the
 * pair made again, so the two halves always belong together.
 */
export async function ensureKeyPair(host: HsmHost, ref: string, templates: { publicKey: ObjectTemplate; privateKey: ObjectTemplate }): Promise<{ privateKey: string; publicKey: RsaPublicKeyHex }> {
  const query = (t: ObjectTemplate): ObjectTemplate => ({ class: t.class, id: t.id, token: true });
  const [privateKeys, publicKeys] = [await handles(host, ref, query(templates.privateKey)), await handles(host, ref, query(templates.publicKey))];
  if (privateKeys.length === 1 && publicKeys.length === 1 && privateKeys[0] !== undefined && publicKeys[0] !== undefined) {
    return { privateKey: privateKeys[0], publicKey: await readRsaPublicKey(host, ref, publicKeys[0]) };
  }
  for (const handle of [...privateKeys, ...publicKeys]) await host.destroyObject(ref, handle);
  const pair = await host.generateKeyPair(ref, { mechanism: 'CKM_RSA_PKCS_KEY_PAIR_GEN' }, templates.publicKey, templates.privateKey);
  return { privateKey: pair.privateKey, publicKey: await readRsaPublicKey(host, ref, pair.publicKey) };
}

/** Destroys every object the query finds; how many there were. */
export async function destroyAll(host: HsmHost, ref: string, template: ObjectTemplate): Promise<number> {
  const found = await handles(host, ref, template);
  for (const handle of found) await host.destroyObject(ref, handle);
  return found.length;
}

/**
 * Has this token (in an SO session: only the SO may set CKA_TRUSTED) hold member `hsmId`'s public key as a
 * trusted wrapping key. A copy of an older key of that member (its key pair made again) is replaced.
 */
export async function trustMemberKey(host: HsmHost, soRef: string, hsmId: string, key: RsaPublicKeyHex): Promise<void> {
  const held = await handles(host, soRef, memberPublicKeyQuery(hsmId));
  for (const handle of held) {
    const existing = await host.getAttributes(soRef, handle, ['modulus', 'publicExponent', 'trusted', 'wrap']);
    if (existing.modulus === key.modulus && existing.publicExponent === key.publicExponent && existing.trusted === true && existing.wrap === true) return;
    await host.destroyObject(soRef, handle);
  }
  await host.createObject(soRef, trustedMemberKeyTemplate(hsmId, key));
}

/** Stores the cluster's two certificates on this token (SO session), replacing earlier ones of the cluster. */
export async function storeCertificates(host: HsmHost, soRef: string, clusterId: string, certificates: Record<ClusterCertificateRole, { value: string; subject: string; issuer: string }>): Promise<void> {
  for (const role of ['cluster certificate', 'trust anchor'] as const) {
    await destroyAll(host, soRef, certificateQuery(clusterId, role));
    await host.createObject(soRef, certificateTemplate(clusterId, role, certificates[role]));
  }
}
