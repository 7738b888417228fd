// Finds the Electron executable the way node_modules/electron/index.js does, but never downloads it:
// `require('electron')` under Node starts a download when the binary is missing, which hangs offline.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** How to get the binary, for messages. */
export const ELECTRON_BINARY_HELP = [
  'The Electron binary is not installed (packages here are installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1: no network).',
  'On a networked machine, get it with one of:',
  '  npx electron --version            # downloads the binary on first run',
  '  npm rebuild electron              # with ELECTRON_SKIP_BINARY_DOWNLOAD unset',
  'or point ELECTRON_OVERRIDE_DIST_PATH at an unpacked Electron 45 distribution.',
].join('\n');

/**
 * @param {string} root the project root
 * @param {NodeJS.ProcessEnv} [env]
 * @returns {{ found: true, path: string } | { found: false, reason: string }}
 */
export function locateElectronBinary(root, env = process.env) {
  const packageDir = path.join(root, 'node_modules', 'electron');
  if (!existsSync(path.join(packageDir, 'package.json'))) return { found: false, reason: 'the electron package is not installed (node_modules/electron is missing)' };
  const pathFile = path.join(packageDir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : undefined;
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const candidate = path.join(env.ELECTRON_OVERRIDE_DIST_PATH, relative || 'electron');
    return existsSync(candidate) ? { found: true, path: candidate } : { found: false, reason: `ELECTRON_OVERRIDE_DIST_PATH is set but ${candidate} does not exist` };
  }
  if (relative === undefined) return { found: false, reason: 'node_modules/electron/path.txt is missing: the binary was never downloaded' };
  const candidate = path.join(packageDir, 'dist', relative);
  return existsSync(candidate) ? { found: true, path: candidate } : { found: false, reason: `${path.relative(root, candidate)} does not exist` };
}
