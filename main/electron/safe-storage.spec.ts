import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rejection } from '../../tests/fixtures/outcomes';
import { findSecretsOnDisk } from '../../tests/fixtures/secret-scan';
import { keyFileProtector } from '../secrets/key-file-protector';
import type { VaultKeyProtector } from '../secrets/protection';
import { openSecretVault } from '../secrets/secret-vault';
import { secretsDirOf } from '../secrets/secrets-dir';
import { safeStorageFallbackNote, safeStorageProtection, safeStorageProtector, type SafeStorageLike } from './safe-storage';

/** Electron's safeStorage as the shell sees it: a reversible transform standing in for the OS-held key. */
function fakeSafeStorage(backend: string | undefined, options: { available?: boolean } = {}): SafeStorageLike & { broken: boolean } {
  const mask = (bytes: Buffer): Buffer => Buffer.from(bytes.map((b) => b ^ 0x5a));
  const fake = {
    broken: false,
    isAsyncEncryptionAvailable: async (): Promise<boolean> => options.available ?? true,
    encryptStringAsync: async (text: string): Promise<Buffer> => mask(Buffer.from(`v11${text}`)),
    decryptStringAsync: async (encrypted: Buffer): Promise<{ result: string }> => {
      if (fake.broken) throw new Error('Error while decrypting the ciphertext provided to safeStorage.decryptString.');
      return { result: mask(encrypted).toString().slice(3) };
    },
    ...(backend === undefined ? {} : { getSelectedStorageBackend: (): string => backend }),
  };
  return fake;
}

/** The OS keyring as Node finds it on a machine where only Chromium reaches a keyring (KWallet without a Secret Service). */
const silentKeyring: VaultKeyProtector = {
  kind: 'os-keyring',
  protection: { kind: 'os-keyring', protected: true, description: 'fake' },
  store: async () => false,
  load: async () => {
    throw new Error('not used');
  },
  discard: async () => undefined,
};

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'hsmwb-safe-storage-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

/** As main/electron/electron-main.ts builds it. */
const guiChain = (safeStorage: SafeStorageLike): VaultKeyProtector[] => [
  silentKeyring,
  safeStorageProtector(safeStorage, secretsDirOf(stateDir)),
  keyFileProtector(secretsDirOf(stateDir), { note: safeStorageFallbackNote(safeStorage) }),
];

describe('safeStorageProtection (what the GUI shows)', () => {
  it("does not call Chromium's basic_text backend protected, and says why", () => {
    const info = safeStorageProtection(fakeSafeStorage('basic_text'), true);
    expect(info).toMatchObject({ kind: 'electron-safe-storage', protected: false });
    expect(info.description).toMatch(/basic_text backend .* protects nothing/);
  });

  it.each([
    ['gnome_libsecret', /desktop keyring \(gnome_libsecret\)/],
    ['kwallet5', /desktop keyring \(kwallet5\)/],
  ])('calls %s protected', (backend, where) => {
    const info = safeStorageProtection(fakeSafeStorage(backend), true);
    expect(info.protected).toBe(true);
    expect(info.description).toMatch(where);
  });

  it('is not protected when encryption is unavailable, or before the app is ready (backend unknown)', () => {
    expect(safeStorageProtection(fakeSafeStorage('gnome_libsecret'), false).protected).toBe(false);
    expect(safeStorageProtection(fakeSafeStorage('unknown'), true).protected).toBe(false);
  });
});

describe('safeStorage in the GUI protector chain', () => {
  it('never holds a vault on basic_text: the key file does, and what the UI shows says it is not protected and names basic_text', async () => {
    const vault = await openSecretVault({ stateDir, protectors: guiChain(fakeSafeStorage('basic_text')) });
    expect(vault.protection).toMatchObject({ kind: 'key-file', protected: false });
    expect(vault.protection.description).toMatch(/mode 0600.*Chromium's basic_text backend .* protects nothing\. So it is not used either\./);
  });

  it('holds a new vault where only Chromium reaches a keyring: the key is not on disk in clear, the GUI reopens it, the CLI is told why it cannot', async () => {
    const safeStorage = fakeSafeStorage('kwallet5');
    const vault = await openSecretVault({ stateDir, protectors: guiChain(safeStorage) });
    expect(vault.protection).toMatchObject({ kind: 'electron-safe-storage', protected: true });
    const sealed = await vault.seal('kmsuser-Pa55', 'kmsuser-password:cks-1');
    const keyFile = join(secretsDirOf(stateDir), `${sealed.kid}.safe-storage`);
    const key = Buffer.from((await safeStorage.decryptStringAsync(Buffer.from((await readFile(keyFile, 'utf8')).trim(), 'base64'))).result, 'base64');
    expect(key).toHaveLength(32);
    expect(await findSecretsOnDisk(stateDir, [key, 'kmsuser-Pa55'])).toEqual([]);

    expect(await (await openSecretVault({ stateDir, protectors: guiChain(safeStorage) })).open(sealed, 'kmsuser-password:cks-1')).toBe('kmsuser-Pa55');
    const cli = await rejection(openSecretVault({ stateDir, protectors: [keyFileProtector(secretsDirOf(stateDir))] }));
    expect(cli.code).toBe('PROTECTOR_NOT_HERE');
    expect(cli.message).toMatch(/reachable only from the workbench app: open the GUI/);
  });

  it('a safeStorage that no longer decrypts is an error for its vault, never a new key', async () => {
    const safeStorage = fakeSafeStorage('kwallet5');
    await openSecretVault({ stateDir, protectors: guiChain(safeStorage) });
    const before = (await readdir(secretsDirOf(stateDir))).sort();
    safeStorage.broken = true;
    const error = await rejection(openSecretVault({ stateDir, protectors: guiChain(safeStorage) }));
    expect(error.code).toBe('KEYRING_UNAVAILABLE');
    expect(error.message).toMatch(/does not switch protectors/);
    expect((await readdir(secretsDirOf(stateDir))).sort()).toEqual(before);
  });
});
