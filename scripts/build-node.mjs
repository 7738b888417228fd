// Bundles the Node-side entry points with esbuild. tsc only type-checks (npm run typecheck):
// esbuild is fast enough to run before every test run, and it emits the single CommonJS file
// a sandboxed preload must be. Dependencies stay external (pkcs11js is a native addon).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

const esm = { format: 'esm', platform: 'node', target: 'node20', packages: 'external', bundle: true, sourcemap: true, logLevel: 'warning', absWorkingDir: root };

/** [entry, outfile] pairs; the HSM host child must sit beside whatever spawns it (dist/main). */
const nodeEntries = [
  ['main/cli/cli.ts', 'dist/main/cli.js'],
  ['main/hsm/hsm-host-child.ts', 'dist/main/hsm-host-child.js'],
  ['main/electron/electron-main.ts', 'dist/main/electron-main.js'],
  ['tests/bench/run.ts', 'dist/bench/run.js'],
  ['tests/fixtures/state-writer.ts', 'dist/tests/state-writer.js'],
  ['tests/fixtures/key-kill-child.ts', 'dist/tests/key-kill-child.js'],
];

await Promise.all([
  ...nodeEntries.map(([entry, outfile]) => build({ ...esm, entryPoints: [entry], outfile, external: ['electron'] })),
  // Sandboxed preloads cannot load ES modules or sibling files: one CommonJS file, only `electron` external.
  build({ ...esm, format: 'cjs', packages: undefined, entryPoints: ['preload/preload.ts'], outfile: 'dist/preload/preload.cjs', external: ['electron'] }),
]);
