import type { z } from 'zod';
import type { EncryptionAlgorithm as EncryptionAlgorithmSchema } from '../../shared/contract/keys';
import { WorkbenchError } from '../../shared/errors';
import type { OperationHandlers } from '../core/dispatcher';
import { findKeyStore } from '../key-stores/key-store-records';
import type { MemberSession } from '../key-stores/member-sessions';
import { effectiveKeyState } from '../keys/key-metadata';
import { resolveKey } from '../keys/key-resolution';
import type { KeysDeps } from '../keys/keys-deps';
import type { CmkRecord } from '../state/records';
import type { WorkbenchState } from '../state/state-schema';
import { additionalData, blobHeader, encodeBlob, invalidCiphertext, parseBlob } from './ciphertext-format';
import { createMemberCrypto } from './member-crypto';

type EncryptionAlgorithm = z.infer<typeof EncryptionAlgorithmSchema>;
type Context = Readonly<Record<string, string>> | undefined;

const DATA_KEY_BYTES = { AES_256: 32, AES_128: 16 } as const;

/** AWS's key-state matrix for Encrypt, Decrypt, ReEncrypt and the data-key operations. */
function assertUsable(s: WorkbenchState, key: CmkRecord): void {
  const store = s.customKeyStores.find((k) => k.CustomKeyStoreId === key.CustomKeyStoreId);
  const state = effectiveKeyState(key, store);
  if (state === 'Enabled') return;
  if (state === 'Disabled') throw new WorkbenchError('DisabledException', `${key.Arn} is disabled.`);
  const why = { PendingDeletion: 'is pending deletion', Unavailable: 'is unavailable', Creating: 'is being created' }[state as string] ?? `is ${state}`;
  throw new WorkbenchError('KMSInvalidStateException', `${key.Arn} ${why}.`);
}

/** A symmetric key in a custom key store has one algorithm, AES-256-GCM. */
function assertAlgorithm(key: CmkRecord, algorithm: EncryptionAlgorithm | undefined): void {
  if (algorithm !== undefined && algorithm !== 'SYMMETRIC_DEFAULT') {
    throw new WorkbenchError('InvalidKeyUsageException', `${algorithm} is not a valid encryption algorithm for ${key.Arn}: a symmetric key in a custom key store supports only SYMMETRIC_DEFAULT.`);
  }
}

/** The key a request's KeyId names must be the one the ciphertext names (AWS's message). */
function assertSameKey(s: WorkbenchState, named: string | undefined, key: CmkRecord, deps: KeysDeps): void {
  if (named !== undefined && resolveKey(s, named, deps.partition).KeyId !== key.KeyId) {
    throw new WorkbenchError('IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
  }
}

/**
 * Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext) and GenerateRandom, inside the HSMs of the key's
 * store (member-crypto.ts) in the blob format of ciphertext-format.ts. Plaintexts and data keys exist only in this
 * process's memory on their way to or from the HSM: never logged, never in an error, redacted from the audit log.
 */
export function cryptoHandlers(deps: KeysDeps): Pick<OperationHandlers, 'Encrypt' | 'Decrypt' | 'ReEncrypt' | 'GenerateDataKey' | 'GenerateDataKeyWithoutPlaintext' | 'GenerateRandom'> {
  const hsm = createMemberCrypto(deps.timeoutMs);

  /** The logged-in members of the key's store (`s`: the state this call read); none means the store stopped being CONNECTED. */
  async function membersOf(key: CmkRecord, s: WorkbenchState): Promise<readonly MemberSession[]> {
    const members = await deps.connections.ensureSessions(key.CustomKeyStoreId, s);
    if (members.length === 0) throw new WorkbenchError('KMSInvalidStateException', `${key.Arn} is unavailable.`);
    return members;
  }

  /**
   * The key a request names, refused unless the key-state matrix lets it encrypt, with the logged-in members of its
   * store. One state read per call (`s` when the call has read it already): this is every crypto call's path.
   */
  async function usableKey(keyId: string, algorithm?: EncryptionAlgorithm, read?: WorkbenchState): Promise<{ key: CmkRecord; members: readonly MemberSession[] }> {
    const s = read ?? (await deps.state.read());
    const key = resolveKey(s, keyId, deps.partition);
    assertAlgorithm(key, algorithm);
    assertUsable(s, key);
    return { key, members: await membersOf(key, s) };
  }

  async function seal(key: CmkRecord, plaintext: Buffer, context: Context, members: readonly MemberSession[]): Promise<string> {
    const header = blobHeader(key);
    const { iv, sealed } = await hsm.encrypt(members, key, plaintext, additionalData(header, context));
    return encodeBlob(header, iv, sealed).toString('base64');
  }

  /** The plaintext of a blob, with the key it names; `named` (an optional KeyId) must be that key. */
  async function open(blobText: string, context: Context, named: string | undefined, algorithm: EncryptionAlgorithm | undefined): Promise<{ key: CmkRecord; plaintext: Buffer; s: WorkbenchState }> {
    const blob = parseBlob(Buffer.from(blobText, 'base64'));
    const s = await deps.state.read();
    // An unknown key is the blob's fault, not a lookup: a forged header learns nothing about which keys exist.
    const key = s.keys.get(blob.keyId);
    if (key === undefined) throw invalidCiphertext();
    assertSameKey(s, named, key, deps);
    assertAlgorithm(key, algorithm);
    assertUsable(s, key);
    const plaintext = await hsm.decrypt(await membersOf(key, s), key, blob.iv, blob.sealed, additionalData(blob.header, context));
    return { key, plaintext, s };
  }

  async function dataKey(request: { KeyId: string; EncryptionContext?: Context; NumberOfBytes?: number | undefined; KeySpec?: keyof typeof DATA_KEY_BYTES | undefined }): Promise<{ key: CmkRecord; plaintext: Buffer; blob: string }> {
    const { key, members } = await usableKey(request.KeyId);
    const plaintext = await hsm.random(members, request.NumberOfBytes ?? DATA_KEY_BYTES[request.KeySpec ?? 'AES_256']);
    return { key, plaintext, blob: await seal(key, plaintext, request.EncryptionContext, members) };
  }

  /** Members of a CONNECTED store: the one named, or the first connected one that logs in. */
  async function randomSource(storeId: string | undefined): Promise<readonly MemberSession[]> {
    const s = await deps.state.read();
    if (storeId !== undefined) {
      const store = findKeyStore(s, storeId);
      const members = store.ConnectionState === 'CONNECTED' ? await deps.connections.ensureSessions(storeId) : [];
      if (members.length === 0) {
        throw new WorkbenchError('CustomKeyStoreInvalidStateException', `Custom key store ${storeId} is ${store.ConnectionState === 'CONNECTED' ? 'not reachable' : store.ConnectionState}: GenerateRandom takes its bytes from one of its HSMs, so it must be CONNECTED.`);
      }
      return members;
    }
    for (const store of s.customKeyStores.filter((k) => k.ConnectionState === 'CONNECTED')) {
      const members = await deps.connections.ensureSessions(store.CustomKeyStoreId);
      if (members.length > 0) return members;
    }
    throw new WorkbenchError('CustomKeyStoreInvalidStateException', 'No custom key store is connected: GenerateRandom takes its bytes from an HSM of a CONNECTED key store. Connect one with "hsm-workbench kms connect-custom-key-store".');
  }

  return {
    async Encrypt(request) {
      const { key, members } = await usableKey(request.KeyId, request.EncryptionAlgorithm);
      return { CiphertextBlob: await seal(key, Buffer.from(request.Plaintext, 'base64'), request.EncryptionContext, members), KeyId: key.Arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    },
    async Decrypt(request) {
      const { key, plaintext } = await open(request.CiphertextBlob, request.EncryptionContext, request.KeyId, request.EncryptionAlgorithm);
      return { KeyId: key.Arn, Plaintext: plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
    },
    async ReEncrypt(request) {
      const source = await open(request.CiphertextBlob, request.SourceEncryptionContext, request.SourceKeyId, request.SourceEncryptionAlgorithm);
      try {
        const { key: destination, members } = await usableKey(request.DestinationKeyId, request.DestinationEncryptionAlgorithm, source.s);
        const blob = await seal(destination, source.plaintext, request.DestinationEncryptionContext, members);
        return { CiphertextBlob: blob, SourceKeyId: source.key.Arn, KeyId: destination.Arn, SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT', DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      } finally {
        // The plaintext never leaves the core: nothing keeps it after the destination key sealed it.
        source.plaintext.fill(0);
      }
    },
    async GenerateDataKey(request) {
      const { key, plaintext, blob } = await dataKey(request);
      return { CiphertextBlob: blob, Plaintext: plaintext.toString('base64'), KeyId: key.Arn };
    },
    async GenerateDataKeyWithoutPlaintext(request) {
      const { key, plaintext, blob } = await dataKey(request);
      plaintext.fill(0);
      return { CiphertextBlob: blob, KeyId: key.Arn };
    },
    async GenerateRandom(request) {
      return { Plaintext: (await hsm.random(await randomSource(request.CustomKeyStoreId), request.NumberOfBytes)).toString('base64') };
    },
  };
}
