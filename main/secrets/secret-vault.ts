import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { z } from 'zod';
import { WorkbenchError } from '../../shared/errors';
import { keyFileProtector } from './key-file-protector';
import { osKeyringProtector } from './os-keyring-protector';
import { VAULT_KEY_BYTES, type ProtectionInfo, type VaultKeyProtector } from './protection';
import { openWithKey, sealWithKey, type SealedSecret } from './sealed-secret';
import { createPrivateFileOnce, prepareSecretsDir, readPrivateFile, secretsDirOf } from './secrets-dir';

export type { ProtectionInfo, ProtectionKind, VaultKeyProtector } from './protection';
export type { SealedSecret } from './sealed-secret';

/**
 * Secrets at rest (kmsuser passwords): sealed with one AES-256-GCM key per state directory, which a protector
 * holds outside the state file. `context` binds a sealed secret to its use (`kmsuser-password:<cks-id>`).
 * Plaintexts cross this boundary only as arguments and results: never logged, never in an error.
 */
export interface SecretVault {
  seal(plaintext: string, context: string): Promise<SealedSecret>;
  open(sealed: SealedSecret, context: string): Promise<string>;
  readonly protection: ProtectionInfo;
}

/** How the core hands the vault to services: opened on first use, so a command that needs no secret never touches the keyring. */
export type SecretVaultSource = () => Promise<SecretVault>;

export interface SecretVaultOptions {
  stateDir: string;
  /**
   * Who may hold a new vault's key, best first (default: the OS keyring, then the key file). An existing vault
   * stays with the protector its manifest names: the chain only decides for a new one.
   */
  protectors?: readonly VaultKeyProtector[];
  /** Told once, when the vault in force is not protected (the key-file fallback): the CLI says it on stderr. */
  onUnprotected?: (protection: ProtectionInfo) => void;
}

/** secrets/vault.json: which protector holds the key of this state directory's vault. Written once, never switched. */
const ManifestSchema = z.strictObject({
  v: z.literal(1),
  kid: z.string().regex(/^[0-9a-f]{32}$/),
  protector: z.enum(['os-keyring', 'electron-safe-storage', 'key-file']),
  created: z.string(),
});
type Manifest = z.infer<typeof ManifestSchema>;

const MANIFEST = 'vault.json';
const WHAT = 'The secret store manifest';

export function defaultProtectors(secretsDir: string): VaultKeyProtector[] {
  return [osKeyringProtector(), keyFileProtector(secretsDir)];
}

export async function openSecretVault(options: SecretVaultOptions): Promise<SecretVault> {
  const dir = await prepareSecretsDir(options.stateDir);
  const protectors = options.protectors ?? defaultProtectors(dir);
  const manifestPath = join(dir, MANIFEST);
  // Two attempts: a process that loses the race to create the vault opens the winner's.
  for (let attempt = 0; attempt < 2; attempt++) {
    const manifest = await readManifest(manifestPath);
    const opened = manifest === null ? await createVault(manifestPath, protectors) : await loadVault(manifestPath, manifest, protectors);
    if (opened === undefined) continue;
    const { kid, key, protector } = opened;
    if (!protector.protection.protected) options.onUnprotected?.(protector.protection);
    return {
      protection: protector.protection,
      seal: async (plaintext, context) => sealWithKey(key, kid, plaintext, context),
      open: async (sealed, context) => openWithKey(key, kid, sealed, context),
    };
  }
  throw new WorkbenchError('SecretStoreException', `The secret store in ${dir} was being created by another process and could not be opened. Try again.`, { code: 'VAULT_RACE', details: { path: dir } });
}

/**
 * The vault of `options.stateDir`, opened on the first call and shared by every later one. A failed opening
 * (a locked keyring) is not remembered: the next call tries again, after the admin unlocked it.
 */
export function secretVaultSource(options: SecretVaultOptions): SecretVaultSource {
  let opening: Promise<SecretVault> | undefined;
  return () => {
    opening ??= openSecretVault(options).catch((error: unknown) => {
      opening = undefined;
      throw error;
    });
    return opening;
  };
}

/**
 * The protection of this state directory's vault without opening or creating it: null before the first secret is
 * stored (the chain decides then). For showing, so a read (the GUI's DescribeSecretStore) never makes a vault or asks a keyring.
 */
export async function existingVaultProtection(options: SecretVaultOptions): Promise<ProtectionInfo | null> {
  const dir = secretsDirOf(options.stateDir);
  const manifest = await readManifest(join(dir, MANIFEST));
  if (manifest === null) return null;
  const protector = (options.protectors ?? defaultProtectors(dir)).find((candidate) => candidate.kind === manifest.protector);
  return protector?.protection ?? { kind: manifest.protector, protected: true, description: `The secret store's key is held by ${manifest.protector}, which this program cannot use.` };
}

interface OpenedVault {
  kid: string;
  key: Buffer;
  protector: VaultKeyProtector;
}

async function readManifest(path: string): Promise<Manifest | null> {
  const text = await readPrivateFile(path, WHAT);
  if (text === null) return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = ManifestSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  throw new WorkbenchError(
    'SecretStoreException',
    `${WHAT} ${path} is not valid (it says which protector holds the secret key). It was left untouched: restore it from a backup of the state directory.`,
    { code: 'VAULT_MANIFEST_INVALID', details: { path } },
  );
}

async function loadVault(path: string, manifest: Manifest, protectors: readonly VaultKeyProtector[]): Promise<OpenedVault> {
  const protector = protectors.find((candidate) => candidate.kind === manifest.protector);
  if (protector === undefined) {
    const only = manifest.protector === 'electron-safe-storage' ? ' Electron safeStorage is reachable only from the workbench app: open the GUI.' : '';
    throw new WorkbenchError(
      'SecretStoreException',
      `This state directory's secrets are protected by ${manifest.protector} (${path}), which this program cannot use (it has ${protectors.map((p) => p.kind).join(', ')}).${only} ` +
        'The workbench does not switch protectors for an existing store: the sealed passwords would be lost.',
      { code: 'PROTECTOR_NOT_HERE', details: { path, protector: manifest.protector } },
    );
  }
  return { kid: manifest.kid, key: await protector.load(manifest.kid), protector };
}

/** A new vault: the first protector that can hold the key does; the manifest, written last, commits it. undefined: another process won. */
async function createVault(path: string, protectors: readonly VaultKeyProtector[]): Promise<OpenedVault | undefined> {
  const kid = randomBytes(16).toString('hex');
  const key = randomBytes(VAULT_KEY_BYTES);
  for (const protector of protectors) {
    if (!(await protector.store(kid, key))) continue;
    const manifest: Manifest = { v: 1, kid, protector: protector.kind, created: new Date().toISOString() };
    if (await createPrivateFileOnce(path, `${JSON.stringify(manifest, null, 2)}\n`, WHAT)) return { kid, key, protector };
    await protector.discard(kid);
    return undefined;
  }
  throw new WorkbenchError('SecretStoreException', `No protector could hold the secret store's key (tried ${protectors.map((p) => p.kind).join(', ')}). Check that ${path} is writable.`, {
    code: 'NO_PROTECTOR',
    details: { path },
  });
}
