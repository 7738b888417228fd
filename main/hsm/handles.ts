/**
 * pkcs11js passes CK_ULONG handles (slots, sessions, objects) as Buffers in the platform's byte order
 * and width (8 bytes little-endian on x86_64 Linux, 4 on Windows). Outside the child they are decimal
 * strings: plain data, comparable, and what pkcs11-tool prints.
 */
export function handleToString(handle: Buffer): string {
  if (handle.length === 8) return handle.readBigUInt64LE().toString();
  if (handle.length === 4) return handle.readUInt32LE().toString();
  throw new Error(`unexpected PKCS#11 handle width ${handle.length}`);
}

/** The Buffer form of a decimal handle, `width` bytes wide (take it from a handle the module gave us). */
export function handleFromString(value: string, width: number): Buffer {
  if (!/^\d{1,20}$/.test(value)) throw new RangeError('a handle is a decimal number');
  const buffer = Buffer.alloc(width);
  if (width === 8) buffer.writeBigUInt64LE(BigInt(value));
  else buffer.writeUInt32LE(Number(value));
  return buffer;
}

/** A CK_ULONG attribute value (CKA_CLASS, CKA_KEY_TYPE, CKA_VALUE_LEN) read in the platform's width. */
export function readUlong(value: Buffer): number {
  if (value.length === 8) return Number(value.readBigUInt64LE());
  if (value.length === 4) return value.readUInt32LE();
  throw new Error(`unexpected CK_ULONG width ${value.length}`);
}

/** CK_ULONGs (CKA_ALLOWED_MECHANISMS' array) as bytes in the module's width and byte order. */
export function ulongBytes(values: readonly number[], width: number): Buffer {
  const buffer = Buffer.alloc(values.length * width);
  values.forEach((value, i) => {
    if (width === 8) buffer.writeBigUInt64LE(BigInt(value), i * width);
    else buffer.writeUInt32LE(value, i * width);
  });
  return buffer;
}

/** The bytes of a hex string argument; throws RangeError naming `what` (never the value) for anything else. */
export function bytesFromHex(value: unknown, what: string): Buffer {
  if (typeof value !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(value)) throw new RangeError(`${what} must be hex`);
  return Buffer.from(value, 'hex');
}
