import { open, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { journalLine } from '../../main/state/state-journal';
import { openStateStore, type StateStore } from '../../main/state/state-store';
import { cmkRecord } from '../fixtures/records';
import { interleave, median, type Benchmark, type BenchRow } from './harness';

const SIZES = [0, 10_000];
/** Timed rounds after one warm-up round; well below the journal's compaction threshold, which a long run amortises. */
const RUNS = 40;
const NAME = 'state transaction putting one CMK record';
const KEY_STORE = 'cks-0123456789abcdef0';
const CLUSTER = 'cluster-abcdefghijk';

/** A state directory holding `count` CMK records, its first (whole-snapshot) write behind it. */
async function seeded(count: number): Promise<{ dir: string; store: StateStore }> {
  const dir = await mkdtemp(join(tmpdir(), 'hsmwb-bench-state-'));
  const store = await openStateStore({ stateDir: dir, program: 'bench' });
  await store.transact((state) => {
    for (let i = 0; i < count; i += 1) state.keys.put(cmkRecord(KEY_STORE, CLUSTER));
  });
  return { dir, store };
}

/**
 * One state transaction that puts one CMK record (what CreateKey's commit does), at 0 and at 10,000 existing
 * CMKs, against the floor: one fdatasync'd append of the same bytes to a file in the same directory (open,
 * write, fdatasync, close — what the journal must do at least). The goal: the transaction costs the same at
 * both sizes, near the floor.
 */
export function stateTransaction(): Benchmark {
  return {
    name: NAME,
    async run(): Promise<BenchRow[]> {
      const states = await Promise.all(SIZES.map(seeded));
      const floorPath = join(states[0]?.dir ?? tmpdir(), 'floor.journal');
      const line = journalLine({ seq: 1, generation: 1, changes: { tables: { keys: [{ put: cmkRecord(KEY_STORE, CLUSTER) }] } } });
      try {
        const [floor, ...cases] = await interleave(RUNS, [
          {
            name: 'floor',
            fn: async () => {
              const handle = await open(floorPath, 'a', 0o600);
              try {
                await handle.write(line);
                await handle.datasync();
              } finally {
                await handle.close();
              }
            },
          },
          ...states.map(({ store }) => ({ name: 'transaction', fn: () => store.transact((state) => state.keys.put(cmkRecord(KEY_STORE, CLUSTER))) })),
        ]);
        const floorMs = median(floor?.samples ?? []);
        return [
          { benchmark: NAME, case: `floor: one fdatasync'd append of ${Buffer.byteLength(line)} bytes`, medianMs: floorMs },
          ...SIZES.map((size, i) => ({
            benchmark: NAME,
            case: `transaction at ${size.toLocaleString('en')} existing CMKs`,
            medianMs: median(cases[i]?.samples ?? []),
            floorMs,
            goalRatio: 1.5,
            note: 'lock + journal append + fdatasync',
          })),
        ];
      } finally {
        for (const { dir } of states) await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
