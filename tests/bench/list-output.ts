import { formatClusters, render } from '../../main/cli/output';
import { clusterInfo } from '../fixtures/records';
import { interleave, median, type Benchmark, type BenchRow } from './harness';

const RECORDS = 10_000;
const RUNS = 5;
const NAME = `hsm-workbench cluster list, ${RECORDS.toLocaleString('en')} records`;

/**
 * What `cluster list` prints for 10,000 records (keys, aliases and audit records will be listed the same
 * way): the table, against the floor of the JSON the same command prints with `--output json`. Both go
 * through the output boundary (terminal-safe copy, escaping) as the CLI does. No HSM is involved.
 */
export function listOutput(): Benchmark {
  return {
    name: NAME,
    async run(): Promise<BenchRow[]> {
      const value = { Clusters: Array.from({ length: RECORDS }, (_, i) => clusterInfo(`cluster-${i}`)) };
      const table = (): string => render(value, 'table', (safe) => formatClusters(safe.Clusters));
      const json = (): string => render(value, 'json', (safe) => formatClusters(safe.Clusters));
      const [floor, text] = await interleave(RUNS, [
        { name: 'json', fn: json },
        { name: 'table', fn: table },
      ]);
      const floorMs = median(floor?.samples ?? []);
      return [
        { benchmark: NAME, case: '(a) --output json (floor)', medianMs: floorMs },
        // cli-table3 took ≈6 s here (≈30 s for 20,000); the table is one pass over the cells.
        { benchmark: NAME, case: '(b) table', medianMs: median(text?.samples ?? []), floorMs, goalRatio: 10, note: `${(2 * RECORDS + 3).toLocaleString('en')} lines` },
      ];
    },
  };
}
