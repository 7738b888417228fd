import { execFileSync } from 'node:child_process';
import { buildFaultModule } from './fixtures/fault-module';

/**
 * Integration tests spawn the real bundled HSM host child, so build the Node entries first (esbuild: ~1 s).
 * The fault-injecting PKCS#11 module is compiled here once (a stat when its source is unchanged), so parallel
 * test files find it built instead of each compiling it.
 */
export default async function setup(): Promise<void> {
  execFileSync(process.execPath, ['scripts/build-node.mjs'], { stdio: 'inherit' });
  await buildFaultModule();
}
