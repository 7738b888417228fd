import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Result } from '../../shared/errors';
import type { CmkRecord } from '../../main/state/records';
import { createCmkStore, waitForState, type CmkStore } from '../fixtures/cmk-store';
import { ok } from '../fixtures/outcomes';
import { expectNoSecretOnDisk, expectNoSecretInText } from '../fixtures/secret-scan';

/** Crypto operations on a real two-token SoftHSM store, with AWS's answers for every refusal. */
let store: CmkStore;
let key: CmkRecord;
let other: CmkRecord;
const b64 = (bytes: Buffer | string): string => Buffer.from(bytes).toString('base64');
const CONTEXT = { purpose: 'test', tenant: 'ümlaut-7' };

/** The refusal's name and message; a success fails the test. */
function refused(result: Result<unknown>): { name: string; message: string } {
  if (result.ok) throw new Error('expected a refusal, got success');
  return { name: result.error.name, message: result.error.message };
}

/** Encrypts under `key` with CONTEXT unless `options` names another key or context (`context: undefined` for none). */
async function encrypt(plaintext: Buffer, options: { context?: Record<string, string> | undefined; keyId?: string } = {}): Promise<string> {
  const EncryptionContext = 'context' in options ? options.context : CONTEXT;
  return ok(await store.wb.call('Encrypt', { KeyId: options.keyId ?? key.KeyId, Plaintext: b64(plaintext), EncryptionContext })).CiphertextBlob;
}

async function setKeyState(k: CmkRecord, KeyState: CmkRecord['KeyState']): Promise<void> {
  await store.wb.editState((s) => {
    const record = s.keys.get(k.KeyId);
    if (record === undefined) throw new Error('no such key');
    s.keys.put({ ...record, KeyState });
  });
}

beforeAll(async () => {
  store = await createCmkStore({ keys: 2 });
  [key, other] = store.keys as [CmkRecord, CmkRecord];
}, 120_000);

afterAll(async () => {
  await store?.dispose();
});

describe('round trips', () => {
  it('Encrypt → Decrypt by key id and by ARN; the blob names the key and is the documented size', async () => {
    const plaintext = Buffer.from('marker-plaintext-7f3a');
    for (const keyId of [key.KeyId, key.Arn]) {
      const encrypted = ok(await store.wb.call('Encrypt', { KeyId: keyId, Plaintext: b64(plaintext), EncryptionContext: CONTEXT }));
      expect(encrypted).toMatchObject({ KeyId: key.Arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
      const blob = Buffer.from(encrypted.CiphertextBlob, 'base64');
      expect(blob.length).toBe(2 + 16 + 12 + plaintext.length + 16);
      expect(blob.subarray(2, 18).toString('hex')).toBe(key.KeyId.replace(/-/g, ''));
      // The context's order does not matter: it is serialised sorted.
      const decrypted = ok(await store.wb.call('Decrypt', { CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: { tenant: CONTEXT.tenant, purpose: CONTEXT.purpose } }));
      expect(decrypted).toEqual({ KeyId: key.Arn, Plaintext: b64(plaintext), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    }
  });

  it('two encryptions of one plaintext differ (a fresh IV each time)', async () => {
    const plaintext = Buffer.from('same plaintext');
    const blobs = await Promise.all(Array.from({ length: 20 }, () => encrypt(plaintext)));
    const ivs = blobs.map((blob) => Buffer.from(blob, 'base64').subarray(18, 30).toString('hex'));
    expect(new Set(ivs).size).toBe(20);
  });

  it('ReEncrypt moves a ciphertext to another key and context; only the new key and context open it', async () => {
    const plaintext = randomBytes(100);
    const blob = await encrypt(plaintext);
    const moved = ok(await store.wb.call('ReEncrypt', { CiphertextBlob: blob, SourceEncryptionContext: CONTEXT, DestinationKeyId: other.Arn, DestinationEncryptionContext: { moved: 'yes' } }));
    expect(moved).toMatchObject({ SourceKeyId: key.Arn, KeyId: other.Arn, SourceEncryptionAlgorithm: 'SYMMETRIC_DEFAULT', DestinationEncryptionAlgorithm: 'SYMMETRIC_DEFAULT' });
    expect(ok(await store.wb.call('Decrypt', { CiphertextBlob: moved.CiphertextBlob, EncryptionContext: { moved: 'yes' } }))).toMatchObject({ KeyId: other.Arn, Plaintext: b64(plaintext) });
    expect(refused(await store.wb.call('Decrypt', { CiphertextBlob: moved.CiphertextBlob, EncryptionContext: CONTEXT })).name).toBe('InvalidCiphertextException');
    // A SourceKeyId that is not the blob's key is refused before anything is decrypted.
    expect(refused(await store.wb.call('ReEncrypt', { CiphertextBlob: blob, SourceEncryptionContext: CONTEXT, SourceKeyId: other.KeyId, DestinationKeyId: other.KeyId })).name).toBe('IncorrectKeyException');
  });

  it('GenerateDataKey: a real AES-256 key (Node opens what it sealed with it) whose blob decrypts to it', async () => {
    const dataKey = ok(await store.wb.call('GenerateDataKey', { KeyId: key.KeyId, KeySpec: 'AES_256', EncryptionContext: CONTEXT }));
    expect(dataKey.KeyId).toBe(key.Arn);
    const plaintextKey = Buffer.from(dataKey.Plaintext, 'base64');
    expect(plaintextKey.length).toBe(32);
    expect(ok(await store.wb.call('Decrypt', { CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: CONTEXT })).Plaintext).toBe(dataKey.Plaintext);

    // Envelope encryption as an application does it: the data key seals with Node's AES-256-GCM...
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', plaintextKey, iv);
    const sealed = Buffer.concat([cipher.update('envelope payload'), cipher.final()]);
    const tag = cipher.getAuthTag();
    // ...and the key recovered from its blob by Decrypt opens it again.
    const recovered = Buffer.from(ok(await store.wb.call('Decrypt', { CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: CONTEXT })).Plaintext, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', recovered, iv);
    decipher.setAuthTag(tag);
    expect(Buffer.concat([decipher.update(sealed), decipher.final()]).toString()).toBe('envelope payload');
  });

  it('GenerateDataKey sizes: AES_128 is 16 bytes, NumberOfBytes 1 and 1024 exactly that; the keys differ', async () => {
    const sizes: Array<[{ KeySpec: 'AES_128' } | { NumberOfBytes: number }, number]> = [[{ KeySpec: 'AES_128' }, 16], [{ NumberOfBytes: 1 }, 1], [{ NumberOfBytes: 1024 }, 1024]];
    for (const [size, bytes] of sizes) {
      const dataKey = ok(await store.wb.call('GenerateDataKey', { KeyId: key.KeyId, ...size }));
      expect(Buffer.from(dataKey.Plaintext, 'base64').length).toBe(bytes);
      expect(ok(await store.wb.call('Decrypt', { CiphertextBlob: dataKey.CiphertextBlob })).Plaintext).toBe(dataKey.Plaintext);
    }
    const [a, b] = await Promise.all([1, 2].map(async () => ok(await store.wb.call('GenerateDataKey', { KeyId: key.KeyId, KeySpec: 'AES_256' })).Plaintext));
    expect(a).not.toBe(b);
    expect(refused(await store.wb.call('GenerateDataKey', { KeyId: key.KeyId, KeySpec: 'AES_256', NumberOfBytes: 32 })).name).toBe('ValidationException');
    expect(refused(await store.wb.call('GenerateDataKey', { KeyId: key.KeyId, NumberOfBytes: 1025 })).name).toBe('ValidationException');
  });

  it('GenerateDataKeyWithoutPlaintext returns only the blob, which decrypts to a key of the asked size', async () => {
    const result = ok(await store.wb.call('GenerateDataKeyWithoutPlaintext', { KeyId: key.Arn, KeySpec: 'AES_256', EncryptionContext: CONTEXT }));
    expect(Object.keys(result).sort()).toEqual(['CiphertextBlob', 'KeyId']);
    expect(Buffer.from(ok(await store.wb.call('Decrypt', { CiphertextBlob: result.CiphertextBlob, EncryptionContext: CONTEXT })).Plaintext, 'base64').length).toBe(32);
  });

  it('GenerateRandom from the named store and from any connected one; an unknown store is CustomKeyStoreNotFoundException', async () => {
    const named = Buffer.from(ok(await store.wb.call('GenerateRandom', { NumberOfBytes: 1024, CustomKeyStoreId: store.storeId })).Plaintext, 'base64');
    const any = Buffer.from(ok(await store.wb.call('GenerateRandom', { NumberOfBytes: 7 })).Plaintext, 'base64');
    expect([named.length, any.length]).toEqual([1024, 7]);
    expect(named.equals(Buffer.alloc(1024))).toBe(false);
    expect(refused(await store.wb.call('GenerateRandom', { NumberOfBytes: 16, CustomKeyStoreId: 'cks-0123456789abcdef0' })).name).toBe('CustomKeyStoreNotFoundException');
  });
});

describe('refusals', () => {
  it('a flipped bit at every byte position of a blob (header, IV, body, tag) is InvalidCiphertextException', async () => {
    const blob = Buffer.from(await encrypt(Buffer.from('sixteen bytes!!!')), 'base64');
    const names = new Set<string>();
    for (let at = 0; at < blob.length; at += 1) {
      const flipped = Buffer.from(blob);
      flipped[at] = (flipped[at] ?? 0) ^ (1 << at % 8);
      const { name, message } = refused(await store.wb.call('Decrypt', { CiphertextBlob: b64(flipped), EncryptionContext: CONTEXT }));
      names.add(name);
      expect(message, `byte ${at}`).not.toContain('sixteen');
    }
    expect([...names]).toEqual(['InvalidCiphertextException']);
    // Cut short (no room for a tag) or grown by a byte: the same.
    for (const changed of [blob.subarray(0, 30 + 16), Buffer.concat([blob, Buffer.from([0])])]) {
      expect(refused(await store.wb.call('Decrypt', { CiphertextBlob: b64(changed), EncryptionContext: CONTEXT })).name).toBe('InvalidCiphertextException');
    }
  });

  it('a header naming a key that does not exist is InvalidCiphertextException, not NotFoundException', async () => {
    const blob = Buffer.from(await encrypt(Buffer.from('x')), 'base64');
    randomBytes(16).copy(blob, 2);
    expect(refused(await store.wb.call('Decrypt', { CiphertextBlob: b64(blob), EncryptionContext: CONTEXT })).name).toBe('InvalidCiphertextException');
  });

  it('a wrong, missing or extra context is InvalidCiphertextException; length prefixes keep {a:bc} and {ab:c} apart', async () => {
    const blob = await encrypt(Buffer.from('context-bound'));
    const contexts: Array<Record<string, string> | undefined> = [undefined, {}, { ...CONTEXT, purpose: 'Test' }, { purpose: CONTEXT.purpose }, { ...CONTEXT, extra: '' }, { ...CONTEXT, purpose: `${CONTEXT.purpose}\u0000` }];
    for (const EncryptionContext of contexts) {
      expect(refused(await store.wb.call('Decrypt', { CiphertextBlob: blob, EncryptionContext })).name, JSON.stringify(EncryptionContext)).toBe('InvalidCiphertextException');
    }
    const ambiguous = await encrypt(Buffer.from('x'), { context: { a: 'bc' } });
    expect(refused(await store.wb.call('Decrypt', { CiphertextBlob: ambiguous, EncryptionContext: { ab: 'c' } })).name).toBe('InvalidCiphertextException');
    // No context at encryption: absent and empty are the same context, as in AWS.
    const none = await encrypt(Buffer.from('y'), { context: undefined });
    expect(ok(await store.wb.call('Decrypt', { CiphertextBlob: none, EncryptionContext: {} })).Plaintext).toBe(b64('y'));
  });

  it('Decrypt with a KeyId that is not the blob key is IncorrectKeyException; the right one by ARN is fine', async () => {
    const blob = await encrypt(Buffer.from('which key'));
    expect(refused(await store.wb.call('Decrypt', { CiphertextBlob: blob, EncryptionContext: CONTEXT, KeyId: other.KeyId }))).toEqual({
      name: 'IncorrectKeyException',
      message: 'The key ID in the request does not identify a CMK that can perform this operation.',
    });
    expect(ok(await store.wb.call('Decrypt', { CiphertextBlob: blob, EncryptionContext: CONTEXT, KeyId: key.Arn })).Plaintext).toBe(b64('which key'));
    expect(refused(await store.wb.call('Decrypt', { CiphertextBlob: blob, EncryptionContext: CONTEXT, KeyId: '0b8a2c7e-1f4d-4e6a-9c3b-5d7e8f9a0b1c' })).name).toBe('NotFoundException');
  });

  it('4096 plaintext bytes are fine, 4097 and 0 are ValidationException; another algorithm is InvalidKeyUsageException', async () => {
    const largest = randomBytes(4096);
    expect(ok(await store.wb.call('Decrypt', { CiphertextBlob: await encrypt(largest), EncryptionContext: CONTEXT })).Plaintext).toBe(b64(largest));
    for (const plaintext of [randomBytes(4097), Buffer.alloc(0)]) {
      expect(refused(await store.wb.call('Encrypt', { KeyId: key.KeyId, Plaintext: b64(plaintext) })).name).toBe('ValidationException');
    }
    expect(refused(await store.wb.call('Encrypt', { KeyId: key.KeyId, Plaintext: b64('x'), EncryptionAlgorithm: 'RSAES_OAEP_SHA_256' })).name).toBe('InvalidKeyUsageException');
    expect(refused(await store.wb.call('Encrypt', { KeyId: '0b8a2c7e-1f4d-4e6a-9c3b-5d7e8f9a0b1c', Plaintext: b64('x') })).name).toBe('NotFoundException');
  });

  it('an encryption context of up to 8192 bytes of keys and values is bound; a larger one is ValidationException', async () => {
    const largest = { k: 'v'.repeat(8189), ü: '' };
    const blob = await encrypt(Buffer.from('big context'), { context: largest });
    expect(ok(await store.wb.call('Decrypt', { CiphertextBlob: blob, EncryptionContext: largest })).Plaintext).toBe(b64('big context'));
    const tooLarge = { ...largest, x: '' };
    expect(refused(await store.wb.call('Encrypt', { KeyId: key.KeyId, Plaintext: b64('x'), EncryptionContext: tooLarge })).message).toContain('EncryptionContext is at most 8192 bytes');
    expect(refused(await store.wb.call('Decrypt', { CiphertextBlob: blob, EncryptionContext: tooLarge })).name).toBe('ValidationException');
  });

  it('Disabled, PendingDeletion and Creating keys are refused with AWS exceptions for every operation', async () => {
    const blob = await encrypt(Buffer.from('state matrix'));
    const expected: Array<[CmkRecord['KeyState'], string, string]> = [
      ['Disabled', 'DisabledException', `${key.Arn} is disabled.`],
      ['PendingDeletion', 'KMSInvalidStateException', `${key.Arn} is pending deletion.`],
      ['Creating', 'KMSInvalidStateException', `${key.Arn} is being created.`],
    ];
    try {
      for (const [state, name, message] of expected) {
        await setKeyState(key, state);
        const calls = [
          store.wb.call('Encrypt', { KeyId: key.KeyId, Plaintext: b64('x') }),
          store.wb.call('Decrypt', { CiphertextBlob: blob, EncryptionContext: CONTEXT }),
          store.wb.call('ReEncrypt', { CiphertextBlob: blob, SourceEncryptionContext: CONTEXT, DestinationKeyId: other.KeyId }),
          store.wb.call('ReEncrypt', { CiphertextBlob: await encrypt(Buffer.from('to it'), { context: undefined, keyId: other.KeyId }), DestinationKeyId: key.KeyId }),
          store.wb.call('GenerateDataKey', { KeyId: key.KeyId, KeySpec: 'AES_256' }),
          store.wb.call('GenerateDataKeyWithoutPlaintext', { KeyId: key.KeyId, NumberOfBytes: 8 }),
        ];
        for (const result of await Promise.all(calls)) expect(refused(result)).toEqual({ name, message });
      }
    } finally {
      await setKeyState(key, 'Enabled');
    }
    expect(ok(await store.wb.call('Decrypt', { CiphertextBlob: blob, EncryptionContext: CONTEXT })).Plaintext).toBe(b64('state matrix'));
  });
});

describe('nothing sensitive leaks', () => {
  it('no plaintext or data key is in the state directory, the audit log or the logs after every operation', async () => {
    const marker = Buffer.from(`leak-marker-${randomBytes(8).toString('hex')}`);
    const blob = await encrypt(marker);
    const decrypted = ok(await store.wb.call('Decrypt', { CiphertextBlob: blob, EncryptionContext: CONTEXT }));
    ok(await store.wb.call('ReEncrypt', { CiphertextBlob: blob, SourceEncryptionContext: CONTEXT, DestinationKeyId: other.KeyId }));
    const dataKey = ok(await store.wb.call('GenerateDataKey', { KeyId: key.KeyId, KeySpec: 'AES_256' }));
    const random = ok(await store.wb.call('GenerateRandom', { NumberOfBytes: 32 }));
    // Refusals carry no plaintext either: a bad context, a disabled key.
    const badContext = refused(await store.wb.call('Decrypt', { CiphertextBlob: blob, EncryptionContext: { purpose: 'wrong' } }));
    expect(Buffer.from(decrypted.Plaintext, 'base64').equals(marker)).toBe(true);
    const secrets = [marker, Buffer.from(dataKey.Plaintext, 'base64'), Buffer.from(random.Plaintext, 'base64')];
    expectNoSecretInText(badContext.message, secrets, 'the refusal');
    await expectNoSecretOnDisk(store.wb.stateDir, secrets);
    // Read-only calls are audited only when refused: the refusal is there, without the plaintext.
    expect((await store.wb.auditRecords()).some((r) => r.eventName === 'Decrypt' && r.errorCode !== undefined)).toBe(true);
  });
});

describe('a store that is not connected', () => {
  it('its keys are unavailable (KMSInvalidStateException) and GenerateRandom is CustomKeyStoreInvalidStateException', async () => {
    const blob = await encrypt(Buffer.from('before the disconnect'));
    ok(await store.wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: store.storeId }));
    await waitForState(store.wb, store.storeId, 'DISCONNECTED');
    const unavailable = { name: 'KMSInvalidStateException', message: `${key.Arn} is unavailable.` };
    expect(refused(await store.wb.call('Encrypt', { KeyId: key.KeyId, Plaintext: b64('x') }))).toEqual(unavailable);
    expect(refused(await store.wb.call('Decrypt', { CiphertextBlob: blob, EncryptionContext: CONTEXT }))).toEqual(unavailable);
    expect(refused(await store.wb.call('GenerateDataKey', { KeyId: key.KeyId, KeySpec: 'AES_256' }))).toEqual(unavailable);
    expect(refused(await store.wb.call('GenerateRandom', { NumberOfBytes: 8, CustomKeyStoreId: store.storeId })).name).toBe('CustomKeyStoreInvalidStateException');
    expect(refused(await store.wb.call('GenerateRandom', { NumberOfBytes: 8 }))).toMatchObject({ name: 'CustomKeyStoreInvalidStateException', message: expect.stringContaining('No custom key store is connected') });
  });
});
