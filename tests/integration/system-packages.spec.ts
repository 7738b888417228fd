import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import playwrightConfig from '../../playwright.config';
import { SOFTHSM_MODULES } from '../../main/core/known-modules';
import { P11KIT_CLIENT_MODULE } from '../fixtures/p11kit-server';
import {
  describeMissing,
  detectPackageManager,
  installCommands,
  missingRequirements,
  nodeVersionProblem,
  requirements,
  shellLine,
  SOFTHSM_MODULE_PATHS,
  type Probe,
  type Requirement,
} from '../../scripts/system-packages.mjs';

/** The one list of system packages (setup, preflight, .ci/run): which are missing, and which command installs them. */

const DEBIAN_12 = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n';
const UBUNTU = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n';
const FEDORA = 'NAME="Fedora Linux"\nID=fedora\n';
const ROCKY = 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n';
const ARCH = 'NAME="Arch Linux"\nID=arch\n';

/** A machine where everything is installed except `absent` (commands or files). */
function probeWithout(...absent: string[]): Probe {
  return { hasCommand: (command) => !absent.includes(command), hasFile: (file) => !absent.includes(file) };
}

const byName = (list: Requirement[], name: string): Requirement => {
  const found = list.find((requirement) => requirement.name === name);
  if (!found) throw new Error(`no requirement ${name}`);
  return found;
};

describe('the system package list agrees with the code that uses the packages', () => {
  it('accepts exactly the SoftHSM2 modules demo init and the test fixtures look for', () => {
    expect(SOFTHSM_MODULE_PATHS).toEqual(SOFTHSM_MODULES.map((module) => module.ModulePath));
  });

  it('proves p11-kit-client.so on Debian (x86-64) at the path the network-HSM fixture loads', () => {
    expect(byName(requirements('x64'), 'p11-kit-client.so').files?.apt).toEqual([P11KIT_CLIENT_MODULE]);
  });

  it('proves Chromium at the path Playwright launches', () => {
    const chromium = byName(requirements(), 'Chromium');
    for (const files of Object.values(chromium.files ?? {})) expect(files).toEqual([playwrightConfig.use?.launchOptions?.executablePath]);
  });
  it.each([
    ['apt', 'Debian / Ubuntu'],
    ['dnf', 'Fedora'],
    ['brew', 'macOS'],
  ] as const)("README's Set up table lists the %s packages of the list, no more, no less", (manager, os) => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const row = new RegExp(`^\\| ${os} \\| [^|]+ \\| \`([^\`]+)\` \\|$`, 'm').exec(readme);
    const listed = [...new Set(requirements().flatMap((requirement) => requirement.packages[manager] ?? []))];
    expect(row?.[1]?.split(' ').sort()).toEqual(listed.sort());
  });
});

describe('detectPackageManager', () => {
  it.each([
    ['Debian 12', 'linux', DEBIAN_12, 'apt'],
    ['Ubuntu (ID_LIKE=debian)', 'linux', UBUNTU, 'apt'],
    ['Fedora', 'linux', FEDORA, 'dnf'],
    ['Rocky (quoted ID_LIKE with rhel)', 'linux', ROCKY, 'dnf'],
    ['macOS', 'darwin', undefined, 'brew'],
    ['an unknown Linux', 'linux', ARCH, null],
    ['Linux without /etc/os-release', 'linux', undefined, null],
    ['Windows', 'win32', undefined, null],
  ] as const)('detects the package manager of %s', (_name, platform, osRelease, manager) => {
    expect(detectPackageManager(platform, osRelease)).toBe(manager);
  });
});

describe('missingRequirements', () => {
  const list = requirements('x64');

  it('finds nothing missing where every command and file is present', () => {
    for (const manager of ['apt', 'dnf', 'brew'] as const) expect(missingRequirements(list, manager, probeWithout())).toEqual([]);
  });

  it('names a command that is not on PATH', () => {
    expect(missingRequirements(list, 'apt', probeWithout('pkcs11-tool')).map((r) => r.name)).toEqual(['pkcs11-tool']);
  });

  it('accepts any SoftHSM2 module path demo init accepts, and misses the module only when none exists', () => {
    const onlyFromSource = { hasCommand: (): boolean => true, hasFile: (file: string): boolean => file !== '/usr/lib/softhsm/libsofthsm2.so' };
    expect(missingRequirements(list, 'apt', onlyFromSource)).toEqual([]);
    expect(missingRequirements(list, 'apt', probeWithout(...SOFTHSM_MODULE_PATHS)).map((r) => r.name)).toEqual(['the SoftHSM2 module (libsofthsm2)']);
  });

  it("judges a file by this manager's path: Fedora's p11-kit-client.so does not satisfy Debian", () => {
    const fedoraLayout = probeWithout('/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so');
    expect(missingRequirements(list, 'apt', fedoraLayout).map((r) => r.name)).toEqual(['p11-kit-client.so']);
    expect(missingRequirements(list, 'dnf', fedoraLayout)).toEqual([]);
  });

  it('does not ask macOS for Xvfb (its windows need no X server)', () => {
    expect(missingRequirements(list, 'brew', probeWithout('Xvfb'))).toEqual([]);
    expect(missingRequirements(list, 'apt', probeWithout('Xvfb')).map((r) => r.name)).toEqual(['Xvfb']);
  });

  it('on an unknown OS, counts every requirement and accepts any known path', () => {
    expect(missingRequirements(list, null, probeWithout('/usr/lib/x86_64-linux-gnu/pkcs11/p11-kit-client.so'))).toEqual([]);
    expect(missingRequirements(list, null, probeWithout('Xvfb')).map((r) => r.name)).toEqual(['Xvfb']);
  });
});

describe('installCommands', () => {
  const list = requirements('x64');
  const missing = (manager: 'apt' | 'dnf' | 'brew', ...absent: string[]): Requirement[] => missingRequirements(list, manager, probeWithout(...absent));

  it('apt: updates the package lists, then installs each package once, with sudo when not root', () => {
    const softhsmGone = missing('apt', 'softhsm2-util', ...SOFTHSM_MODULE_PATHS, 'pkcs11-tool');
    expect(shellLine(installCommands('apt', softhsmGone, { asRoot: false }))).toBe('sudo apt-get update && sudo apt-get install -y --no-install-recommends softhsm2 opensc');
    expect(installCommands('apt', softhsmGone, { asRoot: true })).toEqual([
      ['apt-get', 'update'],
      ['apt-get', 'install', '-y', '--no-install-recommends', 'softhsm2', 'opensc'],
    ]);
  });

  it("apt: the whole list is the set CI installs on a bare machine (the build tools pkcs11js and the test modules need, the HSM stack, the secret-store tests' keyring)", () => {
    const everything = missingRequirements(list, 'apt', { hasCommand: () => false, hasFile: () => false });
    expect(installCommands('apt', everything, { asRoot: true })[1]?.slice(4).sort()).toEqual(['chromium', 'dbus', 'g++', 'gnome-keyring', 'libsecret-tools', 'make', 'opensc', 'p11-kit', 'p11-kit-modules', 'python3', 'softhsm2', 'xvfb']);
  });

  it('dnf: p11-kit-server once for the server and the client module', () => {
    const p11kitGone = missing('dnf', '/usr/libexec/p11-kit/p11-kit-server', '/usr/lib64/pkcs11/p11-kit-client.so');
    expect(installCommands('dnf', p11kitGone, { asRoot: false })).toEqual([['sudo', 'dnf', 'install', '-y', 'p11-kit-server']]);
  });

  it('brew: never sudo, and Chromium (no Homebrew package) is left out', () => {
    const gone = missing('brew', 'pkcs11-tool', '/usr/bin/chromium');
    expect(installCommands('brew', gone, { asRoot: false })).toEqual([['brew', 'install', 'opensc']]);
    expect(installCommands('brew', missing('brew', '/usr/bin/chromium'), { asRoot: false })).toEqual([]);
  });
});

describe('describeMissing', () => {
  const list = requirements('x64');

  it('names what is missing, what proves it, why it is needed and its package', () => {
    const [line] = describeMissing(missingRequirements(list, 'apt', probeWithout('pkcs11-tool')), 'apt');
    expect(line).toBe('  - pkcs11-tool (no pkcs11-tool on PATH): OpenSC: the independent peer the tests check results with; package opensc');
  });

  it('says why a requirement has no package on this OS', () => {
    const [line] = describeMissing(missingRequirements(list, 'brew', probeWithout('/usr/bin/chromium')), 'brew');
    expect(line).toContain('none of /usr/bin/chromium');
    expect(line).toContain('no macOS (Homebrew) package: the E2E tests run');
  });

  it('on an unknown OS, gives the package for each known manager', () => {
    const [line] = describeMissing(missingRequirements(list, null, probeWithout('Xvfb')), null);
    expect(line).toContain('Debian/Ubuntu (apt-get): xvfb; Fedora (dnf): xorg-x11-server-Xvfb');
  });
});

describe('nodeVersionProblem', () => {
  it.each(['20.19.0', '20.20.2', '22.12.0', '24.1.0'])('accepts Node %s for >=20.19', (version) => {
    expect(nodeVersionProblem('>=20.19', version)).toBeNull();
  });

  it.each(['20.18.3', '18.20.0', '19.99.0'])('refuses Node %s for >=20.19, naming the minimum', (version) => {
    expect(nodeVersionProblem('>=20.19', version)).toBe(`Node.js ${version} is too old: HSM Workbench needs Node.js 20.19 or newer (see README, Set up)`);
  });

  it('says so when engines.node is not a >= range it can read', () => {
    expect(nodeVersionProblem('^20.19 || >=22', '20.20.0')).toContain('expected ">=MAJOR.MINOR"');
  });
});
