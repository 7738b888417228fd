/**
 * The last line of defence for secrets: everything headed for the audit log or the workbench log
 * passes through here. Fields an operation declares secret are replaced, and so — whatever the
 * operation declared — is any field whose name looks like a secret, at any depth. Over-redacting
 * a harmless field ("Mapping" contains "pin") is the accepted price of never writing a PIN.
 */
export const REDACTED = '[REDACTED]';

const SECRET_KEY_PATTERN = /pin|password|passphrase|secret|privatekey|keymaterial/i;

/**
 * Returns a redacted copy; the input is not changed (the caller may still need the real value).
 * `secretFields` are field names (matched at any depth) or dotted paths from the root ("Hsms.0.Pin").
 */
export function redactSecrets(value: unknown, secretFields: readonly string[] = []): unknown {
  const declared = new Set(secretFields);
  const seen = new WeakSet<object>();

  const walk = (node: unknown, path: string): unknown => {
    if (node === null || typeof node !== 'object') return node;
    if (seen.has(node)) return '[Circular]';
    seen.add(node);
    try {
      if (Array.isArray(node)) return node.map((item, i) => walk(item, join(path, String(i))));
      // Raw bytes could be key material under an innocent name: never copy them out.
      if (ArrayBuffer.isView(node) || node instanceof ArrayBuffer) return REDACTED;
      if (node instanceof Date) return node;
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(node)) {
        const at = join(path, key);
        const secret = declared.has(key) || declared.has(at) || SECRET_KEY_PATTERN.test(key);
        // A secret that was not given stays undefined or null, so the record shows whether one was
        // given (a CheckCluster without a password ran no login test); only a given one is replaced.
        out[key] = !secret ? walk(item, at) : item === undefined || item === null ? item : REDACTED;
      }
      return out;
    } finally {
      // Only cycles are circular; the same object reached twice by different paths is not.
      seen.delete(node);
    }
  };

  return walk(value, '');
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
