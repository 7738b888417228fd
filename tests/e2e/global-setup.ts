import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Newest modification time under the given paths (files or directories), in ms. */
function newestSource(paths: readonly string[]): number {
  let newest = 0;
  const visit = (path: string): void => {
    if (!existsSync(path)) return;
    const stat = statSync(path);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) visit(join(path, entry));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const path of paths) visit(join(root, path));
  return newest;
}

function isStale(output: string, sources: readonly string[]): boolean {
  const file = join(root, output);
  return !existsSync(file) || statSync(file).mtimeMs < newestSource(sources);
}

/**
 * The E2E needs the built renderer and the bundled HSM host child. `npm test` builds first;
 * a bare `npx playwright test` rebuilds here whatever is missing or older than its sources,
 * so a test never runs against yesterday's UI.
 */
export default function globalSetup(): void {
  if (isStale('dist/main/hsm-host-child.js', ['main', 'shared', 'scripts/build-node.mjs'])) {
    execFileSync(process.execPath, ['scripts/build-node.mjs'], { cwd: root, stdio: 'inherit' });
  }
  if (isStale('dist/renderer/index.html', ['renderer', 'shared', 'vite.config.ts'])) {
    execFileSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' });
  }
}
