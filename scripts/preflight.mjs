// `npm test` starts here: before any test runs, say what this machine lacks and the exact command that
// installs it, instead of letting the suite fail test by test. Exit 1 when something is missing.
// Dependency-free: it must work on a machine where nothing has been installed yet.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMissing, installCommands, missingRequirements, nodeVersionProblem, requirements, shellLine, thisMachine } from './system-packages.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const { engines } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

const problems = [];
const nodeProblem = nodeVersionProblem(engines.node);
if (nodeProblem) problems.push(nodeProblem);

// npm writes this file at the end of every install; without it, tsc, eslint and vitest are not there.
if (!existsSync(path.join(root, 'node_modules', '.package-lock.json'))) problems.push('The npm dependencies are not installed: run `npm run setup` (or `npm ci`).');

const { manager, asRoot, probe } = thisMachine();
const missing = missingRequirements(requirements(), manager, probe);
if (missing.length > 0) {
  // The same commands setup would run, so what is printed here is exactly what works.
  const commands = manager === null ? [] : installCommands(manager, missing, { asRoot });
  const how =
    manager === null
      ? 'This OS has no package manager setup knows (apt-get, dnf, Homebrew): install the packages above with yours.'
      : `${commands.length > 0 ? `Install with:\n  ${shellLine(commands)}\nor run \`npm run setup\`, which installs everything missing, then runs npm ci.` : ''}`;
  problems.push(['The tests need system packages this machine lacks:', ...describeMissing(missing, manager), how].filter(Boolean).join('\n'));
}

if (problems.length > 0) {
  process.stderr.write(`Preflight: the tests cannot run yet.\n\n${problems.join('\n\n')}\n`);
  process.exit(1);
}
process.stderr.write('Preflight: Node.js, npm dependencies and system packages are in place.\n');
