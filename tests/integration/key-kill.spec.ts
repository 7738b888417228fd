import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openStateStore, type WorkbenchState } from '../../main/state/state-store';
import { connect, kmsuserPinOf } from '../fixtures/cmk';
import { tally } from '../fixtures/kill-points';
import { ok } from '../fixtures/outcomes';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import type { KillJob, Recovery } from '../fixtures/key-kill-child';
import { createTestWorkbench } from '../fixtures/workbench';

/**
 * kill -9 over CreateKey and over the deletion executor, on a real CONNECTED two-token SoftHSM cluster. A child
 * process (tests/fixtures/key-kill-child.ts) runs the operation and freezes at the k-th of its effects — each HSM
 * host call and each fsync (state journal, audit log), once before and once after it — where this process kills
 * it with SIGKILL. Then a fresh workbench process recovers — each point once by each of two product paths that
 * reconcile: RunDeletions, and a reconnect of the store (disconnect, connect, CONNECTED: the connect's afterConnected
 * runs the creation reconciler) — and the independent peer (pkcs11-tool, logged in as
 * kmsuser on EACH token, with the password as it is now: a connect rotates it) lists the secret keys, checked against the state: every key labelled with a CMK ARN is
 * named by its CMK (that HSM in BackingKeys) or by an orphan record naming that HSM, every CMK not Creating has
 * its material on each HSM it names (or a MaterialIssue saying otherwise), and no CMK stays Creating. A deletion
 * killed mid-way and recovered by a reconnect (which deletes nothing) is explained by its orphan records alone.
 * Each run starts from the same prepared tokens and state (copied back), so a point means the same effect each run.
 */

const PASSWORD = 'kmsuser-kill-1';
const WORKERS = 2;
/** The issue's floor: at least this many kills must land inside the two operations. */
const MIN_KILLS = 100;
/** The clock of the setup (ScheduleKeyDeletion) and of the runs that find the deletion due. */
const T0 = new Date('2026-06-01T12:00:00.000Z');
const DUE_RUN = new Date(T0.getTime() + 8 * 86_400_000).toISOString();
const CHILD = fileURLToPath(new URL('../../dist/tests/key-kill-child.js', import.meta.url));
const BASE = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const ARN = /^arn:aws:kms:[^:]+:\d+:key\/[0-9a-f-]{36}$/;

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(cleanups.map((c) => c()));
});

type Op = 'create' | 'delete';

interface Bench {
  hsm: SoftHsmCluster;
  stateDir: string;
  storeId: string;
  /** HSM id of each token, by token index. */
  hsmIds: string[];
  snapshot: { state: string; tokens: string };
}

/**
 * One worker's bench: an INITIALIZED two-token cluster (member keys and trust mesh made by InitializeCluster), a
 * CONNECTED store on it, one Enabled CMK (a bystander every run must leave alone) and one CMK whose deletion is
 * due at DUE_RUN — then a copy of its tokens and state to start every run from.
 */
async function bench(name: string): Promise<Bench> {
  const hsm = await createSoftHsmCluster({ tokens: 2, userPin: PASSWORD, labelPrefix: name, inMemory: true });
  const stateDir = await mkdtemp(join(BASE, 'hsm-workbench-key-kill-'));
  const snapshotDir = await mkdtemp(join(BASE, 'hsm-workbench-key-kill-snap-'));
  cleanups.push(() => hsm.cleanup(), () => rm(stateDir, { recursive: true, force: true }), () => rm(snapshotDir, { recursive: true, force: true }));
  const wb = await createTestWorkbench({ stateDir, clock: () => T0 });
  let storeId: string;
  let hsmIds: string[];
  try {
    const created = ok(await wb.call('CreateCluster', { ClusterName: name, ModulePath: hsm.modulePath, ModuleEnvironment: hsm.env, Hsms: hsm.tokens.map((t) => ({ TokenSerial: t.serial })) })).Cluster;
    const cluster = ok(await wb.call('InitializeCluster', { ClusterId: created.ClusterId, DemoCa: true, SoPin: hsm.soPin, KmsuserPassword: PASSWORD })).Cluster;
    hsmIds = hsm.tokens.map((t) => cluster.Hsms.find((m) => m.TokenSerial === t.serial)?.HsmId ?? '');
    const trustAnchor = (await readState(stateDir)).clusters[0]?.Certificates?.TrustAnchorCertificate ?? '';
    storeId = ok(await wb.call('CreateCustomKeyStore', { CustomKeyStoreName: name, CloudHsmClusterId: cluster.ClusterId, TrustAnchorCertificate: trustAnchor, KeyStorePassword: PASSWORD })).CustomKeyStoreId;
    await connect(wb, storeId);
    ok(await wb.call('CreateKey', { Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId, Description: 'bystander' }));
    const doomed = ok(await wb.call('CreateKey', { Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId, Description: 'to be deleted' })).KeyMetadata;
    ok(await wb.call('ScheduleKeyDeletion', { KeyId: doomed.KeyId, PendingWindowInDays: 7 }));
  } finally {
    await wb.core.dispose();
  }
  const snapshot = { state: join(snapshotDir, 'state'), tokens: join(snapshotDir, 'tokens') };
  await cp(stateDir, snapshot.state, { recursive: true });
  await cp(join(hsm.dir, 'tokens'), snapshot.tokens, { recursive: true });
  return { hsm, stateDir, storeId, hsmIds, snapshot };
}

async function reset(b: Bench): Promise<void> {
  const tokens = join(b.hsm.dir, 'tokens');
  await Promise.all([rm(b.stateDir, { recursive: true, force: true }), rm(tokens, { recursive: true, force: true })]);
  await Promise.all([cp(b.snapshot.state, b.stateDir, { recursive: true }), cp(b.snapshot.tokens, tokens, { recursive: true })]);
}

function readState(stateDir: string): Promise<WorkbenchState> {
  return openStateStore({ stateDir, program: 'test' }).then((s) => s.read());
}

interface JobRun {
  /** Every point the job reached, in order (a probe: all of them). */
  points: string[];
  /** The point it froze at and was killed at, when it was. */
  killedAt?: string;
  signal: NodeJS.Signals | null;
  result?: { ok: boolean; error?: { name: string; message: string } };
}

interface Driver {
  /** Runs one job; settles when it is done or when the kill it asked for ended the process (and its HSM hosts). */
  job(job: KillJob): Promise<JobRun>;
  close(): void;
}

const pidAlive = (pid: number): boolean => existsSync(`/proc/${pid}`);

/** The HSM host children of `pid`, so a kill can wait for them to go (they end when their parent's pipe closes). */
async function childrenOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  return text.split(' ').filter((s) => s.trim() !== '').map(Number);
}

/** Starts a driver process (its modules load while the caller does other work); it makes a core per job. */
function startDriver(b: Bench): Driver {
  const child = spawn(process.execPath, [CHILD, b.stateDir, b.storeId, b.hsm.tokens.map((t) => t.slotId).join(',')], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...b.hsm.env } });
  let current: { run: JobRun; resolve: (run: JobRun) => void; reject: (error: Error) => void } | undefined;
  let buffered = '';
  let stderr = '';
  let hosts: Promise<number[]> = Promise.resolve([]);
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buffered += d.toString();
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const message = JSON.parse(line) as { point?: string; frozen?: string; done?: boolean; result?: JobRun['result']; error?: { name: string; message: string } };
      if (current === undefined) continue;
      if (message.point !== undefined) current.run.points.push(message.point);
      if (message.frozen !== undefined && child.pid !== undefined) {
        current.run.killedAt = message.frozen;
        const pid = child.pid;
        hosts = childrenOf(pid).then((pids) => {
          child.kill('SIGKILL');
          return pids;
        });
      }
      if (message.done === true) {
        const done = current;
        current = undefined;
        if (message.error !== undefined) done.reject(new Error(`driver job failed: ${message.error.name}: ${message.error.message}`));
        else done.resolve({ ...done.run, result: message.result });
      }
    }
  });
  child.on('close', (code, signal) => {
    const ended = current;
    current = undefined;
    if (ended === undefined) return;
    void (async () => {
      const pids = await hosts;
      for (let i = 0; i < 500 && pids.some(pidAlive); i += 1) await new Promise((r) => setTimeout(r, 10));
      if (signal === 'SIGKILL' && ended.run.killedAt !== undefined) ended.resolve({ ...ended.run, signal });
      else ended.reject(new Error(`driver ended (${String(code ?? signal)}) during a job: ${stderr}`));
    })();
  });
  return {
    job: (job) =>
      new Promise((resolve, reject) => {
        current = { run: { points: [], signal: null }, resolve, reject };
        child.stdin.write(`${JSON.stringify(job)}\n`);
      }),
    close: () => child.stdin.end(),
  };
}

/** The secret keys labelled with a CMK ARN that pkcs11-tool lists on token `index`, logged in as kmsuser with `pin`. */
async function peerArns(b: Bench, index: number, pin: string): Promise<string[]> {
  const token = b.hsm.tokens[index];
  const { stdout } = await promisify(execFile)('pkcs11-tool', ['--module', b.hsm.modulePath, '--slot', token?.slotId ?? '', '--login', '--pin', pin, '--list-objects', '--type', 'secrkey'], { env: { ...process.env, ...b.hsm.env } });
  return stdout
    .split('\n')
    .map((line) => /^\s*label:\s+(.*)$/.exec(line)?.[1]?.trim() ?? '')
    .filter((label) => ARN.test(label));
}

/**
 * What the peer sees against what the state says; each entry is one violation, in words. Either recovery reconciles
 * (main/keys/creation-reconciler.ts: RunDeletions first, a connect once CONNECTED), so no Creating CMK may be left:
 * its owner is dead.
 */
async function check(b: Bench): Promise<{ violations: string[]; creatingLeft: number }> {
  const s = await readState(b.stateDir);
  const violations: string[] = [];
  const pin = await kmsuserPinOf({ stateDir: b.stateDir }, b.storeId);
  const onToken = await Promise.all(b.hsm.tokens.map((_, i) => peerArns(b, i, pin)));
  const keys = [...s.keys.values()];
  const orphans = [...s.orphans.values()];
  const creating = keys.filter((k) => k.KeyState === 'Creating');
  b.hsmIds.forEach((hsmId, index) => {
    for (const arn of onToken[index] ?? []) {
      const key = keys.find((k) => k.Arn === arn);
      const named = key !== undefined && key.KeyState !== 'Creating' && key.BackingKeys.some((bk) => bk.HsmId === hsmId);
      const byOrphan = orphans.some((o) => o.Arn === arn && o.HsmIds.includes(hsmId));
      if (!named && !byOrphan) violations.push(`${hsmId} holds ${arn}, named by ${key === undefined ? 'no CMK' : `a ${key.KeyState} CMK not naming it`} and no orphan record`);
    }
  });
  for (const key of creating) violations.push(`${key.KeyId} is still Creating after recovery (its owner is dead)`);
  for (const key of keys) {
    if (key.KeyState === 'Creating') continue;
    for (const backing of key.BackingKeys) {
      const present = (onToken[b.hsmIds.indexOf(backing.HsmId)] ?? []).includes(key.Arn);
      if (!present && !(key.MaterialIssue?.HsmIds.includes(backing.HsmId) ?? false)) violations.push(`${key.KeyId} (${key.KeyState}) names ${backing.HsmId}, which holds no material of it, and no MaterialIssue says so`);
    }
  }
  return { violations, creatingLeft: creating.length };
}

interface Figures {
  op: Op;
  via: Recovery;
  point: string;
  landed: boolean;
  violations: string[];
  creatingLeft: number;
}

/** The points worth a kill: the HSM calls that find, make, copy, prove or destroy material, every fsync and every audit record's write (the logins before them are connect's, tested by key-store-kill). */
const KILL_POINTS = /^(before|after) ((generateKey|findObjects|wrapKey|unwrapKey|encrypt|destroyObject) HSM \d|f(data)?sync |write audit record)/;
/** The clock of each operation's runs: CreateKey before the deletion is due (recovery must not delete the doomed CMK), a deletion after. */
/** Where a run's time goes, for the summary. */
const PHASES = ['reset', 'kill', 'recover', 'check'] as const;
const CLOCK: Record<Op, string> = { create: T0.toISOString(), delete: DUE_RUN };

/** The product paths a fresh process recovers by; each kill point is run once under each. */
const RECOVERIES: readonly Recovery[] = ['run-deletions', 'reconnect'];

interface PlannedKill {
  op: Op;
  label: string;
  nth: number;
  via: Recovery;
}

/** Every point of a probe run that KILL_POINTS selects, with its occurrence number (the same label recurs: one fsync per audit record), under each recovery. */
function killPlan(op: Op, points: readonly string[]): PlannedKill[] {
  const nth = new Map<string, number>();
  return points.flatMap((label) => {
    nth.set(label, (nth.get(label) ?? 0) + 1);
    return KILL_POINTS.test(label) ? RECOVERIES.map((via) => ({ op, label, nth: nth.get(label) ?? 1, via })) : [];
  });
}

describe('CMK creation and deletion under kill -9', () => {
  it('leaves every key on every HSM explained after a kill at every step of CreateKey and of a due deletion', { timeout: 1_200_000 }, async () => {
    const t0 = Date.now();
    const benches = await Promise.all(Array.from({ length: WORKERS }, (_, i) => bench(`kk${i}`)));
    const setupMs = Date.now() - t0;
    const [first] = benches;
    if (first === undefined) throw new Error('no bench');
    // A probe of each operation, unkilled, lists its points; then one kill at each selected point, spread over the workers.
    const plan: PlannedKill[] = [];
    const probe = startDriver(first);
    for (const op of ['create', 'delete'] as const) {
      await reset(first);
      const run = await probe.job({ op, clock: CLOCK[op] });
      expect(run.result?.ok, `${op} probe: ${JSON.stringify(run.result?.error)}`).toBe(true);
      plan.push(...killPlan(op, run.points));
    }
    probe.close();

    const figures: Figures[] = [];
    const phaseMs: Record<(typeof PHASES)[number], number> = { reset: 0, kill: 0, recover: 0, check: 0 };
    let next = 0;
    await Promise.all(
      benches.map(async (b) => {
        let driver = startDriver(b);
        for (let item = plan[next++]; item !== undefined; item = plan[next++]) {
          const { op, label, nth, via } = item;
          const t = [Date.now()];
          await reset(b);
          t.push(Date.now());
          // The next process is started (its modules load) while this one runs; it recovers, as a fresh process would.
          const fresh = startDriver(b);
          const killed = await driver.job({ op, clock: CLOCK[op], killAt: { label, nth } });
          if (killed.signal === null) driver.close();
          driver = fresh;
          t.push(Date.now());
          ok((await driver.job({ op: 'recover', via, clock: CLOCK[op] })).result as never);
          t.push(Date.now());
          figures.push({ op, via, point: `${label} #${nth}`, landed: killed.signal === 'SIGKILL' && killed.killedAt === label, ...(await check(b)) });
          PHASES.forEach((phase, i) => (phaseMs[phase] += (t[i + 1] ?? Date.now()) - (t[i] ?? 0)));
        }
        driver.close();
      }),
    );
    const all = figures.flatMap((f) => f.violations.map((v) => `${f.op} @ ${f.point} (recovered by ${f.via}): ${v}`));
    const landed = (op: Op, via?: Recovery): number => figures.filter((f) => f.landed && f.op === op && (via === undefined || f.via === via)).length;
    const perRecovery = RECOVERIES.map((via) => {
      const own = figures.filter((f) => f.via === via);
      return `${via}: ${landed('create', via) + landed('delete', via)} kills (create-key ${landed('create', via)}, deletion ${landed('delete', via)}), violations ${own.reduce((n, f) => n + f.violations.length, 0)}, Creating left ${own.reduce((n, f) => n + f.creatingLeft, 0)}`;
    });
    console.info(
      `CMK kill -9: ${figures.length} runs in ${Math.round((Date.now() - t0) / 1000)} s (setup ${Math.round(setupMs / 1000)} s); ` +
        `kills landed mid-operation ${landed('create') + landed('delete')} (create-key ${landed('create')}, deletion ${landed('delete')}); violations ${all.length}; Creating CMKs left ${figures.reduce((n, f) => n + f.creatingLeft, 0)}; by recovery [${perRecovery.join('; ')}]; ` +
        `mean ms per run ${JSON.stringify(Object.fromEntries(PHASES.map((p) => [p, Math.round(phaseMs[p] / figures.length)])))}; kills per step ${JSON.stringify(tally(figures.map((f) => `${f.op} ${f.point.replace(/ #\d+$/, '')}`)))}`,
    );
    expect(all).toEqual([]);
    expect(figures).toHaveLength(plan.length);
    // Every planned kill landed where it was aimed: a loop whose kills missed the operation would prove nothing.
    expect(landed('create')).toBe(plan.filter((p) => p.op === 'create').length);
    expect(landed('delete')).toBe(plan.filter((p) => p.op === 'delete').length);
    // Each point under each recovery: the floor is met by distinct (point, recovery) runs, not by repeats.
    for (const via of RECOVERIES) expect(landed('create', via) + landed('delete', via), `kills recovered by ${via}`).toBe(plan.length / RECOVERIES.length);
    expect(landed('create') + landed('delete')).toBeGreaterThanOrEqual(MIN_KILLS);
    for (const step of ['generateKey HSM 1', 'wrapKey HSM 1', 'unwrapKey HSM 2', 'encrypt HSM 1', 'encrypt HSM 2', 'destroyObject HSM 1', 'destroyObject HSM 2', 'fsync audit record']) {
      expect(figures.some((f) => f.landed && f.point.includes(step)), `a kill at ${step}`).toBe(true);
    }
  });
});
