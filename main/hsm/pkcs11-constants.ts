import pkcs11js from 'pkcs11js';

/**
 * Value → name tables built from pkcs11js's exported constants (CKR_, CKM_, CKO_, CKK_ …), so no
 * PKCS#11 code is typed twice. Where the spec gives one value two names (CKM_ECDSA_KEY_PAIR_GEN and
 * CKM_EC_KEY_PAIR_GEN), `preferred` picks the one to show; otherwise the first exported name wins.
 */
export function constantNames(prefix: string, preferred: readonly string[] = []): ReadonlyMap<number, string> {
  const names = new Map<number, string>();
  for (const [name, value] of Object.entries(pkcs11js)) {
    if (!name.startsWith(prefix) || typeof value !== 'number') continue;
    if (!names.has(value) || preferred.includes(name)) names.set(value, name);
  }
  return names;
}

/** Name → value for one prefix, the inverse of {@link constantNames} (every alias resolves). */
export function constantValues(prefix: string): ReadonlyMap<string, number> {
  const values = new Map<string, number>();
  for (const [name, value] of Object.entries(pkcs11js)) {
    if (name.startsWith(prefix) && typeof value === 'number') values.set(name, value);
  }
  return values;
}

/** CKR_VENDOR_DEFINED, CKM_VENDOR_DEFINED, … all share this base. */
export const VENDOR_DEFINED = 0x80000000;

/** A name for a code the table does not know: vendor codes stay recognisable, nothing is dropped. */
export function unknownName(prefix: string, value: number): string {
  const hex = (n: number): string => `0x${n.toString(16).padStart(8, '0')}`;
  return value >= VENDOR_DEFINED ? `${prefix}VENDOR_DEFINED+${hex(value - VENDOR_DEFINED)}` : `${prefix}${hex(value)}`;
}
