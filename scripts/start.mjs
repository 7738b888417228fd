// `npm start`: build when dist/ is missing or older than the sources, then run the Electron app.
// Where the Electron binary is absent (no network to download it), say why and point to the CLI.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ELECTRON_BINARY_HELP, locateElectronBinary } from './electron-binary.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

/** What the app loads at run time; if any is missing or older than a source, rebuild. */
const OUTPUTS = ['dist/main/electron-main.js', 'dist/main/hsm-host-child.js', 'dist/preload/preload.cjs', 'dist/renderer/index.html'];
const SOURCE_DIRS = ['main', 'shared', 'preload', 'renderer'];
const SOURCE_FILES = ['package.json', 'vite.config.ts', 'scripts/build-node.mjs'];

function newestMtime(entry) {
  const full = path.join(root, entry);
  if (!existsSync(full)) return 0;
  const stat = statSync(full);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const child of readdirSync(full)) newest = Math.max(newest, newestMtime(path.join(entry, child)));
  return newest;
}

function buildIsStale() {
  const outputTimes = OUTPUTS.map((output) => (existsSync(path.join(root, output)) ? statSync(path.join(root, output)).mtimeMs : 0));
  const oldestOutput = Math.min(...outputTimes);
  if (oldestOutput === 0) return true;
  return Math.max(...[...SOURCE_DIRS, ...SOURCE_FILES].map(newestMtime)) > oldestOutput;
}

if (buildIsStale()) {
  process.stderr.write('Building HSM Workbench (dist/ is missing or older than the sources)…\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const build = spawnSync(npm, ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (build.status !== 0) {
    process.stderr.write('The build failed; see the output above.\n');
    process.exit(build.status ?? 1);
  }
}

// Built first, so the CLI offered below works even where the window cannot start.
const electron = locateElectronBinary(root);
if (!electron.found) {
  process.stderr.write(
    `HSM Workbench is built, but cannot start its window: ${electron.reason}.\n\n${ELECTRON_BINARY_HELP}\n\n` +
      'Everything but the window works without Electron. Use the CLI instead, for example:\n' +
      '  npx hsm-workbench demo init\n' +
      '  npx hsm-workbench --help\n',
  );
  process.exit(1);
}

// A clean environment: ELECTRON_RUN_AS_NODE would start Electron as plain Node, NODE_OPTIONS could
// inject code, and npm's own variables are noise the app must not depend on.
const env = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !/^(ELECTRON_RUN_AS_NODE|NODE_OPTIONS|NODE_PATH|INIT_CWD|npm_.*)$/i.test(name)),
);

// The resolved binary is launched directly (what node_modules/.bin/electron does, minus its download attempt).
const child = spawn(electron.path, ['.'], { cwd: root, env, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('error', (error) => {
  process.stderr.write(`Electron could not be started: ${error.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
