/*
 * The encrypt/decrypt tool's conversions, done in the renderer: text or a file's bytes to the base64 the
 * contract carries, encryption-context rows to the map AWS takes, and a decrypted plaintext back to text
 * when it is text. No Buffer here (browser code): TextEncoder/TextDecoder and btoa/atob.
 */

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = '';
  // Chunks keep String.fromCharCode's argument list short: a 4 KiB plaintext or 6 KiB ciphertext is a few calls.
  for (let i = 0; i < bytes.length; i += 0x2000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x2000));
  return btoa(binary);
}

/** Bytes of a base64 text (whitespace and line breaks allowed, as a pasted or saved blob has), or null when it is not base64. */
export function base64ToBytes(text: string): Uint8Array | null {
  const compact = text.replace(/\s+/g, '');
  if (compact === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) return null;
  const binary = atob(compact);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

export function textToBase64(text: string): string {
  return bytesToBase64(new TextEncoder().encode(text));
}

/** The plaintext as text when it is valid UTF-8 without control characters other than tab and line breaks; else null (binary: offer a download). */
export function plaintextAsText(bytes: Uint8Array): string | null {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/.test(text) ? null : text;
}

export interface ContextRow {
  key: string;
  value: string;
}

/** The rows as an EncryptionContext, or why not: a blank row is ignored, a key given twice or a value without a key is refused. */
export function encryptionContext(rows: readonly ContextRow[]): { context: Record<string, string> | undefined; problem: string | null } {
  // A Map, not an object literal: a key named `__proto__` is a key like any other.
  const context = new Map<string, string>();
  for (const [index, row] of rows.entries()) {
    if (row.key === '' && row.value === '') continue;
    if (row.key === '') return { context: undefined, problem: `Row ${index + 1} has a value but no key.` };
    if (context.has(row.key)) return { context: undefined, problem: `The key “${row.key}” is given twice; each key appears once in an encryption context.` };
    context.set(row.key, row.value);
  }
  return { context: context.size === 0 ? undefined : Object.fromEntries(context), problem: null };
}
