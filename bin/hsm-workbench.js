#!/usr/bin/env node
// The CLI is bundled by `npm run build:node`; this stub only points Node at the bundle.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/main/cli.js', import.meta.url);
if (!existsSync(bundle)) {
  process.stderr.write('hsm-workbench is not built yet: run `npm run build` in the project directory first.\n');
  process.exit(2);
}
const { runCli } = await import(bundle.href);
process.exitCode = await runCli(process.argv.slice(2));
