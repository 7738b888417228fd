import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorkbenchError } from '../../shared/errors';
import { SOFTHSM_MODULES } from '../core/known-modules';

const run = promisify(execFile);

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
  const modulePath = SOFTHSM_MODULES.map((m) => m.ModulePath).find((p) => existsSync(p));
  if (!modulePath) {
    throw new WorkbenchError('Pkcs11ModuleLoadException', `SoftHSM2 is not installed (no libsofthsm2 at ${SOFTHSM_MODULES.map((m) => m.ModulePath).join(', ')}). ${SOFTHSM_INSTALL_HINT}`, {
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
 * Initialises one token in the next free slot with softhsm2-util and reads its serial back.
 * Secret: the PINs go to softhsm2-util as arguments of a short-lived child process owned by this user
 * (softhsm2-util has no stdin option); they are never logged, and errors never repeat the arguments.
 */
export async function initSoftHsmToken(setup: SoftHsmSetup, token: { label: string; soPin: string; userPin: string }): Promise<ProvisionedToken> {
  await softHsmUtil(['--init-token', '--free', '--label', token.label, '--so-pin', token.soPin, '--pin', token.userPin], setup.env);
  const slot = (await listSoftHsmSlots(setup.env)).find((s) => s.initialized && s.label === token.label);
  if (!slot?.serial) throw new WorkbenchError('TokenNotFoundException', `Token "${token.label}" was initialised but softhsm2-util does not list it.`);
  return { label: token.label, serial: slot.serial };
}

export interface ListedSoftHsmSlot {
  slotId: string;
  initialized: boolean;
  label: string;
  serial: string;
}

export async function listSoftHsmSlots(env: Record<string, string>): Promise<ListedSoftHsmSlot[]> {
  return parseShowSlots(await softHsmUtil(['--show-slots'], env));
}

/** Parses `softhsm2-util --show-slots`: blocks start "Slot <id>", with "Initialized:", "Label:" and "Serial number:" lines. */
export function parseShowSlots(text: string): ListedSoftHsmSlot[] {
  const slots: ListedSoftHsmSlot[] = [];
  for (const block of text.split(/\n(?=Slot \d+)/)) {
    const slotId = /^Slot (\d+)/m.exec(block)?.[1];
    if (slotId === undefined) continue;
    slots.push({
      slotId,
      initialized: /^\s*Initialized:\s*yes\s*$/m.test(block),
      label: /^\s*Label:[ \t]*(.*?)\s*$/m.exec(block)?.[1] ?? '',
      serial: /^\s*Serial number:[ \t]*(\S*)\s*$/m.exec(block)?.[1] ?? '',
    });
  }
  return slots;
}

/** Runs softhsm2-util; a failure says what the tool printed, never its arguments (they include PINs). */
async function softHsmUtil(args: readonly string[], env: Record<string, string>): Promise<string> {
  try {
    return (await run('softhsm2-util', [...args], { env: { ...process.env, ...env } })).stdout;
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    if (failure.code === 'ENOENT') throw new WorkbenchError('Pkcs11ModuleLoadException', `softhsm2-util was not found. ${SOFTHSM_INSTALL_HINT}`, { code: 'MODULE_NOT_FOUND' });
    throw new WorkbenchError('Pkcs11Exception', `softhsm2-util ${args[0] ?? ''} failed: ${failure.stderr?.trim() || 'no output'}`, { code: 'CKR_GENERAL_ERROR' });
  }
}
