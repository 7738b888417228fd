import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WorkbenchError } from '../../shared/errors';
import { SOFTHSM_MODULES } from '../core/known-modules';

export const SOFTHSM_INSTALL_HINT = 'Install SoftHSM2: `sudo apt-get install softhsm2` (Debian/Ubuntu), `sudo dnf install softhsm` (Fedora), `brew install softhsm` (macOS).';

export interface SoftHsmSetup {
  /** The softhsm2.conf that points SoftHSM at `dir`/tokens. */
  conf: string;
  modulePath: string;
  env: { SOFTHSM2_CONF: string };
}

/** Finds the SoftHSM2 module, or says how to install it. */
export function locateSoftHsm(exists: (path: string) => boolean = existsSync): { modulePath: string } {
  const modulePath = SOFTHSM_MODULES.map((m) => m.ModulePath).find((p) => exists(p));
  if (!modulePath) {
    throw new WorkbenchError('Pkcs11ModuleLoadException', `SoftHSM2 is not installed (no libsofthsm2 at ${SOFTHSM_MODULES.map((m) => m.ModulePath).join(', ')}). ${SOFTHSM_INSTALL_HINT}`, {
      code: 'MODULE_NOT_FOUND',
    });
  }
  return { modulePath };
}

/** Where createSoftHsmConfig(dir) puts the configuration: known before it exists, so a cluster over it can be recognised. */
export function softHsmConfPath(dir: string): string {
  return join(dir, 'softhsm2.conf');
}

/** Writes a SoftHSM2 configuration whose token directory lives under `dir` (file backend: one file per object). */
export async function createSoftHsmConfig(dir: string): Promise<SoftHsmSetup> {
  const { modulePath } = locateSoftHsm();
  const tokenDir = join(dir, 'tokens');
  await mkdir(tokenDir, { recursive: true, mode: 0o700 });
  const conf = softHsmConfPath(dir);
  await writeFile(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`, { mode: 0o600 });
  return { conf, modulePath, env: { SOFTHSM2_CONF: conf } };
}
