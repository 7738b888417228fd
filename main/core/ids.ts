import { randomBytes, randomInt } from 'node:crypto';

// AWS CloudHSM ids are a prefix plus 11 characters of base32-like [2-7a-zA-Z].
const ID_ALPHABET = '234567abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

function randomSuffix(length: number): string {
  let out = '';
  for (let i = 0; i < length; i += 1) out += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  return out;
}

export function newClusterId(): string {
  return `cluster-${randomSuffix(11)}`;
}

export function newHsmId(): string {
  return `hsm-${randomSuffix(11)}`;
}

/** AWS KMS custom key store ids are `cks-` and 17 hex digits (cks-1234567890abcdef0). */
export function newCustomKeyStoreId(): string {
  return `cks-${randomBytes(9).toString('hex').slice(0, 17)}`;
}
