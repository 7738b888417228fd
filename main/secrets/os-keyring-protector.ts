import { AsyncEntry } from '@napi-rs/keyring';
import { WorkbenchError } from '../../shared/errors';
import { VAULT_KEY_BYTES, type ProtectionInfo, type VaultKeyProtector } from './protection';

/** The service name of the workbench's keyring entries; the account is `vault-key/<kid>`. */
export const KEYRING_SERVICE = 'hsm-workbench';

/** A Secret Service that has not answered by then is taken as absent or locked (a locked one waits for a prompt nobody sees). */
export const DEFAULT_KEYRING_TIMEOUT_MS = 3000;

const DESCRIPTIONS: Partial<Record<NodeJS.Platform, string>> = {
  darwin: 'the macOS Keychain',
  win32: 'the Windows Credential Manager',
};

/**
 * The vault key in the OS keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows)
 * through @napi-rs/keyring. The GUI and the CLI both reach it as the same user, so they open the same vault.
 * On Linux the entry is pinned to the Secret Service: the kernel keyutils store is per login session and
 * forgets the key at logout, which would orphan every sealed secret.
 */
export function osKeyringProtector(options: { timeoutMs?: number } = {}): VaultKeyProtector {
  const timeoutMs = options.timeoutMs ?? DEFAULT_KEYRING_TIMEOUT_MS;
  const where = DESCRIPTIONS[process.platform] ?? 'the Secret Service keyring (gnome-keyring, KWallet)';
  const protection: ProtectionInfo = {
    kind: 'os-keyring',
    protected: true,
    description: `The secret store's key is in ${where}, entry "${KEYRING_SERVICE}": it is not in the state directory, and the keyring releases it only to your unlocked session.`,
  };

  /** One keyring call, given up after timeoutMs; a missing D-Bus session throws at once (in the constructor). */
  const call = async <T>(kid: string, fn: (entry: AsyncEntry, signal: AbortSignal) => Promise<T>): Promise<T> => {
    const signal = AbortSignal.timeout(timeoutMs);
    const entry = new AsyncEntry(KEYRING_SERVICE, `vault-key/${kid}`, { linux: { store: 'secret-service' } });
    let timer: NodeJS.Timeout | undefined;
    // The abort signal alone may not interrupt a D-Bus call that waits for a prompt: the race makes the limit hold.
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
    });
    try {
      return await Promise.race([fn(entry, signal), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  };

  return {
    kind: 'os-keyring',
    protection,
    store: async (kid, key) => {
      try {
        await call(kid, (entry, signal) => entry.setSecret(key, signal));
        // Read back: a keyring that accepts and forgets (or a prompt answered "deny" later) must not hold a vault.
        const back = await call(kid, (entry, signal) => entry.getSecret(signal));
        return back !== null && Buffer.from(back).equals(key);
      } catch {
        return false;
      }
    },
    load: async (kid) => {
      let secret: number[] | null;
      try {
        secret = await call(kid, (entry, signal) => entry.getSecret(signal));
      } catch (error) {
        throw new WorkbenchError(
          'SecretStoreException',
          `This state directory's secrets are protected by ${where}, which did not answer (${error instanceof Error ? error.message : 'unknown error'}). ` +
            'The workbench does not switch to another protector for an existing store: the sealed passwords would be lost. ' +
            'Unlock the keyring (log in to the desktop session; on a headless machine run the Secret Service: dbus-run-session and gnome-keyring-daemon --unlock), then try again.',
          { code: 'KEYRING_UNAVAILABLE', details: { protector: 'os-keyring', kid }, cause: error },
        );
      }
      const key = secret === null ? undefined : Buffer.from(secret);
      if (key?.length === VAULT_KEY_BYTES) return key;
      throw new WorkbenchError(
        'SecretStoreException',
        `The keyring entry "${KEYRING_SERVICE}" / vault-key/${kid} that holds this state directory's secret key is ${key === undefined ? 'missing' : 'not a key'}: was it deleted from ${where}? ` +
          'The sealed secrets cannot be opened without it. Restore the keyring from a backup; otherwise move secrets/ aside and set every secret again (for a key store: update-custom-key-store --key-store-password-stdin).',
        { code: 'VAULT_KEY_MISSING', details: { protector: 'os-keyring', kid } },
      );
    },
    discard: async (kid) => {
      await call(kid, (entry, signal) => entry.deleteCredential(signal)).catch(() => undefined);
    },
  };
}
