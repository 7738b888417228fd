import { monitorEventLoopDelay } from 'node:perf_hooks';

/**
 * A small benchmark harness: each benchmark (one file each) returns rows for one shared table, with
 * its ratio measured against a floor taken in the same run (never against numbers from another day).
 */
export interface BenchRow {
  /** Which benchmark and which case, e.g. "enumerate 10,000 objects · raw pkcs11js". */
  benchmark: string;
  case: string;
  medianMs: number;
  /** The floor this case is compared with (its own median); absent for the floor itself and for setup rows. */
  floorMs?: number;
  /** Highest acceptable ratio to the floor. */
  goalRatio?: number;
  /** Longest delay of the main event loop while the case ran, if measured. */
  maxEventLoopDelayMs?: number;
  note?: string;
}

export interface Benchmark {
  name: string;
  run(): Promise<BenchRow[]>;
}

export function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

export interface BenchCase {
  name: string;
  fn: () => unknown;
  /** Sample the main event loop while this case runs. */
  monitorEventLoop?: boolean;
}

/**
 * Runs the cases round-robin — one warm-up round, then `rounds` timed rounds — so drift (caches, CPU
 * clock, heap growth) falls on every case alike instead of on whichever ran last.
 */
export async function interleave(rounds: number, cases: readonly BenchCase[]): Promise<Array<{ samples: number[]; maxEventLoopDelayMs?: number }>> {
  const results = cases.map((c) => ({ samples: [] as number[], maxDelayMs: c.monitorEventLoop ? 0 : undefined }));
  for (let round = 0; round <= rounds; round++) {
    for (const [i, c] of cases.entries()) {
      const result = results[i];
      // Let the loop settle (the previous case may have blocked it) before sampling this one.
      await new Promise((resolve) => setImmediate(resolve));
      // A fresh histogram per run: a re-enabled one would count the time it was disabled as delay.
      const histogram = c.monitorEventLoop ? monitorEventLoopDelay({ resolution: 10 }) : undefined;
      histogram?.enable();
      const start = performance.now();
      await c.fn();
      const elapsed = performance.now() - start;
      histogram?.disable();
      if (round === 0 || !result) continue;
      result.samples.push(elapsed);
      if (histogram && result.maxDelayMs !== undefined) result.maxDelayMs = Math.max(result.maxDelayMs, histogram.max / 1e6);
    }
  }
  return results.map((r) => (r.maxDelayMs === undefined ? { samples: r.samples } : { samples: r.samples, maxEventLoopDelayMs: r.maxDelayMs }));
}

export function ratio(row: BenchRow): number | undefined {
  return row.floorMs === undefined ? undefined : row.medianMs / row.floorMs;
}

/** True when every row with a goal meets it. */
export function goalsMet(rows: readonly BenchRow[]): boolean {
  return rows.every((row) => row.goalRatio === undefined || (ratio(row) ?? Infinity) <= row.goalRatio);
}

export function formatTable(rows: readonly BenchRow[]): string {
  const header = ['benchmark', 'case', 'median ms', 'ratio to floor', 'goal', 'main loop max delay', 'note'];
  const cells = rows.map((row) => {
    const r = ratio(row);
    return [
      row.benchmark,
      row.case,
      row.medianMs.toFixed(1),
      r === undefined ? '—' : `${r.toFixed(2)}×`,
      row.goalRatio === undefined ? '—' : `≤ ${row.goalRatio}× ${r !== undefined && r <= row.goalRatio ? 'met' : 'MISSED'}`,
      row.maxEventLoopDelayMs === undefined ? '—' : `${row.maxEventLoopDelayMs.toFixed(1)} ms`,
      row.note ?? '',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]): string => `| ${c.map((v, i) => (i >= 2 && i <= 5 ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}
