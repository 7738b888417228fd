import { describe, expect, it } from 'vitest';
import { base64ToBytes, bytesToBase64, encryptionContext, plaintextAsText, textToBase64 } from './crypto-tool';

describe('the encrypt/decrypt tool conversions', () => {
  it('turns text and bytes into base64 (as Node prints it), and back', () => {
    expect(textToBase64('Hello, KMS — ü')).toBe('SGVsbG8sIEtNUyDigJQgw7w=');
    // A largest ciphertext: more than one chunk of String.fromCharCode.
    const bytes = Uint8Array.from({ length: 6144 }, (_, i) => (i * 31) % 256);
    const base64 = bytesToBase64(bytes);
    expect(base64.length).toBe(8192);
    expect(base64.startsWith('AB8+XXybutn4FzZVdJOy0fAP')).toBe(true);
    expect(base64ToBytes(base64)).toEqual(bytes);
  });

  it('reads pasted base64 with line breaks, and refuses what is not base64', () => {
    expect(base64ToBytes('SGVs\nbG8=\n')).toEqual(new TextEncoder().encode('Hello'));
    for (const bad of ['', 'SGVsbG8', 'not base64!', 'SGVsbG8=x=']) expect(base64ToBytes(bad)).toBeNull();
  });

  it('shows a plaintext as text only when it is text', () => {
    expect(plaintextAsText(new TextEncoder().encode('line one\nline two\ttab'))).toBe('line one\nline two\ttab');
    expect(plaintextAsText(Uint8Array.of(0xff, 0xfe, 0x00))).toBeNull();
    expect(plaintextAsText(Uint8Array.of(0x41, 0x00, 0x42))).toBeNull();
  });

  it('makes an encryption context from the rows, skipping blank rows and refusing doubles and keyless values', () => {
    expect(encryptionContext([])).toEqual({ context: undefined, problem: null });
    expect(encryptionContext([{ key: '', value: '' }])).toEqual({ context: undefined, problem: null });
    expect(encryptionContext([{ key: 'Department', value: 'IT' }, { key: '', value: '' }, { key: 'Project', value: '' }])).toEqual({
      context: { Department: 'IT', Project: '' },
      problem: null,
    });
    expect(encryptionContext([{ key: 'a', value: '1' }, { key: 'a', value: '2' }]).problem).toBe('The key “a” is given twice; each key appears once in an encryption context.');
    expect(encryptionContext([{ key: '', value: 'x' }]).problem).toBe('Row 1 has a value but no key.');
    // `__proto__` is an ordinary key, not the object's prototype.
    expect(Object.keys(encryptionContext([{ key: '__proto__', value: 'x' }]).context ?? {})).toEqual(['__proto__']);
  });
});
