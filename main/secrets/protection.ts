/**
 * Which protector holds the vault key, and what that is worth: what the GUI shows and the CLI says on
 * stderr. `protected` is false where anyone who can read the state directory can read the key too.
 */
export type ProtectionKind = 'os-keyring' | 'electron-safe-storage' | 'key-file';

export interface ProtectionInfo {
  kind: ProtectionKind;
  protected: boolean;
  /** One sentence for the admin: where the key is and what guards it. */
  description: string;
}

/**
 * Holds the one vault key of a state directory. `kid` (the vault's id) names the key in the holder, so two
 * state directories of one user never share or overwrite each other's key.
 */
export interface VaultKeyProtector {
  readonly kind: ProtectionKind;
  readonly protection: ProtectionInfo;
  /**
   * Stores a new key. false when this protector cannot hold a key on this machine (no keyring daemon, a locked
   * keyring, Chromium's basic_text backend): the next protector of the chain is tried. Never called for a vault that exists.
   */
  store(kid: string, key: Buffer): Promise<boolean>;
  /** The key of an existing vault; a SecretStoreException when it cannot be reached, never a new key. */
  load(kid: string): Promise<Buffer>;
  /** Removes a key `store` wrote for a vault that lost the race to another process (its manifest came first). */
  discard(kid: string): Promise<void>;
}

/** AES-256-GCM */
export const VAULT_KEY_BYTES = 32;
