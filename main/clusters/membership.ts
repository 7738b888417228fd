import { WorkbenchError } from '../../shared/errors';
import type { HsmHost, ObjectTemplate } from '../hsm/hsm-host';
import type { HsmMemberRecord } from '../state/records';
import { certificateQuery, certificateTemplate, memberPublicKeyQuery, trustedMemberKeyTemplate, type ClusterCertificateRole } from './cluster-objects';
import type { RsaPublicKeyHex } from './hsm-signer';
import { describeMember } from './member-tokens';

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

export type KeyPairTemplates = { publicKey: ObjectTemplate; privateKey: ObjectTemplate };

const byId = (t: ObjectTemplate): ObjectTemplate => ({ class: t.class, id: t.id, token: true });

/**
 * The public half of a key pair, refused unless proven to be the private half's: any process may create a public
 * object with any CKA_ID in a public session, and this is the key every other member's SO marks CKA_TRUSTED. So it
 * must be the one public key by that CKA_ID, generated on this token (CKA_LOCAL), with the private half's
 * CKA_MODULUS (read in the caller's kmsuser session, the only one that sees the private half).
 */
async function provenPublicKey(host: HsmHost, ref: string, pair: { privateKey: string; publicKeys: readonly string[]; id: string }, owner: HsmMemberRecord): Promise<RsaPublicKeyHex> {
  const named = await Promise.all(pair.publicKeys.map(async (h) => `handle ${h}, label "${(await host.getAttributes(ref, h, ['label'])).label ?? ''}"`));
  const [publicKey] = pair.publicKeys;
  const half = publicKey === undefined ? {} : await host.getAttributes(ref, publicKey, ['modulus', 'publicExponent', 'local']);
  const { modulus } = await host.getAttributes(ref, pair.privateKey, ['modulus']);
  let why: string | undefined;
  if (pair.publicKeys.length !== 1) why = `${pair.publicKeys.length} public keys have that CKA_ID (${named.join('; ')}), so which is its own cannot be told`;
  else if (half.local !== true) why = `its public key (${named.join('')}) was not generated on the token (CKA_LOCAL is not true)`;
  else if (half.modulus === undefined || half.modulus !== modulus) why = `its public key (${named.join('')}) has another CKA_MODULUS than its private key`;
  if (why === undefined && half.modulus !== undefined && half.publicExponent !== undefined) return { modulus: half.modulus, publicExponent: half.publicExponent };
  throw new WorkbenchError(
    'CloudHsmInvalidRequestException',
    `HSM ${owner.HsmId} (token ${describeMember(owner)}): the key pair with CKA_ID ${pair.id} is not proven the token's own: ${why ?? 'its public key has no CKA_PUBLIC_EXPONENT'}. No key was trusted. Destroy the public keys with that CKA_ID that the workbench did not make (pkcs11-tool --list-objects --type pubkey shows them), then run the command again.`,
    { details: { HsmId: owner.HsmId, CkaId: pair.id, PublicKeyHandles: [...pair.publicKeys] } },
  );
}

/**
 * Both halves of the key pair the templates describe, found by CKA_ID and class in a kmsuser session (the private
 * half is a private object): undefined when a half is missing, refused when the public half is not proven its own.
 */
export async function findKeyPair(host: HsmHost, ref: string, templates: KeyPairTemplates, owner: HsmMemberRecord): Promise<{ privateKey: string; publicKey: RsaPublicKeyHex } | undefined> {
  const [privateKeys, publicKeys] = [await handles(host, ref, byId(templates.privateKey)), await handles(host, ref, byId(templates.publicKey))];
  const [privateKey] = privateKeys;
  if (privateKeys.length !== 1 || privateKey === undefined || publicKeys.length === 0) return undefined;
  return { privateKey, publicKey: await provenPublicKey(host, ref, { privateKey, publicKeys, id: templates.publicKey.id ?? '' }, owner) };
}

/**
 * The key pair the templates describe: found (see findKeyPair), or generated (in a kmsuser session: SoftHSM lets
 * only CKU_USER make private objects). A lone half (the other destroyed by hand) is destroyed and the pair made
 * again, so the two halves always belong together.
 */
export async function ensureKeyPair(host: HsmHost, ref: string, templates: KeyPairTemplates, owner: HsmMemberRecord): Promise<{ privateKey: string; publicKey: RsaPublicKeyHex }> {
  const found = await findKeyPair(host, ref, templates, owner);
  if (found !== undefined) return found;
  for (const handle of [...(await handles(host, ref, byId(templates.privateKey))), ...(await handles(host, ref, byId(templates.publicKey)))]) await host.destroyObject(ref, handle);
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
