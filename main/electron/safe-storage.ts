import { join } from 'node:path';
import { WorkbenchError } from '../../shared/errors';
import type { ProtectionInfo, VaultKeyProtector } from '../secrets/secret-vault';
import { VAULT_KEY_BYTES } from '../secrets/protection';
import { createPrivateFileOnce, readPrivateFile, removePrivateFile } from '../secrets/secrets-dir';

/**
 * Electron's safeStorage as a holder of the vault key, for the GUI only (the CLI has no Electron), and the
 * ProtectionInfo the UI shows for it. Typed by the part of safeStorage it uses, so a spec can hand it a fake.
 */
export interface SafeStorageLike {
  isAsyncEncryptionAvailable(): Promise<boolean>;
  encryptStringAsync(plainText: string): Promise<Buffer>;
  decryptStringAsync(encrypted: Buffer): Promise<{ result: string }>;
  /** Linux only: which password manager Chromium picked. */
  getSelectedStorageBackend?(): string;
}

/**
 * What safeStorage is worth here. Chromium's `basic_text` backend (Linux with no keyring it recognises) encrypts
 * with a fixed key built into Chromium: that is obfuscation, not protection, and the UI must say so.
 */
export function safeStorageProtection(safeStorage: SafeStorageLike, available: boolean): ProtectionInfo {
  const backend = safeStorage.getSelectedStorageBackend?.();
  if (!available || backend === 'basic_text' || backend === 'unknown') {
    return {
      kind: 'electron-safe-storage',
      protected: false,
      description:
        backend === 'basic_text'
          ? "Electron's safeStorage has only Chromium's basic_text backend here (no keyring it knows): its key is built into Chromium, so it protects nothing."
          : "Electron's safeStorage is not available here.",
    };
  }
  const where = backend === undefined ? (process.platform === 'darwin' ? 'the macOS Keychain' : 'Windows DPAPI (your login)') : `the desktop keyring (${backend})`;
  return { kind: 'electron-safe-storage', protected: true, description: `The secret store's key is encrypted by Electron's safeStorage with a key held in ${where}; only the workbench app can open it.` };
}

/**
 * Why safeStorage does not hold the key when it cannot, for the key-file fallback to add to what the UI shows
 * (Chromium's basic_text backend must be named, not passed over in silence); undefined when it can.
 */
export function safeStorageFallbackNote(safeStorage: SafeStorageLike): string | undefined {
  const info = safeStorageProtection(safeStorage, true);
  return info.protected ? undefined : `${info.description} So it is not used either.`;
}

/**
 * The vault key encrypted by safeStorage in <stateDir>/secrets/<kid>.safe-storage. It holds a new vault only where
 * the OS keyring did not answer Node but safeStorage has a real backend (KWallet without a Secret Service): the CLI
 * cannot open such a vault, so it comes after the OS keyring in the GUI's chain. It never holds one on basic_text.
 */
export function safeStorageProtector(safeStorage: SafeStorageLike, secretsDir: string): VaultKeyProtector {
  const pathOf = (kid: string): string => join(secretsDir, `${kid}.safe-storage`);
  const what = 'The safeStorage vault key file';
  let protection = safeStorageProtection(safeStorage, false);
  const usable = async (): Promise<boolean> => {
    protection = safeStorageProtection(safeStorage, await safeStorage.isAsyncEncryptionAvailable().catch(() => false));
    return protection.protected;
  };
  return {
    kind: 'electron-safe-storage',
    get protection(): ProtectionInfo {
      return protection;
    },
    store: async (kid, key) => {
      if (!(await usable())) return false;
      const encrypted = await safeStorage.encryptStringAsync(key.toString('base64'));
      return createPrivateFileOnce(pathOf(kid), `${encrypted.toString('base64')}\n`, what);
    },
    load: async (kid) => {
      const path = pathOf(kid);
      const text = await readPrivateFile(path, what);
      if (text !== null && (await usable())) {
        const key = await safeStorage
          .decryptStringAsync(Buffer.from(text.trim(), 'base64'))
          .then(({ result }) => Buffer.from(result, 'base64'))
          .catch(() => undefined);
        if (key?.length === VAULT_KEY_BYTES) return key;
      }
      throw new WorkbenchError(
        'SecretStoreException',
        `This state directory's secret key is held by Electron's safeStorage (${path}), which ${text === null ? 'file is missing' : 'could not decrypt it (is the desktop keyring unlocked?)'}. ` +
          'The workbench does not switch protectors for an existing store. Unlock the desktop keyring and try again, or restore the file from a backup.',
        { code: text === null ? 'VAULT_KEY_MISSING' : 'KEYRING_UNAVAILABLE', details: { path, protector: 'electron-safe-storage' } },
      );
    },
    discard: (kid) => removePrivateFile(pathOf(kid)),
  };
}
