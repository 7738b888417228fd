import { createHsmHostPool } from '../../main/hsm/hsm-host-client';
import { createSoftHsmCluster } from '../fixtures/softhsm';
import { createSecretKeys, enumerateDirect, openDirectSession } from '../fixtures/token-objects';
import type { HsmHost } from '../../main/hsm/hsm-host';
import { interleave, median, type Benchmark, type BenchRow } from './harness';

const OBJECTS = 10_000;
/** Timed rounds after one warm-up round; the cases alternate within each round. */
const RUNS = 5;
const PAGE_SIZE = 1024;
const USER_PIN = 'bench-user-pin';
const NAME = `enumerate ${OBJECTS.toLocaleString('en')} objects (label, class, CKA_ID)`;

/**
 * Enumerating a token's objects, the shape of a key-handle scan: (a) pkcs11js called directly in this
 * process — the floor — and (b) through the HSM host, which moves pages over IPC from its child.
 * The token is made fresh for each run of the benchmark (on tmpfs: same SoftHSM file back end, no fsync).
 */
export function enumerateObjects(childEntry: string): Benchmark {
  return {
    name: NAME,
    async run(): Promise<BenchRow[]> {
      const cluster = await createSoftHsmCluster({ tokens: 1, userPin: USER_PIN, labelPrefix: 'bench', inMemory: true });
      const pool = createHsmHostPool({ childEntry, defaultTimeoutMs: 60_000 });
      try {
        const slotId = cluster.tokens[0]?.slotId ?? '';
        const rows: BenchRow[] = [];
        const creator = openDirectSession(cluster.modulePath, cluster.env, slotId, USER_PIN);
        try {
          const createStart = performance.now();
          createSecretKeys(creator, OBJECTS, { labelPrefix: 'arn:aws:kms:local-1:111122223333:key/bench' });
          rows.push({ benchmark: NAME, case: 'setup: C_CreateObject × 10,000 (tmpfs)', medianMs: performance.now() - createStart, note: 'one run; not compared' });
        } finally {
          creator.close();
        }

        // The floor starts from a freshly initialised module, as the host's child does (not the creator's warm state).
        const direct = openDirectSession(cluster.modulePath, cluster.env, slotId, USER_PIN);
        try {

          const pageSizes = [256, PAGE_SIZE];
          const sessions: Array<{ pageSize: number; host: HsmHost; session: string }> = [];
          for (const pageSize of pageSizes) {
            // One host (child) per case: the extra variable only makes the pool key differ.
            const host = pool.get({ ModulePath: cluster.modulePath, ModuleEnvironment: { ...cluster.env, BENCH_CASE: String(pageSize) } });
            const session = await host.openSession(slotId);
            await host.login(session, 'USER', USER_PIN);
            sessions.push({ pageSize, host, session });
          }
          const [floor, ...hosted] = await interleave(RUNS, [
            {
              name: 'floor',
              fn: () => {
                const objects = enumerateDirect(direct, PAGE_SIZE);
                if (objects.length !== OBJECTS) throw new Error(`floor saw ${objects.length} objects`);
              },
            },
            ...sessions.map(({ host, session, pageSize }) => ({
              name: `host ${pageSize}`,
              monitorEventLoop: true,
              fn: async () => {
                const objects = await host.findObjects(session, { template: {}, attributes: ['label', 'class', 'id'], pageSize });
                if (objects.length !== OBJECTS) throw new Error(`host saw ${objects.length} objects`);
              },
            })),
          ]);
          const floorMs = median(floor?.samples ?? []);
          rows.push({ benchmark: NAME, case: '(a) pkcs11js in this process (floor)', medianMs: floorMs, note: `C_FindObjects ×${PAGE_SIZE}, C_GetAttributeValue per object` });
          for (const [i, { pageSize }] of sessions.entries()) {
            rows.push({
              benchmark: NAME,
              case: `(b) HSM host findObjects, pages of ${pageSize}`,
              medianMs: median(hosted[i]?.samples ?? []),
              floorMs,
              goalRatio: 1.3,
              maxEventLoopDelayMs: hosted[i]?.maxEventLoopDelayMs,
              note: `${Math.ceil(OBJECTS / pageSize)} page messages per run`,
            });
          }
        } finally {
          direct.close();
        }
        return rows;
      } finally {
        await pool.disposeAll();
        await cluster.cleanup();
      }
    },
  };
}
