import { createHash } from 'node:crypto';

/** previousHash of the first record in a log. */
export const GENESIS_HASH = '0'.repeat(64);

/**
 * JSON with object keys sorted recursively (by UTF-16 code unit) and no whitespace, so the same
 * record always hashes the same whatever order its fields were written or parsed in. Written by
 * hand rather than with a JSON.stringify replacer: JS objects put integer-like keys ("2", "10")
 * first in numeric order, which would not be a plain sort. Otherwise it follows JSON.stringify:
 * `undefined` and functions are dropped from objects and become null in arrays, non-finite
 * numbers become null, toJSON (Date) is honoured.
 */
export function canonicalJson(value: unknown): string {
  const out = serialize(value, false);
  return out ?? 'null';
}

function serialize(value: unknown, inArray: boolean): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'bigint':
      throw new TypeError('canonicalJson: BigInt has no JSON form');
    case 'undefined':
    case 'function':
    case 'symbol':
      return inArray ? 'null' : undefined;
    default:
      break;
  }
  if (Array.isArray(value)) return `[${value.map((item) => serialize(item, true) ?? 'null').join(',')}]`;
  const record = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const item = serialize(record[key], false);
    if (item !== undefined) parts.push(`${JSON.stringify(key)}:${item}`);
  }
  return `{${parts.join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The chain hash of an audit record: SHA-256 over the canonical JSON of the record without `hash`. */
export function computeRecordHash(record: { readonly hash?: unknown } & Record<string, unknown>): string {
  const { hash: _ignored, ...rest } = record;
  return sha256Hex(canonicalJson(rest));
}
