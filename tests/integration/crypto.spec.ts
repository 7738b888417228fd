import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCmkStore, type CmkStore } from '../fixtures/cmk-store';
import { ok } from '../fixtures/outcomes';

/** Crypto operations on a real two-token SoftHSM store: the first round trips (more to come, see the crypto report). */
let store: CmkStore;

beforeAll(async () => {
  store = await createCmkStore({ keys: 2 });
}, 120_000);

afterAll(async () => {
  await store?.dispose();
});

it('encrypts and decrypts inside the HSMs, and a flipped bit or another context is InvalidCiphertextException', async () => {
  const [key] = store.keys;
  const Plaintext = Buffer.from('marker-plaintext-7f3a').toString('base64');
  const encrypted = ok(await store.wb.call('Encrypt', { KeyId: key?.KeyId ?? '', Plaintext, EncryptionContext: { purpose: 'test' } }));
  expect(encrypted.KeyId).toBe(key?.Arn);
  const decrypted = ok(await store.wb.call('Decrypt', { CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: { purpose: 'test' } }));
  expect(decrypted.Plaintext).toBe(Plaintext);
  const blob = Buffer.from(encrypted.CiphertextBlob, 'base64');
  blob[40] = (blob[40] ?? 0) ^ 1;
  const flipped = await store.wb.call('Decrypt', { CiphertextBlob: blob.toString('base64'), EncryptionContext: { purpose: 'test' } });
  expect(flipped.ok ? '' : flipped.error.name).toBe('InvalidCiphertextException');
  const other = await store.wb.call('Decrypt', { CiphertextBlob: encrypted.CiphertextBlob });
  expect(other.ok ? '' : other.error.name).toBe('InvalidCiphertextException');
}, 60_000);
