import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { createPublicKey, verify, webcrypto } from 'node:crypto';
import { promisify } from 'node:util';
import * as x509 from '@peculiar/x509';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHsmHostPool } from '../../main/hsm/hsm-host-client';
import type { HsmHost, HsmHostPool, Mechanism, ObjectTemplate } from '../../main/hsm/hsm-host';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { rejection } from '../fixtures/outcomes';
import { openDirectSession } from '../fixtures/token-objects';
import { HOST_CHILD_ENTRY } from '../fixtures/workbench';

const USER_PIN = 'kmsuser-pin-31';
const SO_PIN = 'so-officer-pin-77';

const OAEP: Mechanism = { mechanism: 'CKM_RSA_PKCS_OAEP', params: { kind: 'rsa-oaep', hashAlg: 'CKM_SHA_1', mgf: 'CKG_MGF1_SHA1' } };
/** DESIGN.md §2: the check value is AES-GCM of 16 zero bytes under an all-zero 96-bit IV and a fixed AAD. */
const CHECK_VALUE_GCM: Mechanism = { mechanism: 'CKM_AES_GCM', params: { kind: 'aes-gcm', iv: '00'.repeat(12), aad: Buffer.from('hsm-workbench kcv').toString('hex'), tagBits: 128 } };
const ZERO_BLOCK = '00'.repeat(16);

let cluster: SoftHsmCluster;
let pool: HsmHostPool;
let host: HsmHost;
let slotA: string;
let slotB: string;

beforeAll(async () => {
  cluster = await createSoftHsmCluster({ tokens: 2, userPin: USER_PIN, soPin: SO_PIN, labelPrefix: 'keys', inMemory: true });
  pool = createHsmHostPool({ childEntry: HOST_CHILD_ENTRY, defaultTimeoutMs: 30_000 });
  host = pool.get({ ModulePath: cluster.modulePath, ModuleEnvironment: cluster.env });
  [slotA, slotB] = cluster.tokens.map((t) => t.slotId) as [string, string];
});

afterAll(async () => {
  await pool?.disposeAll();
  await cluster?.cleanup();
});

/** Runs `fn` in a read-write session logged in as `user`; logs out and closes after. */
async function asUser<T>(slotId: string, user: 'USER' | 'SO', fn: (session: string) => Promise<T>): Promise<T> {
  const session = await host.openSession(slotId, { readWrite: true });
  try {
    await host.login(session, user, user === 'SO' ? SO_PIN : USER_PIN);
    return await fn(session);
  } finally {
    await host.closeSession(session);
  }
}

const rsaPublic = (label: string, uses: ObjectTemplate): ObjectTemplate => ({ token: true, label, modulusBits: 3072, publicExponent: '010001', ...uses });
const rsaPrivate = (label: string, uses: ObjectTemplate): ObjectTemplate => ({ token: true, label, private: true, sensitive: true, extractable: false, ...uses });

/** Handles are session-scoped (SoftHSM drops them when a token's last session closes): re-resolve by attributes. */
async function findOne(session: string, template: ObjectTemplate): Promise<string> {
  const found = await host.findObjects(session, { template, attributes: ['handle'] });
  expect(found).toHaveLength(1);
  return found[0]?.handle ?? '';
}

async function checkValue(session: string, key: string): Promise<string> {
  return (await host.encrypt(session, CHECK_VALUE_GCM, key, ZERO_BLOCK)).slice(0, 6);
}

describe('HSM host key management on real SoftHSM2 tokens', () => {
  it('moves an AES-256 key from token A to token B wrapped with RSA-OAEP for B’s member key, trusted by A’s SO; check values match', async () => {
    // B's member key pair: RSA-3072, private half sensitive, non-extractable, unwrap only.
    const member = await asUser(slotB, 'USER', async (s) => {
      const pair = await host.generateKeyPair(s, { mechanism: 'CKM_RSA_PKCS_KEY_PAIR_GEN' }, rsaPublic('member-b', { wrap: true, encrypt: false, verify: false }), rsaPrivate('member-b', { unwrap: true, decrypt: false, sign: false }));
      const pub = await host.getAttributes(s, pair.publicKey, ['class', 'keyType', 'modulusBits', 'modulus', 'publicExponent']);
      const priv = await host.getAttributes(s, pair.privateKey, ['class', 'sensitive', 'extractable', 'unwrap', 'sign', 'alwaysSensitive', 'neverExtractable', 'local', 'keyGenMechanism']);
      return { pub, priv };
    });
    expect(member.pub).toMatchObject({ class: 'CKO_PUBLIC_KEY', keyType: 'CKK_RSA', modulusBits: 3072, publicExponent: '010001' });
    expect(member.pub.modulus).toMatch(/^[0-9a-f]{768}$/);
    expect(member.priv).toEqual({ class: 'CKO_PRIVATE_KEY', sensitive: true, extractable: false, unwrap: true, sign: false, alwaysSensitive: true, neverExtractable: true, local: true, keyGenMechanism: 'CKM_RSA_PKCS_KEY_PAIR_GEN' });

    // A's SO imports B's public key as a trusted wrapping key (only an SO may set CKA_TRUSTED).
    await asUser(slotA, 'SO', (s) =>
      host.createObject(s, { class: 'CKO_PUBLIC_KEY', keyType: 'CKK_RSA', token: true, private: false, label: 'trusted-member-b', modulus: member.pub.modulus, publicExponent: '010001', wrap: true, encrypt: false, verify: false, trusted: true }),
    );

    const { wrapped, kcvA, onA } = await asUser(slotA, 'USER', async (s) => {
      const key = await host.generateKey(s, { mechanism: 'CKM_AES_KEY_GEN' }, { class: 'CKO_SECRET_KEY', keyType: 'CKK_AES', valueLen: 32, token: true, private: true, sensitive: true, extractable: true, wrapWithTrusted: true, encrypt: true, decrypt: true, wrap: false, unwrap: false, label: 'cmk-material', id: '0123456789abcdef0123456789abcdef' });
      const attrs = await host.getAttributes(s, key, ['handle', 'class', 'keyType', 'valueLen', 'wrapWithTrusted', 'sensitive', 'extractable', 'label', 'id']);
      const trusted = await findOne(s, { class: 'CKO_PUBLIC_KEY', label: 'trusted-member-b' });
      expect(await host.getAttributes(s, trusted, ['trusted', 'wrap', 'label'])).toEqual({ trusted: true, wrap: true, label: 'trusted-member-b' });
      return { wrapped: await host.wrapKey(s, OAEP, trusted, key), kcvA: await checkValue(s, key), onA: attrs };
    });
    expect(onA).toMatchObject({ class: 'CKO_SECRET_KEY', keyType: 'CKK_AES', valueLen: 32, wrapWithTrusted: true, sensitive: true, extractable: true, label: 'cmk-material', id: '0123456789abcdef0123456789abcdef' });
    expect(wrapped).toMatch(/^[0-9a-f]{768}$/);

    const kcvB = await asUser(slotB, 'USER', async (s) => {
      const memberPrivate = await findOne(s, { class: 'CKO_PRIVATE_KEY', label: 'member-b' });
      const copy = await host.unwrapKey(s, OAEP, memberPrivate, wrapped, { class: 'CKO_SECRET_KEY', keyType: 'CKK_AES', token: true, private: true, sensitive: true, extractable: false, encrypt: true, decrypt: true, label: 'cmk-material', allowedMechanisms: ['CKM_AES_GCM'] });
      // SoftHSM leaves CKA_VALUE_LEN (like CKA_CHECK_VALUE) 0 on an unwrapped copy: the check value is what proves it.
      expect(await host.getAttributes(s, copy, ['allowedMechanisms', 'local', 'extractable', 'sensitive'])).toEqual({ allowedMechanisms: ['CKM_AES_GCM'], local: false, extractable: false, sensitive: true });
      return checkValue(s, copy);
    });
    expect(kcvA).toMatch(/^[0-9a-f]{6}$/);
    expect(kcvB).toBe(kcvA);
  }, 60_000);

  it('refuses to wrap a wrap-with-trusted key for an untrusted public key (the token enforces it)', async () => {
    await asUser(slotA, 'USER', async (s) => {
      const pair = await host.generateKeyPair(s, { mechanism: 'CKM_RSA_PKCS_KEY_PAIR_GEN' }, { token: false, modulusBits: 2048, publicExponent: '010001', wrap: true }, { token: false, private: true, sensitive: true, unwrap: true });
      const key = await host.generateKey(s, { mechanism: 'CKM_AES_KEY_GEN' }, { valueLen: 32, token: false, sensitive: true, extractable: true, wrapWithTrusted: true });
      const error = await rejection(host.wrapKey(s, OAEP, pair.publicKey, key));
      expect(error).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_KEY_NOT_WRAPPABLE' });
      expect(error.message).toMatch(/^C_WrapKey failed with CKR_KEY_NOT_WRAPPABLE/);
    });
  });

  it('signs with SHA256-RSA inside the token, verified by node:crypto', async () => {
    const { signature, modulus, publicExponent } = await asUser(slotA, 'USER', async (s) => {
      const pair = await host.generateKeyPair(s, { mechanism: 'CKM_RSA_PKCS_KEY_PAIR_GEN' }, rsaPublic('signer', { verify: true }), rsaPrivate('signer', { sign: true }));
      const pub = await host.getAttributes(s, pair.publicKey, ['modulus', 'publicExponent']);
      return { signature: await host.sign(s, { mechanism: 'CKM_SHA256_RSA_PKCS' }, pair.privateKey, Buffer.from('to be signed').toString('hex')), modulus: pub.modulus ?? '', publicExponent: pub.publicExponent ?? '' };
    });
    const key = createPublicKey({ key: { kty: 'RSA', n: Buffer.from(modulus, 'hex').toString('base64url'), e: Buffer.from(publicExponent, 'hex').toString('base64url') }, format: 'jwk' });
    expect(signature).toHaveLength(768);
    expect(verify('sha256', Buffer.from('to be signed'), key, Buffer.from(signature, 'hex'))).toBe(true);
    expect(verify('sha256', Buffer.from('to be signed!'), key, Buffer.from(signature, 'hex'))).toBe(false);
  }, 30_000);

  it('stores a certificate as a CKO_CERTIFICATE object that pkcs11-tool lists, its public value read back', async () => {
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
    const keys = await webcrypto.subtle.generateKey(algorithm, false, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '0a1b', name: 'CN=Workbench Test CA', notBefore: new Date(), notAfter: new Date(Date.now() + 86_400_000), signingAlgorithm: algorithm, keys });
    const der = Buffer.from(cert.rawData).toString('hex');
    const subject = Buffer.from(cert.subjectName.toArrayBuffer()).toString('hex');

    const info = await asUser(slotA, 'USER', async (s) => {
      const handle = await host.createObject(s, { class: 'CKO_CERTIFICATE', certificateType: 'CKC_X_509', token: true, private: false, label: 'trust-anchor', id: '0a', subject, issuer: subject, serialNumber: '02020a1b', value: der });
      return host.getAttributes(s, handle, ['class', 'certificateType', 'label', 'subject', 'value', 'trusted']);
    });
    expect(info).toEqual({ class: 'CKO_CERTIFICATE', certificateType: 'CKC_X_509', label: 'trust-anchor', subject, value: der, trusted: false });

    const { stdout } = await promisify(execFile)('pkcs11-tool', ['--module', cluster.modulePath, '--slot', slotA, '-O', '--type', 'cert'], { env: { ...process.env, ...cluster.env } });
    expect(stdout).toMatch(/Certificate Object; type = X\.509 cert/);
    expect(stdout).toMatch(/label:\s+trust-anchor/);
    expect(stdout).toMatch(/subject:\s+DN: CN=Workbench Test CA/);
  });

  it('sets and reads attributes, destroys an object, decrypts what it encrypted', async () => {
    await asUser(slotA, 'USER', async (s) => {
      const key = await host.generateKey(s, { mechanism: 'CKM_AES_KEY_GEN' }, { valueLen: 32, token: true, label: 'before', encrypt: true, decrypt: true });
      await host.setAttributes(s, key, { label: 'after', id: 'beef' });
      expect(await host.getAttributes(s, key, ['label', 'id'])).toEqual({ label: 'after', id: 'beef' });
      const mechanism: Mechanism = { mechanism: 'CKM_AES_GCM', params: { kind: 'aes-gcm', iv: 'a1'.repeat(12), aad: '', tagBits: 128 } };
      const ciphertext = await host.encrypt(s, mechanism, key, Buffer.from('plaintext').toString('hex'));
      expect(ciphertext).toHaveLength((9 + 16) * 2);
      expect(Buffer.from(await host.decrypt(s, mechanism, key, ciphertext), 'hex').toString()).toBe('plaintext');
      await host.destroyObject(s, key);
      expect(await rejection(host.getAttributes(s, key, ['label']))).toMatchObject({ code: 'CKR_OBJECT_HANDLE_INVALID' });
    });
  });

  it('generates random bytes in a session nobody logged in to', async () => {
    const session = await host.openSession(slotB);
    try {
      const [a, b] = [await host.generateRandom(session, 32), await host.generateRandom(session, 32)];
      expect(a).toMatch(/^[0-9a-f]{64}$/);
      expect(b).not.toBe(a);
      expect((await host.getSessionInfo(session)).State).toBe('CKS_RO_PUBLIC_SESSION');
      expect(await rejection(host.generateRandom(session, 0))).toMatchObject({ code: 'CKR_ARGUMENTS_BAD' });
    } finally {
      await host.closeSession(session);
    }
  });

  it('refuses bad arguments by name before any PKCS#11 call, never echoing values', async () => {
    await asUser(slotA, 'USER', async (s) => {
      const bad = await rejection(host.createObject(s, { class: 'CKO_DATA', value: 'not-hex-secret' }));
      expect(bad).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_TEMPLATE_INCONSISTENT' });
      expect(bad.message).toBe('The object template is not valid: value must be hex.');
      const mechanism = await rejection(host.generateKey(s, { mechanism: 'CKM_NOT_A_THING' }, {}));
      expect(mechanism).toMatchObject({ code: 'CKR_MECHANISM_INVALID' });
      expect(await rejection(host.sign(s, { mechanism: 'CKM_SHA256_RSA_PKCS' }, '1', ''))).toMatchObject({ code: 'CKR_ARGUMENTS_BAD' });
      expect(await rejection(host.destroyObject(s, 'x1'))).toMatchObject({ code: 'CKR_OBJECT_HANDLE_INVALID' });
    });
  });
});

describe('CKA_VALUE of key material, private or sensitive objects', () => {
  const SECRET = 'c0ffee'.repeat(5) + '00';

  it('is refused without being requested, even where the token would hand it out; public data still reads', async () => {
    await asUser(slotB, 'USER', async (s) => {
      await host.generateKeyPair(s, { mechanism: 'CKM_RSA_PKCS_KEY_PAIR_GEN' }, { token: true, label: 'v-rsa', modulusBits: 2048, publicExponent: '010001' }, { token: true, label: 'v-rsa', private: true, sensitive: true });
      await host.generateKey(s, { mechanism: 'CKM_AES_KEY_GEN' }, { token: true, label: 'v-sensitive', valueLen: 32, sensitive: true });
      await host.createObject(s, { class: 'CKO_DATA', token: true, private: true, label: 'v-private-data', value: SECRET });
      // Non-sensitive, extractable, not even CKA_PRIVATE: the token gives its CKA_VALUE to anyone who asks (below).
      await host.createObject(s, { class: 'CKO_SECRET_KEY', keyType: 'CKK_AES', token: true, private: false, sensitive: false, extractable: true, label: 'v-open-aes', value: SECRET + '00' });
      await host.createObject(s, { class: 'CKO_DATA', token: true, private: false, label: 'v-public-data', value: 'cafe' });
    });

    // An independent reader proves the token would hand out the open key's value: only the host's refusal keeps it in.
    const direct = openDirectSession(cluster.modulePath, cluster.env, slotB, USER_PIN);
    try {
      direct.lib.C_FindObjectsInit(direct.session, [{ type: pkcs11js.CKA_LABEL, value: 'v-open-aes' }]);
      const [handle] = direct.lib.C_FindObjects(direct.session, 1);
      direct.lib.C_FindObjectsFinal(direct.session);
      expect(handle && direct.lib.C_GetAttributeValue(direct.session, handle, [{ type: pkcs11js.CKA_VALUE }])[0]?.value.toString('hex')).toBe(SECRET + '00');
    } finally {
      direct.close();
    }

    await asUser(slotB, 'USER', async (s) => {
      const cases: Array<[label: string, why: RegExp]> = [
        ['v-rsa', /key material \(CKO_PRIVATE_KEY\)/],
        ['v-sensitive', /key material \(CKO_SECRET_KEY\)/],
        ['v-private-data', /a private object \(CKA_PRIVATE\)/],
        ['v-open-aes', /key material \(CKO_SECRET_KEY\)/],
      ];
      for (const [label, why] of cases) {
        const found = await host.findObjects(s, { template: { label, class: label === 'v-rsa' ? 'CKO_PRIVATE_KEY' : undefined }, attributes: ['handle'] });
        const handle = found[0]?.handle ?? '';
        const error = await rejection(host.getAttributes(s, handle, ['label', 'value']));
        expect(error, label).toMatchObject({ name: 'Pkcs11Exception', code: 'SENSITIVE_ATTRIBUTE_REFUSED', details: { attribute: 'CKA_VALUE' } });
        expect(error.message, label).toMatch(why);
        expect(JSON.stringify(error.toInfo())).not.toContain(SECRET);
        // The same object's other attributes still read.
        expect(await host.getAttributes(s, handle, ['label'])).toEqual({ label });
      }
      const search = await rejection(host.findObjects(s, { template: { label: 'v-private-data' }, attributes: ['label', 'value'] }));
      expect(search).toMatchObject({ code: 'SENSITIVE_ATTRIBUTE_REFUSED' });

      expect(await host.findObjects(s, { template: { label: 'v-public-data' }, attributes: ['class', 'private', 'value'] })).toEqual([{ class: 'CKO_DATA', private: false, value: 'cafe' }]);
    });
  });
});
