import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { keyFileProtector } from '../../main/secrets/key-file-protector';
import { KEYRING_SERVICE, osKeyringProtector } from '../../main/secrets/os-keyring-protector';
import { openSecretVault, type VaultKeyProtector } from '../../main/secrets/secret-vault';
import { secretsDirOf } from '../../main/secrets/secrets-dir';
import { rejection } from '../fixtures/outcomes';
import { expectNoSecretOnDisk, expectNoSecretInText } from '../fixtures/secret-scan';
import { startSecretService, type SecretService } from '../fixtures/secret-service';

/** The OS-keyring protector against a real gnome-keyring daemon on a private D-Bus session. */
const PASSWORD = 'kmsuser-Keyring-7';
const CONTEXT = 'kmsuser-password:cks-00000000000000001';

let keyring: SecretService;
let stateDir: string;
const savedBus = process.env.DBUS_SESSION_BUS_ADDRESS;

/** The vault key as an independent client (libsecret's secret-tool) reads it from the keyring; null when absent. */
async function keyInKeyring(kid: string): Promise<Buffer | null> {
  try {
    const { stdout } = await promisify(execFile)('secret-tool', ['lookup', 'service', KEYRING_SERVICE, 'username', `vault-key/${kid}`], {
      env: { ...process.env, ...keyring.env },
      encoding: 'buffer',
    });
    return stdout;
  } catch {
    return null;
  }
}

async function clearKeyInKeyring(kid: string): Promise<void> {
  await promisify(execFile)('secret-tool', ['clear', 'service', KEYRING_SERVICE, 'username', `vault-key/${kid}`], { env: { ...process.env, ...keyring.env } });
}

// The Secret Service is Linux's keyring (scripts/system-packages.mjs installs it there); macOS and Windows have their own.
describe.runIf(process.platform === 'linux')('the OS keyring protector (gnome-keyring over the Secret Service)', () => {
  beforeAll(async () => {
    keyring = await startSecretService();
    // @napi-rs/keyring reads the bus address from this process's environment at each call.
    process.env.DBUS_SESSION_BUS_ADDRESS = keyring.env.DBUS_SESSION_BUS_ADDRESS;
  });
  afterAll(async () => {
    if (savedBus === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
    else process.env.DBUS_SESSION_BUS_ADDRESS = savedBus;
    await keyring?.stop();
  });
  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'hsmwb-keyring-vault-'));
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('holds the key of a new vault: protected, nothing of the key or the password in the state directory, and a second opener reads the same vault', async () => {
    const told: unknown[] = [];
    const vault = await openSecretVault({ stateDir, onUnprotected: (p) => told.push(p) });
    expect(vault.protection).toMatchObject({ kind: 'os-keyring', protected: true });
    expect(told).toEqual([]);
    const sealed = await vault.seal(PASSWORD, CONTEXT);

    const key = await keyInKeyring(sealed.kid);
    if (key === null) throw new Error('secret-tool found no vault key in the keyring');
    expect(key).toHaveLength(32);
    expect(await readdir(secretsDirOf(stateDir))).toEqual(['vault.json']);
    await expectNoSecretOnDisk(stateDir, [PASSWORD, key]);

    // Another process (the GUI beside a CLI run) opens the same vault from the keyring.
    const again = await openSecretVault({ stateDir });
    expect(await again.open(sealed, CONTEXT)).toBe(PASSWORD);
  });

  it('a vault whose keyring is gone or locked is a clear error, never a new key; it opens again once the keyring is back', async () => {
    const sealed = await (await openSecretVault({ stateDir })).seal(PASSWORD, CONTEXT);
    try {
      await keyring.stopKeyring();
      const started = Date.now();
      const gone = await rejection(openSecretVault({ stateDir }));
      expect(Date.now() - started).toBeLessThan(5000);
      expect(gone.name).toBe('SecretStoreException');
      expect(gone.code).toBe('KEYRING_UNAVAILABLE');
      expect(gone.message).toMatch(/does not switch to another protector for an existing store/);
      expect(gone.message).toMatch(/Unlock the keyring/);
      expectNoSecretInText(gone.message, [PASSWORD]);
      expect(await readdir(secretsDirOf(stateDir))).toEqual(['vault.json']);

      await keyring.startKeyring({ unlock: false });
      const locked = await rejection(openSecretVault({ stateDir }));
      expect(locked.code).toBe('KEYRING_UNAVAILABLE');
      expect(await readdir(secretsDirOf(stateDir))).toEqual(['vault.json']);
    } finally {
      await keyring.stopKeyring();
      await keyring.startKeyring({ unlock: true });
    }
    expect(await (await openSecretVault({ stateDir })).open(sealed, CONTEXT)).toBe(PASSWORD);
  });

  it('a new vault while the keyring is locked falls back to the key file, quickly, and says so', async () => {
    try {
      await keyring.stopKeyring();
      await keyring.startKeyring({ unlock: false });
      const told: string[] = [];
      const started = Date.now();
      const vault = await openSecretVault({ stateDir, onUnprotected: (p) => told.push(p.kind) });
      expect(Date.now() - started).toBeLessThan(5000);
      expect(vault.protection).toMatchObject({ kind: 'key-file', protected: false });
      expect(told).toEqual(['key-file']);
    } finally {
      await keyring.stopKeyring();
      await keyring.startKeyring({ unlock: true });
    }
  });

  it('a keyring that holds its bus name but never answers is given up after the timeout, for a new vault and an existing one', async () => {
    const existingDir = await mkdtemp(join(tmpdir(), 'hsmwb-keyring-hung-'));
    try {
      await openSecretVault({ stateDir: existingDir });
      keyring.pauseKeyring();
      // libdbus's default reply limit is 25 s; the keyring library and the protector's own limit both give up long before.
      const chain = (dir: string): VaultKeyProtector[] => [osKeyringProtector({ timeoutMs: 500 }), keyFileProtector(secretsDirOf(dir))];
      let started = Date.now();
      expect((await openSecretVault({ stateDir, protectors: chain(stateDir) })).protection.kind).toBe('key-file');
      expect(Date.now() - started).toBeLessThan(5000);
      started = Date.now();
      const hung = await rejection(openSecretVault({ stateDir: existingDir, protectors: chain(existingDir) }));
      expect(Date.now() - started).toBeLessThan(5000);
      expect(hung.code).toBe('KEYRING_UNAVAILABLE');
      expect(hung.message).toMatch(/which did not answer \(/);
    } finally {
      keyring.resumeKeyring();
      await rm(existingDir, { recursive: true, force: true });
    }
  });

  it('says the key is missing when its keyring entry was deleted', async () => {
    const sealed = await (await openSecretVault({ stateDir })).seal(PASSWORD, CONTEXT);
    await clearKeyInKeyring(sealed.kid);
    const error = await rejection(openSecretVault({ stateDir }));
    expect(error.code).toBe('VAULT_KEY_MISSING');
    expect(error.message).toContain(`vault-key/${sealed.kid}`);
  });
});
