import type { SealedSecretRecord } from '../state/records';

/**
 * The secret store as the key stores use it (main/secrets/ implements it): the kmsuser password is sealed
 * before it reaches the state file and opened only to hand it to an HSM. `context` binds a sealed value to
 * its use, so one cannot be swapped for another's.
 */
export interface SecretVault {
  seal(plaintext: string, context: string): Promise<SealedSecretRecord>;
  open(sealed: SealedSecretRecord, context: string): Promise<string>;
}

/** The context a key store's kmsuser passwords (current and pending) are sealed under. */
export function kmsuserPasswordContext(customKeyStoreId: string): string {
  return `kmsuser-password:${customKeyStoreId}`;
}
