import { WorkbenchError } from '../../shared/errors';
import type { Mechanism } from '../hsm/hsm-host';
import type { MemberSession } from '../key-stores/member-sessions';
import { backingKeySelector } from '../keys/backing-key';
import type { CmkRecord } from '../state/records';
import { invalidCiphertext, IV_BYTES, TAG_BYTES } from './ciphertext-format';

/** IVs fetched from an HSM at a time: one C_GenerateRandom (at most 4096 bytes) per 256 encryptions. */
const IV_POOL_BYTES = IV_BYTES * 256;
/** SoftHSM drops handles of private objects after a re-login: find the material again. */
const STALE_HANDLE = new Set(['CKR_KEY_HANDLE_INVALID', 'CKR_OBJECT_HANDLE_INVALID']);
/**
 * C_Decrypt refused the tag or the length: the blob or its context is wrong, and another copy of the same key would
 * say the same. SoftHSM (OpenSSL back end) answers a failed GCM tag with CKR_GENERAL_ERROR, seen here.
 */
const BAD_CIPHERTEXT = new Set(['CKR_ENCRYPTED_DATA_INVALID', 'CKR_ENCRYPTED_DATA_LEN_RANGE', 'CKR_GENERAL_ERROR']);

type Key = Pick<CmkRecord, 'KeyId' | 'Arn' | 'CustomKeyStoreId'>;

/**
 * AES-256-GCM with a CMK's material inside the HSMs of its store. Calls spread round-robin over the members whose
 * module offers CKM_AES_GCM (the p11-kit 0.24 client does not forward it, and reading CKA_ALLOWED_MECHANISMS through
 * it is a device error, so the mechanism list decides); a member that fails moves the call to the next one, so the
 * key works while any one member answers. Key handles are cached per held session and found again when stale.
 */
export interface MemberCrypto {
  /** Seals `plaintext` with a fresh IV from the HSM; `aad` is bound as GCM additional data. */
  encrypt(members: readonly MemberSession[], key: Key, plaintext: Buffer, aad: Buffer): Promise<{ iv: Buffer; sealed: Buffer }>;
  /** Opens `sealed` (ciphertext ‖ tag); a tag that fails is InvalidCiphertextException. */
  decrypt(members: readonly MemberSession[], key: Key, iv: Buffer, sealed: Buffer, aad: Buffer): Promise<Buffer>;
  /** `bytes` (1–1024) from the RNG of one member. */
  random(members: readonly MemberSession[], bytes: number): Promise<Buffer>;
}

function gcm(iv: Buffer, aad: Buffer): Mechanism {
  return { mechanism: 'CKM_AES_GCM', params: { kind: 'aes-gcm', iv: iv.toString('hex'), aad: aad.toString('hex'), tagBits: TAG_BYTES * 8 } };
}

const codeOf = (error: unknown): string | undefined => (error instanceof WorkbenchError ? error.code : undefined);

export function createMemberCrypto(timeoutMs: number): MemberCrypto {
  const options = { timeoutMs };
  const gcmCapable = new WeakMap<MemberSession, Promise<boolean>>();
  const handles = new WeakMap<MemberSession, Map<string, string>>();
  const turns = new Map<string, number>();
  const ivs: Buffer[] = [];
  let refill: Promise<void> | undefined;

  function supportsGcm(member: MemberSession): Promise<boolean> {
    let known = gcmCapable.get(member);
    if (known === undefined) {
      known = member.host.getMechanisms(member.slot.SlotId, options).then((list) => list.some((m) => m.Mechanism === 'CKM_AES_GCM' && m.Flags.includes('CKF_ENCRYPT')));
      // A failed question is not an answer: ask again next time.
      known.catch(() => gcmCapable.delete(member));
      gcmCapable.set(member, known);
    }
    return known.catch(() => false);
  }

  /** The members to try, starting with the next in turn for this store. */
  function inTurn<T>(storeId: string, members: readonly T[]): T[] {
    const turn = turns.get(storeId) ?? 0;
    turns.set(storeId, (turn + 1) % Math.max(members.length, 1));
    const start = turn % Math.max(members.length, 1);
    return [...members.slice(start), ...members.slice(0, start)];
  }

  async function keyHandle(member: MemberSession, key: Key): Promise<string> {
    const cached = handles.get(member)?.get(key.KeyId);
    if (cached !== undefined) return cached;
    const found = await member.host.findObjects(member.ref, { template: backingKeySelector(key), attributes: ['handle'] }, options);
    const handle = found.length === 1 ? found[0]?.handle : undefined;
    if (handle === undefined) {
      throw new WorkbenchError('KeyUnavailableException', `${found.length === 0 ? 'no' : String(found.length)} objects of ${key.Arn}'s key material on ${member.hsmId} (expected one)`);
    }
    const perSession = handles.get(member) ?? new Map<string, string>();
    perSession.set(key.KeyId, handle);
    handles.set(member, perSession);
    return handle;
  }

  async function nextIv(member: MemberSession): Promise<Buffer> {
    for (;;) {
      const iv = ivs.pop();
      if (iv !== undefined) return iv;
      refill ??= member.host
        .generateRandom(member.ref, IV_POOL_BYTES, options)
        .then((hex) => {
          const bytes = Buffer.from(hex, 'hex');
          for (let at = 0; at + IV_BYTES <= bytes.length; at += IV_BYTES) ivs.push(bytes.subarray(at, at + IV_BYTES));
        })
        .finally(() => {
          refill = undefined;
        });
      await refill;
    }
  }

  /** Runs `use` with the key's handle on the first member in turn that can; a stale handle is found again once. */
  async function onSomeMember<T>(members: readonly MemberSession[], key: Key, use: (member: MemberSession, handle: string) => Promise<T>): Promise<T> {
    const capabilities = await Promise.all(members.map(supportsGcm));
    const usable = members.filter((_, i) => capabilities[i] === true);
    if (usable.length === 0) {
      throw new WorkbenchError('KeyUnavailableException', `${key.Arn} is unavailable: no active HSM of its custom key store offers CKM_AES_GCM (a p11-kit 0.24 client does not forward it).`);
    }
    const failures: string[] = [];
    for (const member of inTurn(key.CustomKeyStoreId, usable)) {
      try {
        try {
          return await use(member, await keyHandle(member, key));
        } catch (error) {
          if (!STALE_HANDLE.has(codeOf(error) ?? '')) throw error;
          handles.get(member)?.delete(key.KeyId);
          return await use(member, await keyHandle(member, key));
        }
      } catch (error) {
        if (error instanceof WorkbenchError && (error.name === 'InvalidCiphertextException' || error.name === 'OperationCancelledException')) throw error;
        failures.push(`${member.hsmId}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    throw new WorkbenchError('KeyUnavailableException', `${key.Arn} is unavailable: no HSM of its custom key store could use its key material (${failures.join('; ')}).`);
  }

  return {
    encrypt: (members, key, plaintext, aad) =>
      onSomeMember(members, key, async (member, handle) => {
        // A fresh IV for each attempt: one that reached a member that then failed is never used again.
        const iv = await nextIv(member);
        const sealed = await member.host.encrypt(member.ref, gcm(iv, aad), handle, plaintext.toString('hex'), options);
        return { iv, sealed: Buffer.from(sealed, 'hex') };
      }),
    decrypt: (members, key, iv, sealed, aad) =>
      onSomeMember(members, key, async (member, handle) => {
        try {
          return Buffer.from(await member.host.decrypt(member.ref, gcm(iv, aad), handle, sealed.toString('hex'), options), 'hex');
        } catch (error) {
          throw BAD_CIPHERTEXT.has(codeOf(error) ?? '') ? invalidCiphertext() : error;
        }
      }),
    async random(members, bytes) {
      let last: unknown = new WorkbenchError('KeyUnavailableException', 'no HSM of the custom key store is logged in');
      for (const member of inTurn('random', members)) {
        try {
          return Buffer.from(await member.host.generateRandom(member.ref, bytes, options), 'hex');
        } catch (error) {
          last = error;
        }
      }
      throw last;
    },
  };
}
