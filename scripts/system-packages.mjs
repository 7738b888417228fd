// The one list of system packages HSM Workbench and its tests need, per package manager, with the
// command or file that proves each is installed. `npm run setup` installs what is missing,
// `npm test` begins with a preflight that names it, and .ci/run goes through setup: all read this file.
// Dependency-free on purpose: it runs before `npm ci`, on a machine that may have nothing but Node.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Where SoftHSM2 installs its module. demo init and the test fixtures look for it in
 * main/core/known-modules.ts (SOFTHSM_MODULES), which Node cannot import without a TypeScript build;
 * tests/integration/system-packages.spec.ts keeps the two lists equal.
 */
export const SOFTHSM_MODULE_PATHS = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
  '/opt/homebrew/lib/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.dylib',
];

/** Homebrew's prefixes (Apple silicon, Intel); `opt/<formula>` is the version-independent path of a formula. */
const brewOpt = (formula, file) => ['/opt/homebrew', '/usr/local'].map((prefix) => `${prefix}/opt/${formula}/${file}`);

/** Debian's multiarch directory for this CPU (p11-kit's client module lives under it). */
function debianMultiarch(arch) {
  return arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu';
}

/** What the browser E2E tests launch (playwright.config.ts `executablePath`). */
const CHROMIUM = '/usr/bin/chromium';
/** Why macOS has no package for it. */
const LINUX_ONLY = 'the E2E tests run Debian\'s Chromium from /usr/bin/chromium: run the test suite on Debian';

/**
 * Each requirement: what it is, why it is needed, its proof (a `command` on PATH, or one of `files`) and
 * its package per manager. A manager absent from `packages` does not need it; `null` means it is
 * needed but has no package there, and `unavailable` says why.
 * @param {NodeJS.Architecture} arch
 * @returns {import('./system-packages.d.mts').Requirement[]}
 */
export function requirements(arch = process.arch) {
  const softhsm = { apt: 'softhsm2', dnf: 'softhsm', brew: 'softhsm' };
  return [
    // npm ci builds pkcs11js with node-gyp; the tests compile the broken and fault-injecting PKCS#11 modules (C).
    // macOS has them with Apple's Command Line Tools, which Homebrew requires anyway.
    { name: 'a C and C++ compiler', why: 'npm ci builds pkcs11js (C++); the tests compile small PKCS#11 modules (C)', command: 'g++', packages: { apt: 'g++', dnf: 'gcc-c++' } },
    { name: 'make', why: 'node-gyp builds pkcs11js with it during npm ci', command: 'make', packages: { apt: 'make', dnf: 'make' } },
    { name: 'Python 3', why: 'node-gyp, which builds pkcs11js during npm ci', command: 'python3', packages: { apt: 'python3', dnf: 'python3' } },
    { name: 'softhsm2-util', why: 'creates SoftHSM2 tokens (demo init, the tests)', command: 'softhsm2-util', packages: softhsm },
    { name: 'the SoftHSM2 module (libsofthsm2)', why: 'the PKCS#11 module demo init and the tests load', files: { apt: SOFTHSM_MODULE_PATHS, dnf: SOFTHSM_MODULE_PATHS, brew: SOFTHSM_MODULE_PATHS }, packages: softhsm },
    { name: 'pkcs11-tool', why: 'OpenSC: the independent peer the tests check results with', command: 'pkcs11-tool', packages: { apt: 'opensc', dnf: 'opensc', brew: 'opensc' } },
    { name: 'p11-kit', why: 'runs `p11-kit server`, the network HSM of the tests', command: 'p11-kit', packages: { apt: 'p11-kit', dnf: 'p11-kit', brew: 'p11-kit' } },
    {
      name: 'p11-kit server',
      why: 'the program `p11-kit server` starts',
      files: { apt: ['/usr/libexec/p11-kit/p11-kit-server'], dnf: ['/usr/libexec/p11-kit/p11-kit-server'], brew: brewOpt('p11-kit', 'libexec/p11-kit/p11-kit-server') },
      packages: { apt: 'p11-kit', dnf: 'p11-kit-server', brew: 'p11-kit' },
    },
    {
      name: 'p11-kit-client.so',
      why: 'the PKCS#11 client module that reaches a p11-kit server',
      files: { apt: [`/usr/lib/${debianMultiarch(arch)}/pkcs11/p11-kit-client.so`], dnf: ['/usr/lib64/pkcs11/p11-kit-client.so'], brew: brewOpt('p11-kit', 'lib/pkcs11/p11-kit-client.so') },
      packages: { apt: 'p11-kit-modules', dnf: 'p11-kit-server', brew: 'p11-kit' },
    },
    { name: 'Chromium', why: 'the browser the E2E tests run in', files: { apt: [CHROMIUM], dnf: [CHROMIUM], brew: [CHROMIUM] }, packages: { apt: 'chromium', dnf: 'chromium', brew: null }, unavailable: LINUX_ONLY },
    // The secret-store tests' real OS keyring (tests/fixtures/secret-service.ts). macOS has its Keychain and no Secret Service.
    { name: 'gnome-keyring-daemon', why: 'a real Secret Service (the OS keyring) for the secret-store tests', command: 'gnome-keyring-daemon', packages: { apt: 'gnome-keyring', dnf: 'gnome-keyring' } },
    { name: 'dbus-daemon', why: 'the private session bus the keyring tests run gnome-keyring on', command: 'dbus-daemon', packages: { apt: 'dbus', dnf: 'dbus-daemon' } },
    { name: 'dbus-send', why: 'the keyring tests wait with it until gnome-keyring owns its bus name', command: 'dbus-send', packages: { apt: 'dbus', dnf: 'dbus-tools' } },
    { name: 'secret-tool', why: "libsecret's client: the independent peer the keyring tests read the vault key back with", command: 'secret-tool', packages: { apt: 'libsecret-tools', dnf: 'libsecret' } },
    // macOS windows need no X server.
    { name: 'Xvfb', why: 'a display for the real-window Electron tests on a machine without one (`xvfb-run -a npm test`)', command: 'Xvfb', packages: { apt: 'xvfb', dnf: 'xorg-x11-server-Xvfb' } },
  ];
}

/**
 * The package manager of this machine, from the platform and /etc/os-release (ID, ID_LIKE).
 * @param {NodeJS.Platform} platform
 * @param {string | undefined} osRelease the text of /etc/os-release, if any
 * @returns {import('./system-packages.d.mts').PackageManager | null}
 */
export function detectPackageManager(platform, osRelease) {
  if (platform === 'darwin') return 'brew';
  if (platform !== 'linux' || osRelease === undefined) return null;
  const field = (name) => (new RegExp(`^${name}=(.*)$`, 'm').exec(osRelease)?.[1] ?? '').replace(/^["']|["']$/g, '');
  const ids = `${field('ID')} ${field('ID_LIKE')}`.toLowerCase().split(/\s+/);
  if (ids.some((id) => id === 'debian' || id === 'ubuntu')) return 'apt';
  if (ids.some((id) => id === 'fedora' || id === 'rhel' || id === 'centos')) return 'dnf';
  return null;
}

/** Human names of the managers, for messages. */
export const MANAGER_NAMES = { apt: 'Debian/Ubuntu (apt-get)', dnf: 'Fedora (dnf)', brew: 'macOS (Homebrew)' };

/** The files that prove `requirement` for `manager` (for an unknown manager, any manager's). */
function proofFiles(requirement, manager) {
  return manager === null ? [...new Set(Object.values(requirement.files ?? {}).flat())] : (requirement.files?.[manager] ?? []);
}

/**
 * The requirements `manager` needs that this machine lacks. Without a known manager, every requirement counts.
 * @param {import('./system-packages.d.mts').Requirement[]} list
 * @param {import('./system-packages.d.mts').PackageManager | null} manager
 * @param {import('./system-packages.d.mts').Probe} probe
 * @returns {import('./system-packages.d.mts').Requirement[]}
 */
export function missingRequirements(list, manager, probe) {
  return list
    .filter((requirement) => manager === null || manager in requirement.packages)
    .filter((requirement) => {
      if (requirement.command !== undefined) return !probe.hasCommand(requirement.command);
      const files = proofFiles(requirement, manager);
      return !files.some((file) => probe.hasFile(file));
    });
}

/**
 * The commands that install `missing` with `manager`: what setup runs and what the preflight prints.
 * `asRoot`: no sudo (CI, a root shell). Homebrew refuses to run as root and never needs sudo.
 * @param {import('./system-packages.d.mts').PackageManager} manager
 * @param {import('./system-packages.d.mts').Requirement[]} missing
 * @param {{ asRoot: boolean }} options
 * @returns {string[][]} argv lists, to run in order; empty when nothing is installable
 */
export function installCommands(manager, missing, { asRoot }) {
  const packages = [...new Set(missing.map((requirement) => requirement.packages[manager]).filter((name) => typeof name === 'string'))];
  if (packages.length === 0) return [];
  const sudo = asRoot || manager === 'brew' ? [] : ['sudo'];
  switch (manager) {
    case 'apt':
      // A fresh machine may have empty package lists; no recommends keeps Chromium's pull small (CI has always used it).
      return [
        [...sudo, 'apt-get', 'update'],
        [...sudo, 'apt-get', 'install', '-y', '--no-install-recommends', ...packages],
      ];
    case 'dnf':
      return [[...sudo, 'dnf', 'install', '-y', ...packages]];
    case 'brew':
      return [['brew', 'install', ...packages]];
  }
}

/** One shell line for `commands`, to print. */
export function shellLine(commands) {
  return commands.map((argv) => argv.join(' ')).join(' && ');
}

/**
 * One line per missing requirement: what it is, what proves it absent, why it is needed, where it comes from.
 * @param {import('./system-packages.d.mts').Requirement[]} missing
 * @param {import('./system-packages.d.mts').PackageManager | null} manager
 * @returns {string[]}
 */
export function describeMissing(missing, manager) {
  return missing.map((requirement) => {
    const proof = requirement.command !== undefined ? `no ${requirement.command} on PATH` : `none of ${proofFiles(requirement, manager).join(', ')}`;
    const source =
      manager === null
        ? Object.entries(requirement.packages).map(([name, pkg]) => `${MANAGER_NAMES[name]}: ${pkg ?? 'none'}`).join('; ')
        : requirement.packages[manager] === null
          ? `no ${MANAGER_NAMES[manager]} package: ${requirement.unavailable}`
          : `package ${requirement.packages[manager]}`;
    return `  - ${requirement.name} (${proof}): ${requirement.why}; ${source}`;
  });
}

/**
 * The real machine: PATH lookup for commands (executable files only), existence for files.
 * @param {NodeJS.ProcessEnv} env
 * @returns {import('./system-packages.d.mts').Probe}
 */
export function machineProbe(env = process.env) {
  const dirs = (env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const executable = (file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  return { hasCommand: (command) => dirs.some((dir) => executable(path.join(dir, command))), hasFile: (file) => existsSync(file) };
}

/**
 * This machine: its package manager, whether we are root, and the probe.
 * @returns {import('./system-packages.d.mts').Machine}
 */
export function thisMachine(env = process.env) {
  let osRelease;
  try {
    osRelease = readFileSync('/etc/os-release', 'utf8');
  } catch {
    // Not Linux, or a minimal one: detectPackageManager says null where that matters.
  }
  return { manager: detectPackageManager(process.platform, osRelease), asRoot: process.getuid?.() === 0, probe: machineProbe(env) };
}

/**
 * Why this Node cannot run the workbench's build and tests, or null when it can. `engines` is package.json's
 * `engines.node`, a `>=MAJOR.MINOR[.PATCH]` range.
 * @param {string} engines
 * @param {string} version e.g. process.versions.node
 * @returns {string | null}
 */
export function nodeVersionProblem(engines, version = process.versions.node) {
  const minimum = /^>=\s*(\d+)\.(\d+)(?:\.(\d+))?$/.exec(engines.trim());
  if (!minimum) return `package.json engines.node is "${engines}"; expected ">=MAJOR.MINOR"`;
  const want = minimum.slice(1).map((part) => Number(part ?? 0));
  const have = version.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) !== want[i]) return (have[i] ?? 0) > want[i] ? null : `Node.js ${version} is too old: HSM Workbench needs Node.js ${engines.trim().slice(2).trim()} or newer (see README, Set up)`;
  }
  return null;
}
