import 'reflect-metadata';
import { webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
import type { HsmHost } from '../hsm/hsm-host';

/** The cluster signing key's algorithm, as WebCrypto names it and as the HSM runs it (hash inside the token). */
export const CLUSTER_SIGNING_ALGORITHM = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
const CLUSTER_SIGNING_MECHANISM = 'CKM_SHA256_RSA_PKCS';

/** An RSA public key as PKCS#11 holds it (CKA_MODULUS, CKA_PUBLIC_EXPONENT), hex. */
export interface RsaPublicKeyHex {
  modulus: string;
  publicExponent: string;
}

function base64url(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64url');
}

/** The token's public key as a WebCrypto key (through JWK: the DER of its SubjectPublicKeyInfo is WebCrypto's to write). */
export function importRsaPublicKey(key: RsaPublicKeyHex, usages: readonly webcrypto.KeyUsage[] = ['verify']): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('jwk', { kty: 'RSA', n: base64url(key.modulus), e: base64url(key.publicExponent), ext: true }, { ...CLUSTER_SIGNING_ALGORITHM }, true, [...usages]);
}

/** A WebCrypto key's RSA public numbers as hex, to compare with what the token holds. */
export async function rsaPublicKeyHex(key: CryptoKey): Promise<RsaPublicKeyHex> {
  const jwk = await webcrypto.subtle.exportKey('jwk', key);
  if (jwk.kty !== 'RSA' || jwk.n === undefined || jwk.e === undefined) throw new Error(`not an RSA public key (kty ${jwk.kty ?? 'none'})`);
  return { modulus: Buffer.from(jwk.n, 'base64url').toString('hex'), publicExponent: Buffer.from(jwk.e, 'base64url').toString('hex') };
}

export interface HsmSigner {
  /** For @peculiar/x509's generators: everything is Node's WebCrypto except signing with `keys.privateKey`. */
  crypto: webcrypto.Crypto;
  keys: webcrypto.CryptoKeyPair;
}

/**
 * A WebCrypto-style signer whose private key never leaves the HSM: `keys.privateKey` is only a stand-in
 * carrying the algorithm, and `crypto.subtle.sign` with it becomes the host's `sign` verb (C_Sign in the
 * logged-in session `ref`). @peculiar/x509 then builds and encodes the structures; no DER is assembled here.
 */
export async function createHsmSigner(host: HsmHost, ref: string, privateKeyHandle: string, publicKey: RsaPublicKeyHex): Promise<HsmSigner> {
  const publicCryptoKey = await importRsaPublicKey(publicKey);
  const standIn: CryptoKey = { type: 'private', extractable: false, algorithm: publicCryptoKey.algorithm, usages: ['sign'] };
  const subtle = new Proxy(webcrypto.subtle, {
    get(target, property): unknown {
      if (property === 'sign') {
        return async (algorithm: webcrypto.AlgorithmIdentifier, key: CryptoKey, data: webcrypto.BufferSource): Promise<ArrayBuffer> => {
          if (key !== standIn) return target.sign(algorithm, key, data);
          const bytes = ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data);
          const signature = Buffer.from(await host.sign(ref, { mechanism: CLUSTER_SIGNING_MECHANISM }, privateKeyHandle, bytes.toString('hex')), 'hex');
          return signature.buffer.slice(signature.byteOffset, signature.byteOffset + signature.byteLength);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const crypto: webcrypto.Crypto = {
    subtle,
    getRandomValues: (array) => webcrypto.getRandomValues(array),
    randomUUID: () => webcrypto.randomUUID(),
    CryptoKey: webcrypto.CryptoKey,
  };
  return { crypto, keys: { privateKey: standIn, publicKey: publicCryptoKey } };
}
