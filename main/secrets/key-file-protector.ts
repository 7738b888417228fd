import { join } from 'node:path';
import { WorkbenchError } from '../../shared/errors';
import { VAULT_KEY_BYTES, type ProtectionInfo, type VaultKeyProtector } from './protection';
import { createPrivateFileOnce, readPrivateFile, removePrivateFile } from './secrets-dir';

/**
 * The fallback for a machine with no keyring daemon (a CI box): the key in <stateDir>/secrets/<kid>.key, 0600.
 * It keeps the secrets out of the state file, its backups and anything that copies state.json alone, and from
 * other local users; it does not keep them from anyone who can read the whole state directory as this user.
 */
export function keyFileProtector(secretsDir: string, options: { note?: string } = {}): VaultKeyProtector {
  const pathOf = (kid: string): string => join(secretsDir, `${kid}.key`);
  const what = 'The vault key file';
  const protection: ProtectionInfo = {
    kind: 'key-file',
    protected: false,
    description:
      `No OS keyring answered, so the secret store's key is a file readable only by you (${join(secretsDir, '<id>.key')}, mode 0600): ` +
      `secrets are not in the state file, but anyone who can read your state directory as you can open them.${options.note === undefined ? '' : ` ${options.note}`}`,
  };
  return {
    kind: 'key-file',
    protection,
    store: (kid, key) => createPrivateFileOnce(pathOf(kid), `${key.toString('base64')}\n`, what),
    load: async (kid) => {
      const path = pathOf(kid);
      const text = await readPrivateFile(path, what);
      const key = text === null ? undefined : Buffer.from(text.trim(), 'base64');
      if (key?.length === VAULT_KEY_BYTES) return key;
      throw new WorkbenchError(
        'SecretStoreException',
        `${what} ${path} is ${text === null ? 'missing' : `not a ${VAULT_KEY_BYTES}-byte key`}, so the secrets sealed in this state directory cannot be opened. ` +
          'Restore the file from a backup of the state directory; otherwise move secrets/ aside and set every secret again (for a key store: update-custom-key-store --key-store-password-stdin).',
        { code: 'VAULT_KEY_MISSING', details: { path, protector: 'key-file' } },
      );
    },
    discard: (kid) => removePrivateFile(pathOf(kid)),
  };
}
