import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorkbenchError } from '../../shared/errors';

const run = promisify(execFile);

export const SOFTHSM_MODULE_PATHS = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
  '/opt/homebrew/lib/softhsm/libsofthsm2.so',
];

export const SOFTHSM_INSTALL_HINT = 'Install SoftHSM2: `sudo apt-get install softhsm2` (Debian/Ubuntu), `sudo dnf install softhsm` (Fedora), `brew install softhsm` (macOS).';

export interface ProvisionedToken {
  label: string;
  serial: string;
}

export interface SoftHsmSetup {
  /** The softhsm2.conf that points SoftHSM at `dir`/tokens. */
  conf: string;
  modulePath: string;
  env: { SOFTHSM2_CONF: string };
}

/** Finds the SoftHSM2 module and utility, or says how to install them. */
export function locateSoftHsm(): { modulePath: string } {
  const modulePath = SOFTHSM_MODULE_PATHS.find((p) => existsSync(p));
  if (!modulePath) {
    throw new WorkbenchError('Pkcs11ModuleLoadException', `SoftHSM2 is not installed (no libsofthsm2 at ${SOFTHSM_MODULE_PATHS[0]} or the other usual places). ${SOFTHSM_INSTALL_HINT}`, {
      code: 'MODULE_NOT_FOUND',
    });
  }
  return { modulePath };
}

/** Writes a SoftHSM2 configuration whose token directory lives under `dir` (file backend: one file per object). */
export async function createSoftHsmConfig(dir: string): Promise<SoftHsmSetup> {
  const { modulePath } = locateSoftHsm();
  const tokenDir = join(dir, 'tokens');
  await mkdir(tokenDir, { recursive: true, mode: 0o700 });
  const conf = join(dir, 'softhsm2.conf');
  await writeFile(conf, `directories.tokendir = ${tokenDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`, { mode: 0o600 });
  return { conf, modulePath, env: { SOFTHSM2_CONF: conf } };
}

/**
 * Initialises one token in the next free slot with softhsm2-util.
 * Secret: the PINs go to softhsm2-util as arguments of a short-lived child process owned by this user
 * (softhsm2-util has no stdin option); they are never logged or written to any file.
 */
export async function initSoftHsmToken(setup: SoftHsmSetup, token: { label: string; soPin: string; userPin: string }): Promise<ProvisionedToken> {
  const env = { ...process.env, ...setup.env };
  try {
    await run('softhsm2-util', ['--init-token', '--free', '--label', token.label, '--so-pin', token.soPin, '--pin', token.userPin], { env });
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new WorkbenchError('Pkcs11Exception', missing ? `softhsm2-util was not found. ${SOFTHSM_INSTALL_HINT}` : `softhsm2-util could not initialise token "${token.label}".`, {
      code: missing ? 'MODULE_NOT_FOUND' : 'CKR_GENERAL_ERROR',
    });
  }
  const { stdout } = await run('softhsm2-util', ['--show-slots'], { env });
  const serial = serialOfLabel(stdout, token.label);
  if (!serial) throw new WorkbenchError('TokenNotFoundException', `Token "${token.label}" was initialised but softhsm2-util does not list it.`);
  return { label: token.label, serial };
}

/** Reads `softhsm2-util --show-slots`: each slot block has "Label: …" and "Serial number: …" lines. */
export function serialOfLabel(showSlots: string, label: string): string | undefined {
  for (const block of showSlots.split(/\n(?=Slot \d+)/)) {
    const blockLabel = /^\s*Label:\s*(.*?)\s*$/m.exec(block)?.[1];
    const serial = /^\s*Serial number:\s*(\S+)\s*$/m.exec(block)?.[1];
    if (blockLabel === label && serial) return serial;
  }
  return undefined;
}
