import { fileURLToPath } from 'node:url';
import { createKey } from './create-key';
import { cryptoThroughput } from './crypto';
import { enumerateObjects } from './enumerate-objects';
import { formatTable, goalsMet, type Benchmark, type BenchRow } from './harness';
import { listOutput } from './list-output';
import { stateTransaction } from './state-transaction';

/**
 * `npm run bench`: builds (dist/bench/run.js sits beside dist/main/), runs every benchmark and prints one
 * table. Ratios compare with floors measured in this same run. Add a benchmark: one file, one entry below.
 */
const childEntry = fileURLToPath(new URL('../main/hsm-host-child.js', import.meta.url));

const benchmarks: Benchmark[] = [enumerateObjects(childEntry), listOutput(), stateTransaction(), createKey(), cryptoThroughput(childEntry)];

// `npm run bench -- encrypt` runs only the benchmarks whose name contains one of the words given.
const only = process.argv.slice(2);
const rows: BenchRow[] = [];
for (const benchmark of benchmarks.filter((b) => only.length === 0 || only.some((word) => b.name.includes(word)))) {
  process.stdout.write(`running: ${benchmark.name}\n`);
  rows.push(...(await benchmark.run()));
}
process.stdout.write(`\n${formatTable(rows)}\n`);
process.stdout.write(`\nNode ${process.version}, ${process.platform}/${process.arch}. Goals ${goalsMet(rows) ? 'met' : 'MISSED'}.\n`);
