import { WorkbenchError } from '../../shared/errors';
import type { CmkRecord } from '../state/records';
import { keyIdBytes } from '../keys/backing-key';

/*
 * The ciphertext blob of Encrypt, GenerateDataKey and ReEncrypt, version 1. AWS's own format is undocumented
 * and opaque; this one is documented so a blob can be explained byte by byte:
 *
 *   offset  bytes  field
 *   0       1      magic 0xCB ("custom key store blob")
 *   1       1      format version 0x01
 *   2       16     the CMK's key id (its UUID's 16 bytes, as CKA_ID of its material): names the key
 *   18      12     the 96-bit AES-GCM IV, from the HSM's C_GenerateRandom, never reused
 *   30      n      AES-256-GCM ciphertext, n = plaintext length (1–4096)
 *   30+n    16     the 128-bit GCM tag
 *
 * The additional authenticated data is the 18-byte header (magic, version, key id) followed by the canonical
 * encryption context: the pair count, then each pair sorted by the UTF-8 bytes of its key, key and value each
 * as a 4-byte big-endian length and its UTF-8 bytes. Length prefixes make it unambiguous ({"a":"bc"} and
 * {"ab":"c"} differ), unlike the plain key‖value concatenation of AWS emulators. GCM authenticates the IV
 * itself, so a flipped bit anywhere in the blob, or a context that differs in any way, fails the tag.
 */

export const BLOB_MAGIC = 0xcb;
export const BLOB_VERSION = 0x01;
const HEADER_BYTES = 18;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;
const BODY_OFFSET = HEADER_BYTES + IV_BYTES;

export interface ParsedBlob {
  /** The key id the blob names, as a UUID. */
  keyId: string;
  /** What GCM authenticates besides the IV: the header, ready to be followed by the context. */
  header: Buffer;
  iv: Buffer;
  /** Ciphertext followed by its tag, as C_Decrypt takes it. */
  sealed: Buffer;
}

/** The refusal for a blob that is malformed, names an unknown key, or fails the GCM tag. */
export function invalidCiphertext(): WorkbenchError {
  // One message for every malformed blob: which check failed is no business of whoever forged it.
  return new WorkbenchError('InvalidCiphertextException', 'The ciphertext is invalid: it was not made by this workbench, was changed, or names a key that does not exist.');
}

export function blobHeader(key: Pick<CmkRecord, 'KeyId'>): Buffer {
  return Buffer.concat([Buffer.from([BLOB_MAGIC, BLOB_VERSION]), Buffer.from(keyIdBytes(key.KeyId), 'hex')]);
}

export function encodeBlob(header: Buffer, iv: Buffer, sealed: Buffer): Buffer {
  return Buffer.concat([header, iv, sealed]);
}

/** The blob's parts; anything that is not a version-1 blob is InvalidCiphertextException. */
export function parseBlob(blob: Buffer): ParsedBlob {
  if (blob.length < BODY_OFFSET + 1 + TAG_BYTES || blob[0] !== BLOB_MAGIC || blob[1] !== BLOB_VERSION) throw invalidCiphertext();
  const id = blob.subarray(2, HEADER_BYTES).toString('hex');
  const keyId = `${id.slice(0, 8)}-${id.slice(8, 12)}-${id.slice(12, 16)}-${id.slice(16, 20)}-${id.slice(20)}`;
  return { keyId, header: blob.subarray(0, HEADER_BYTES), iv: blob.subarray(HEADER_BYTES, BODY_OFFSET), sealed: blob.subarray(BODY_OFFSET) };
}

function lengthPrefixed(text: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
}

/** The encryption context as bound into the AAD (see above); absent and empty are the same context, as in AWS. */
export function canonicalContext(context: Readonly<Record<string, string>> | undefined): Buffer {
  const pairs = Object.entries(context ?? {}).sort(([a], [b]) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  const count = Buffer.alloc(4);
  count.writeUInt32BE(pairs.length);
  return Buffer.concat([count, ...pairs.flatMap(([k, v]) => [lengthPrefixed(k), lengthPrefixed(v)])]);
}

export function additionalData(header: Buffer, context: Readonly<Record<string, string>> | undefined): Buffer {
  return Buffer.concat([header, canonicalContext(context)]);
}
