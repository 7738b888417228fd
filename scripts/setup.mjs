// `npm run setup`: installs the system packages this machine lacks through its own package manager
// (apt-get, dnf or Homebrew; sudo only when not root and only when something is missing), then `npm ci`.
// Dependency-free: it runs before anything is installed.
//   --ci       no prompts (DEBIAN_FRONTEND=noninteractive) and ELECTRON_SKIP_BINARY_DOWNLOAD=1: CI reaches
//              the npm registry and Debian's mirrors, not the Electron download (.ci/run)
//   --dry-run  print what would run, run nothing
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMissing, installCommands, MANAGER_NAMES, missingRequirements, nodeVersionProblem, requirements, shellLine, thisMachine } from './system-packages.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const OPTIONS = ['--ci', '--dry-run'];
const args = process.argv.slice(2);
const unknown = args.filter((arg) => !OPTIONS.includes(arg));
if (unknown.length > 0) fail(`Unknown option ${unknown.join(' ')}. Options: ${OPTIONS.join(', ')}.`, 2);
const ci = args.includes('--ci');
const dryRun = args.includes('--dry-run');

function say(text) {
  process.stderr.write(`${text}\n`);
}

function fail(text, code = 1) {
  say(`Setup stopped: ${text}`);
  process.exit(code);
}

/** Runs `argv` with the terminal attached (sudo may ask for a password) and returns its exit status; a dry run only prints it. */
function run(argv, env) {
  say(`$ ${argv.join(' ')}`);
  if (dryRun) return 0;
  const result = spawnSync(argv[0], argv.slice(1), { cwd: root, env, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.error) fail(`${argv[0]} could not be started (${result.error.code ?? result.error.message}).`);
  return result.status ?? 1;
}

const { engines } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
const nodeProblem = nodeVersionProblem(engines.node);
if (nodeProblem) fail(`${nodeProblem}.`);

const list = requirements();
const { manager, asRoot, probe } = thisMachine();
const missing = missingRequirements(list, manager, probe);
if (manager === null && missing.length > 0) {
  fail(['this OS has no package manager setup knows (apt-get, dnf, Homebrew). Missing:', ...describeMissing(missing, null)].join('\n'));
}
const installable = missing.filter((requirement) => typeof requirement.packages[manager] === 'string');
if (installable.length > 0) {
  const commands = installCommands(manager, installable, { asRoot });
  say(`Missing system packages (${MANAGER_NAMES[manager]}):\n${describeMissing(installable, manager).join('\n')}`);
  if (commands[0]?.[0] === 'sudo' && !probe.hasCommand('sudo')) fail(`not root, and no sudo here. As root, run:\n  ${shellLine(commands.map((argv) => argv.slice(1)))}\nthen npm run setup again.`);
  const aptEnv = ci ? { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } : process.env;
  for (const argv of commands) {
    const status = run(argv, aptEnv);
    if (status !== 0) fail(`${argv.join(' ')} exited with ${status}; see its output above.`);
  }
  // Installed means proven by the probe the preflight uses, so setup never claims what npm test then denies.
  const stillMissing = dryRun ? [] : missingRequirements(installable, manager, probe);
  if (stillMissing.length > 0) fail(`the package manager succeeded, yet these are still missing (not on PATH, or installed somewhere else):\n${describeMissing(stillMissing, manager).join('\n')}`);
} else {
  say('System packages: all present.');
}
// The app runs without these; only the tests need them: say so, and go on.
const uninstallable = missing.filter((requirement) => !installable.includes(requirement));
if (uninstallable.length > 0) say(`Not installable on this OS (the tests need them):\n${describeMissing(uninstallable, manager).join('\n')}`);

const env = ci ? { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' } : process.env;
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const status = run([npm, 'ci', '--no-audit', '--no-fund'], env);
if (status !== 0) {
  const offline = env.ELECTRON_SKIP_BINARY_DOWNLOAD
    ? ''
    : '\nIf it was Electron\'s download that failed (no network, or no access to github.com), run `ELECTRON_SKIP_BINARY_DOWNLOAD=1 npm run setup`: everything but the window works without it, and `npm start` says how to fetch it later.';
  fail(`npm ci exited with ${status}; see its output above.${offline}`);
}
say(dryRun ? 'Dry run: nothing was changed.' : 'Set up. Next: `npm start` (the app) or `npm test`.');
