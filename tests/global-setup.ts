import { execFileSync } from 'node:child_process';

/** Integration tests spawn the real bundled HSM host child, so build the Node entries first (esbuild: ~1 s). */
export default function setup(): void {
  execFileSync(process.execPath, ['scripts/build-node.mjs'], { stdio: 'inherit' });
}
