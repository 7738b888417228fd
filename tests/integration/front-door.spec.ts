import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installCommands, missingRequirements, requirements, shellLine, thisMachine } from '../../scripts/system-packages.mjs';

/**
 * The README's two commands, run for real on this machine: `npm test` starts with scripts/preflight.mjs and
 * `npm run setup` is scripts/setup.mjs (only as a dry run here: a real one would reinstall node_modules).
 * A binary is "uninstalled" by a PATH that holds every other command the list asks for, and nothing else.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const HIDDEN = 'pkcs11-tool';

interface ScriptRun {
  code: number;
  stderr: string;
}

function runScript(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<ScriptRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(root, 'scripts', script), ...args], { cwd: root, env }, (error, _stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stderr });
    });
  });
}

/** Where `command` is on this machine's PATH. */
function which(command: string): string {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  throw new Error(`${command} is not on PATH: the preflight should have said so`);
}

describe('the front door: preflight and setup on this machine', () => {
  let pathDir: string;
  let hiddenPath: NodeJS.ProcessEnv;

  beforeAll(() => {
    pathDir = mkdtempSync(path.join(tmpdir(), 'hsm-workbench-path-'));
    const commands = requirements().flatMap((requirement) => (requirement.command !== undefined && requirement.command !== HIDDEN ? [requirement.command] : []));
    for (const command of commands) symlinkSync(which(command), path.join(pathDir, command));
    hiddenPath = { ...process.env, PATH: pathDir };
  });

  afterAll(() => {
    rmSync(pathDir, { recursive: true, force: true });
  });

  it('npm test runs the preflight before anything else', async () => {
    const pkg = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts['test']).toMatch(/^node scripts\/preflight\.mjs && /);
  });

  it('passes where every system package is installed', async () => {
    const run = await runScript('preflight.mjs', [], process.env);
    expect(run).toEqual({ code: 0, stderr: 'Preflight: Node.js, npm dependencies and system packages are in place.\n' });
  });

  it('names a missing binary and the exact command that installs it, and exits 1', async () => {
    const { manager, asRoot } = thisMachine();
    if (manager === null) throw new Error('this test expects a machine with apt-get, dnf or Homebrew');
    const expected = shellLine(installCommands(manager, missingRequirements(requirements(), manager, { hasCommand: (c) => c !== HIDDEN, hasFile: () => true }), { asRoot }));
    const run = await runScript('preflight.mjs', [], hiddenPath);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`- pkcs11-tool (no pkcs11-tool on PATH)`);
    expect(run.stderr).toContain(`Install with:\n  ${expected}\n`);
    if (manager === 'apt') expect(expected).toMatch(/apt-get install -y --no-install-recommends opensc$/);
  });

  it('setup --dry-run shows the package install it would run (sudo only when not root), then npm ci, and changes nothing', async () => {
    const { manager, asRoot } = thisMachine();
    const run = await runScript('setup.mjs', ['--dry-run', '--ci'], hiddenPath);
    expect(run.code).toBe(0);
    const sudo = asRoot || manager === 'brew' ? '' : 'sudo ';
    if (manager === 'apt') expect(run.stderr).toContain(`$ ${sudo}apt-get update\n$ ${sudo}apt-get install -y --no-install-recommends opensc\n$ npm ci --no-audit --no-fund\nDry run: nothing was changed.`);
  });

  it('setup asks for nothing when nothing is missing', async () => {
    const run = await runScript('setup.mjs', ['--dry-run'], process.env);
    expect(run).toEqual({ code: 0, stderr: 'System packages: all present.\n$ npm ci --no-audit --no-fund\nDry run: nothing was changed.\n' });
  });

  it('setup refuses an unknown option (exit 2) and says which it takes', async () => {
    const run = await runScript('setup.mjs', ['--yes'], process.env);
    expect(run).toEqual({ code: 2, stderr: 'Setup stopped: Unknown option --yes. Options: --ci, --dry-run.\n' });
  });
});
