import { z } from 'zod';
import { CustomKeyStoreId } from './key-stores';
import { EncryptionAlgorithm, KeyIdentifier } from './keys';

/*
 * KMS cryptographic operations, done inside the HSMs with AES-256-GCM (../shared/reference/aws-kms.md §1).
 * Blobs are `z.base64()` (base64 on the wire, `fileb://` on the command line); their limits are in bytes.
 */

/** Bytes a base64 text decodes to, without decoding it. */
function decodedLength(text: string): number {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return (text.length / 4) * 3 - padding;
}

/** A blob member of `min`–`max` bytes, named in its message as AWS names it. */
function blob(field: string, min: number, max: number): z.ZodBase64 {
  return z.base64(`${field} must be base64`).check((ctx) => {
    const bytes = decodedLength(ctx.value);
    if (bytes < min || bytes > max) ctx.issues.push({ code: 'custom', input: ctx.value, message: `${field} is ${min} to ${max} bytes (got ${bytes})` });
  });
}

export const MAX_PLAINTEXT_BYTES = 4096;
export const Plaintext = blob('Plaintext', 1, MAX_PLAINTEXT_BYTES);
export const CiphertextBlob = blob('CiphertextBlob', 1, 6144);
export const MAX_CONTEXT_BYTES = 8192;
/**
 * Bound to the ciphertext as AES-GCM additional data, serialised canonically (main/crypto/). AWS's model sets no
 * limit; this one keeps the AAD and a refusal's audit record bounded: keys and values total at most 8192 UTF-8 bytes.
 */
export const EncryptionContext = z.record(z.string(), z.string()).check((ctx) => {
  // Made when a context is checked, not when the contract loads: the sandboxed preload loads it with nothing but electron.
  const utf8 = new TextEncoder();
  const bytes = Object.entries(ctx.value).reduce((sum, [k, v]) => sum + utf8.encode(k).length + utf8.encode(v).length, 0);
  if (bytes > MAX_CONTEXT_BYTES) ctx.issues.push({ code: 'custom', input: ctx.value, message: `EncryptionContext is at most ${MAX_CONTEXT_BYTES} bytes of keys and values (got ${bytes})` });
});
export const NumberOfBytes = z.number().int().min(1, 'NumberOfBytes is 1 to 1024').max(1024, 'NumberOfBytes is 1 to 1024');
export const DataKeySpec = z.enum(['AES_256', 'AES_128']);
const GrantTokens = z.array(z.string().min(1).max(8192)).max(10).optional();
/** Only SYMMETRIC_DEFAULT (AES-256-GCM) for a symmetric key; another is InvalidKeyUsageException, as AWS answers. */
const Algorithm = EncryptionAlgorithm.optional();

export const EncryptRequest = z.object({ KeyId: KeyIdentifier, Plaintext, EncryptionContext: EncryptionContext.optional(), GrantTokens, EncryptionAlgorithm: Algorithm });
export const EncryptResponse = z.object({ CiphertextBlob: z.base64(), KeyId: z.string(), EncryptionAlgorithm });

export const DecryptRequest = z.object({
  CiphertextBlob,
  EncryptionContext: EncryptionContext.optional(),
  /** Optional: the ciphertext names its key; when given it must be that key (IncorrectKeyException). */
  KeyId: KeyIdentifier.optional(),
  GrantTokens,
  EncryptionAlgorithm: Algorithm,
});
export const DecryptResponse = z.object({ KeyId: z.string(), Plaintext: z.base64(), EncryptionAlgorithm });

export const ReEncryptRequest = z.object({
  CiphertextBlob,
  SourceEncryptionContext: EncryptionContext.optional(),
  SourceKeyId: KeyIdentifier.optional(),
  DestinationKeyId: KeyIdentifier,
  DestinationEncryptionContext: EncryptionContext.optional(),
  SourceEncryptionAlgorithm: Algorithm,
  DestinationEncryptionAlgorithm: Algorithm,
  GrantTokens,
});
export const ReEncryptResponse = z.object({
  CiphertextBlob: z.base64(),
  SourceKeyId: z.string(),
  KeyId: z.string(),
  SourceEncryptionAlgorithm: EncryptionAlgorithm,
  DestinationEncryptionAlgorithm: EncryptionAlgorithm,
});

const dataKeyRequest = z.object({
  KeyId: KeyIdentifier,
  EncryptionContext: EncryptionContext.optional(),
  NumberOfBytes: NumberOfBytes.optional(),
  KeySpec: DataKeySpec.optional(),
  GrantTokens,
});
/** Exactly one of KeySpec and NumberOfBytes, as AWS requires. */
const oneSize = <T extends { NumberOfBytes?: number | undefined; KeySpec?: string | undefined }>(r: T): boolean => (r.NumberOfBytes === undefined) !== (r.KeySpec === undefined);
const ONE_SIZE = { message: 'give exactly one of KeySpec and NumberOfBytes', path: ['KeySpec'] };
export const GenerateDataKeyRequest = dataKeyRequest.refine(oneSize, ONE_SIZE);
export const GenerateDataKeyResponse = z.object({ CiphertextBlob: z.base64(), Plaintext: z.base64(), KeyId: z.string() });
export const GenerateDataKeyWithoutPlaintextRequest = dataKeyRequest.refine(oneSize, ONE_SIZE);
export const GenerateDataKeyWithoutPlaintextResponse = z.object({ CiphertextBlob: z.base64(), KeyId: z.string() });

export const GenerateRandomRequest = z.object({
  NumberOfBytes,
  /** The random bytes come from an HSM of this store (CONNECTED); without it, from an HSM of any connected store. */
  CustomKeyStoreId: CustomKeyStoreId.optional(),
});
export const GenerateRandomResponse = z.object({ Plaintext: z.base64() });
