import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkbenchError } from '../../shared/errors';
import { rejection } from '../../tests/fixtures/outcomes';
import { keyFileProtector } from './key-file-protector';
import type { ProtectionInfo, VaultKeyProtector } from './protection';
import { openSecretVault, type SealedSecret, type SecretVault } from './secret-vault';
import { secretsDirOf } from './secrets-dir';

const PASSWORD = 'kmsuser-Pa55word!';
const CONTEXT = 'kmsuser-password:cks-0123456789abcdef0';

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'hsmwb-vault-'));
});
afterEach(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

/** The key-file fallback only: these specs must not depend on whether this machine has a keyring. */
const fileVault = (dir = stateDir, onUnprotected?: (p: ProtectionInfo) => void): Promise<SecretVault> =>
  openSecretVault({ stateDir: dir, protectors: [keyFileProtector(secretsDirOf(dir))], onUnprotected });

/** A protector that held a key once and now cannot be reached (a keyring that is gone or locked). */
function unreachableKeyring(options: { accepts: boolean }): VaultKeyProtector {
  return {
    kind: 'os-keyring',
    protection: { kind: 'os-keyring', protected: true, description: 'fake keyring' },
    store: async () => options.accepts,
    load: async () => {
      throw new WorkbenchError('SecretStoreException', 'the keyring did not answer', { code: 'KEYRING_UNAVAILABLE' });
    },
    discard: async () => undefined,
  };
}

const b64 = (text: string): Buffer => Buffer.from(text, 'base64');
const flipFirstByte = (text: string): string => {
  const bytes = b64(text);
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  return bytes.toString('base64');
};

describe('SecretVault', () => {
  it('seals to versioned base64 JSON without the plaintext, and opens it again in the same context', async () => {
    const vault = await fileVault();
    const sealed = await vault.seal(PASSWORD, CONTEXT);
    expect(Object.keys(sealed).sort()).toEqual(['ct', 'iv', 'kid', 'tag', 'v']);
    expect(sealed.v).toBe(1);
    expect(b64(sealed.iv)).toHaveLength(12);
    expect(b64(sealed.tag)).toHaveLength(16);
    expect(JSON.stringify(sealed)).not.toContain(PASSWORD);
    expect(await vault.open(sealed, CONTEXT)).toBe(PASSWORD);
    // A fresh IV each time: the same password never seals to the same text.
    expect((await vault.seal(PASSWORD, CONTEXT)).ct).not.toBe(sealed.ct);
  });

  it('reopens the same vault from the state directory, and says once that the key file is not protected', async () => {
    const told: ProtectionInfo[] = [];
    const sealed = await (await fileVault(stateDir, (p) => told.push(p))).seal(PASSWORD, CONTEXT);
    const again = await fileVault(stateDir, (p) => told.push(p));
    expect(await again.open(sealed, CONTEXT)).toBe(PASSWORD);
    expect(again.protection).toMatchObject({ kind: 'key-file', protected: false });
    expect(told.map((p) => p.kind)).toEqual(['key-file', 'key-file']);
    const files = await readdir(secretsDirOf(stateDir));
    expect(files.sort()).toEqual([`${sealed.kid}.key`, 'vault.json']);
  });

  it('refuses a sealed secret opened in another context (another key store) by name', async () => {
    const vault = await fileVault();
    const sealed = await vault.seal(PASSWORD, CONTEXT);
    const error = await rejection(vault.open(sealed, 'kmsuser-password:cks-ffffffffffffffff0'));
    expect(error.name).toBe('SecretStoreException');
    expect(error.code).toBe('SEALED_SECRET_REJECTED');
    expect(error.message).toMatch(/changed after sealing, or it was sealed for another context/);
    expect(error.message).not.toContain(PASSWORD);
  });

  it.each(['ct', 'iv', 'tag'] as const)('refuses a sealed secret whose %s was changed', async (field) => {
    const vault = await fileVault();
    const sealed = await vault.seal(PASSWORD, CONTEXT);
    const error = await rejection(vault.open({ ...sealed, [field]: flipFirstByte(sealed[field]) }, CONTEXT));
    expect(error.code).toBe('SEALED_SECRET_REJECTED');
  });

  it('refuses what is not a sealed secret, naming the field', async () => {
    const vault = await fileVault();
    const sealed = await vault.seal(PASSWORD, CONTEXT);
    const error = await rejection(vault.open({ ...sealed, v: 2 } as unknown as SealedSecret, CONTEXT));
    expect(error.code).toBe('SEALED_SECRET_INVALID');
    expect(error.message).toMatch(/\(v: /);
    expect((await rejection(vault.open({ ...sealed, tag: 'AAAA' }, CONTEXT))).message).toMatch(/tag: not 16 bytes/);
  });

  it("refuses a secret sealed by another state directory's vault", async () => {
    const otherDir = await mkdtemp(join(tmpdir(), 'hsmwb-vault-other-'));
    try {
      const sealed = await (await fileVault(otherDir)).seal(PASSWORD, CONTEXT);
      const error = await rejection((await fileVault()).open(sealed, CONTEXT));
      expect(error.code).toBe('OTHER_VAULT');
      expect(error.message).toContain(sealed.kid);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('two processes creating the vault at once end up with one', async () => {
    const [a, b] = await Promise.all([fileVault(), fileVault()]);
    if (a === undefined || b === undefined) throw new Error('unreachable');
    expect(await b.open(await a.seal(PASSWORD, CONTEXT), CONTEXT)).toBe(PASSWORD);
    expect((await readdir(secretsDirOf(stateDir))).filter((name) => name.endsWith('.key'))).toHaveLength(1);
  });
});

describe('the protector chain', () => {
  it('takes the next protector when one cannot hold a key here', async () => {
    const vault = await openSecretVault({ stateDir, protectors: [unreachableKeyring({ accepts: false }), keyFileProtector(secretsDirOf(stateDir))] });
    expect(vault.protection.kind).toBe('key-file');
  });

  it('never switches an existing vault to another protector: its unreachable keyring is an error, and nothing new is written', async () => {
    const keyring = unreachableKeyring({ accepts: true });
    const chain = [keyring, keyFileProtector(secretsDirOf(stateDir))];
    await openSecretVault({ stateDir, protectors: chain });
    const manifest = await readFile(join(secretsDirOf(stateDir), 'vault.json'), 'utf8');
    const error = await rejection(openSecretVault({ stateDir, protectors: chain }));
    expect(error.code).toBe('KEYRING_UNAVAILABLE');
    expect(await readdir(secretsDirOf(stateDir))).toEqual(['vault.json']);
    expect(await readFile(join(secretsDirOf(stateDir), 'vault.json'), 'utf8')).toBe(manifest);
  });

  it('says which protector a vault needs when this program has not got it', async () => {
    await openSecretVault({ stateDir, protectors: [unreachableKeyring({ accepts: true })] });
    const error = await rejection(fileVault());
    expect(error.code).toBe('PROTECTOR_NOT_HERE');
    expect(error.message).toMatch(/protected by os-keyring .* does not switch protectors/);
  });

  it('says the key file is missing rather than making a new key', async () => {
    const sealed = await (await fileVault()).seal(PASSWORD, CONTEXT);
    await rm(join(secretsDirOf(stateDir), `${sealed.kid}.key`));
    const error = await rejection(fileVault());
    expect(error.code).toBe('VAULT_KEY_MISSING');
    expect(await readdir(secretsDirOf(stateDir))).toEqual(['vault.json']);
  });
});

describe('the secrets directory', () => {
  it.runIf(process.getuid !== undefined)('refuses a key file other users can read', async () => {
    const sealed = await (await fileVault()).seal(PASSWORD, CONTEXT);
    const keyFile = join(secretsDirOf(stateDir), `${sealed.kid}.key`);
    await chmod(keyFile, 0o644);
    const error = await rejection(fileVault());
    expect(error.code).toBe('UNSAFE_MODE');
    expect(error.message).toContain(`chmod 600 "${keyFile}"`);
  });

  it.runIf(process.getuid !== undefined)('refuses a secrets directory other users can enter', async () => {
    await mkdir(secretsDirOf(stateDir), { mode: 0o755 });
    await chmod(secretsDirOf(stateDir), 0o755);
    expect((await rejection(fileVault())).message).toContain(`chmod 700 "${secretsDirOf(stateDir)}"`);
  });

  it('refuses a symbolic link for the secrets directory and for the key file', async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), 'hsmwb-vault-link-'));
    try {
      await symlink(elsewhere, secretsDirOf(stateDir));
      const dirError = await rejection(fileVault());
      expect(dirError.name).toBe('SecretStoreException');
      expect(dirError.message).toMatch(/is a symbolic link/);
      await rm(secretsDirOf(stateDir));

      const sealed = await (await fileVault()).seal(PASSWORD, CONTEXT);
      const keyFile = join(secretsDirOf(stateDir), `${sealed.kid}.key`);
      await writeFile(join(elsewhere, 'key'), await readFile(keyFile), { mode: 0o600 });
      await rm(keyFile);
      await symlink(join(elsewhere, 'key'), keyFile);
      expect((await rejection(fileVault())).message).toMatch(/The vault key file .* is a symbolic link/);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });
});
