import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CustomKeyStoreInfo } from '../../shared/contract/key-stores';
import { kmsuserPasswordContext } from '../../main/key-stores/key-store-records';
import { kmsuserPin } from '../../main/kmsuser/kmsuser-pin';
import { openSecretVault } from '../../main/secrets/secret-vault';
import { openStateStore, type WorkbenchState } from '../../main/state/state-store';
import { cli } from '../fixtures/cli';
import { activateCluster, makeClusterPki } from '../fixtures/cluster-pki';
import { auditOffset, auditSince, killAfterRecord, pkcs11ToolLogin, pointOf, tally, type AuditRecord } from '../fixtures/kill-points';
import { ok } from '../fixtures/outcomes';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { createTestWorkbench } from '../fixtures/workbench';

/**
 * kill -9 over connect-custom-key-store, which rotates kmsuser's password on every member under a journal.
 * Each kill lands right after the k-th audit record of the call (k cycling over every record a connect
 * writes) plus a few random ms; after it, describe must tell the truth, a fresh connect must log in to every
 * HSM with the password the workbench holds and say what it recovered, and every few runs pkcs11-tool checks
 * that password on every member.
 */

const RUNS = 50;
const WORKERS = 2;
const PEER_LOGIN_EVERY = 3;
const JITTER_MS = 6;
const PASSWORD = 'kmsuser-kill-1';
/** The records of a connect, in order: the call's own two, then the background connection's journal. */
const POINTS = ['Started', 'Completed', 'LoginKmsuser', 'SavePendingPassword', 'RotateKmsuserPassword HSM 1', 'RotateKmsuserPassword HSM 2', 'CommitPassword', 'ConnectionSettled'] as const;

const BASE = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  await Promise.all(cleanups.map((c) => c()));
});

interface Bench {
  stateDir: string;
  hsm: SoftHsmCluster;
  storeId: string;
  hsmIds: string[];
}

/** A two-token ACTIVE cluster and a DISCONNECTED key store on it, in a state directory of its own. */
async function bench(name: string): Promise<Bench> {
  const hsm = await createSoftHsmCluster({ tokens: 2, userPin: PASSWORD, labelPrefix: name, inMemory: true });
  const stateDir = await mkdtemp(join(BASE, 'hsm-workbench-ks-kill-'));
  cleanups.push(() => hsm.cleanup(), () => rm(stateDir, { recursive: true, force: true }));
  const wb = await createTestWorkbench({ stateDir });
  try {
    const pki = await makeClusterPki();
    const Hsms = hsm.tokens.map((t) => ({ TokenSerial: t.serial }));
    const cluster = ok(await wb.call('CreateCluster', { ClusterName: name, ModulePath: hsm.modulePath, ModuleEnvironment: hsm.env, Hsms })).Cluster;
    const clusterId = cluster.ClusterId;
    await wb.editState((s) => activateCluster(s, clusterId, pki));
    const created = ok(await wb.call('CreateCustomKeyStore', { CustomKeyStoreName: name, CloudHsmClusterId: clusterId, TrustAnchorCertificate: pki.trustAnchor, KeyStorePassword: PASSWORD }));
    return { stateDir, hsm, storeId: created.CustomKeyStoreId, hsmIds: cluster.Hsms.map((m) => m.HsmId) };
  } finally {
    await wb.core.dispose();
  }
}

const kms = (b: Bench, command: string): string[] => ['--output', 'json', 'kms', command, '--custom-key-store-id', b.storeId];

async function describeStore(b: Bench): Promise<CustomKeyStoreInfo> {
  const run = await cli(b.stateDir, kms(b, 'describe-custom-key-stores'));
  expect(run.code, run.stderr).toBe(0);
  const [store] = (JSON.parse(run.stdout) as { CustomKeyStores: CustomKeyStoreInfo[] }).CustomKeyStores;
  if (store === undefined) throw new Error('describe returned no store');
  return store;
}

async function readState(b: Bench): Promise<WorkbenchState> {
  return (await openStateStore({ stateDir: b.stateDir, program: 'test' })).read();
}

/** The password the workbench holds as current, read through its own vault in this process (never from the product's output). */
async function currentPassword(b: Bench): Promise<string> {
  const store = (await readState(b)).customKeyStores.find((k) => k.CustomKeyStoreId === b.storeId);
  if (store?.KmsuserPassword === undefined) throw new Error('the store holds no password');
  return (await openSecretVault({ stateDir: b.stateDir })).open(store.KmsuserPassword, kmsuserPasswordContext(b.storeId));
}

async function expectPeerLogins(b: Bench): Promise<void> {
  const state = await readState(b);
  const cluster = state.clusters[0];
  if (cluster === undefined) throw new Error('no cluster');
  const pin = kmsuserPin(cluster.LoginFormat, await currentPassword(b));
  for (const token of b.hsm.tokens) expect(await pkcs11ToolLogin(b.hsm, token.serial, pin), `pkcs11-tool login on ${token.label} with the workbench's current password`).toBe(true);
}

const call = async (b: Bench, command: string): Promise<void> => {
  const run = await cli(b.stateDir, kms(b, command));
  expect(run.code, `${command}: ${run.stderr}`).toBe(0);
};

interface RunFigures {
  point: string;
  recovered: boolean;
  stateAfterKill: string;
}

async function killedConnect(b: Bench, run: number): Promise<RunFigures> {
  const k = (run % POINTS.length) + 1;
  const { run: killed, records } = await killAfterRecord(b.stateDir, kms(b, 'connect-custom-key-store'), '', k, Math.random() * JITTER_MS);
  const mine = records.filter((r) => r.eventName === 'ConnectCustomKeyStore');
  const point = killed.signal === null ? 'finished before the kill' : (mine.length === 0 ? 'before Started' : pointOf(mine.at(-1) as AuditRecord, b.hsmIds));
  if (killed.signal === null) expect(killed.code, killed.stderr).toBe(0);
  else expect(killed.signal).toBe('SIGKILL');

  // (b) describe tells the truth: never CONNECTED unless the HSMs accept the password it holds.
  const after = await describeStore(b);
  const settled = mine.some((r) => pointOf(r) === 'ConnectionSettled');
  const started = mine.some((r) => pointOf(r) === 'Started');
  if (after.ConnectionState === 'CONNECTED') await expectPeerLogins(b);
  else if (after.ConnectionState === 'FAILED') expect(after.ConnectionErrorCode, 'a connect a kill interrupted').toBe('INTERNAL_ERROR');
  else expect(after.ConnectionState, 'DISCONNECTED only when the kill came before the call changed anything').toBe('DISCONNECTED');
  if (after.ConnectionState === 'DISCONNECTED') expect(mine.some((r) => pointOf(r) === 'Completed')).toBe(false);
  // (c) the audit log shows the interrupted operation: started, its connection journal not closed.
  if (killed.signal !== null) {
    expect(started, 'the killed connect is in the audit log').toBe(true);
    if (after.ConnectionState === 'CONNECTED') expect(mine.some((r) => pointOf(r) === 'CommitPassword'), 'CONNECTED only after the commit').toBe(true);
    else expect(settled, 'the connection journal of an interrupted connect is not closed').toBe(false);
  }
  const rotationLeft = (await readState(b)).customKeyStores[0]?.Rotation !== undefined;

  // (a) a fresh process logs in to every HSM with the password the workbench holds, and says what it recovered.
  if (after.ConnectionState !== 'DISCONNECTED') await call(b, 'disconnect-custom-key-store');
  const offset = await auditOffset(b.stateDir);
  // The CLI waits for the outcome: exit 0 means CONNECTED, after a login as kmsuser on every member.
  await call(b, 'connect-custom-key-store');
  const recovery = (await auditSince(b.stateDir, offset)).filter((r) => r.eventName === 'ConnectCustomKeyStore').map((r) => pointOf(r));
  expect(recovery.includes('RecoverKmsuserPasswordRotation'), 'the recovery is in the audit log exactly when a rotation was left').toBe(rotationLeft);
  expect(recovery.at(-1)).toBe('ConnectionSettled');
  if (rotationLeft) {
    const state = await readState(b);
    expect(state.customKeyStores[0]?.LastRecovery?.Message).toMatch(/interrupted at step .* was finished/);
  }
  if (run % PEER_LOGIN_EVERY === 0) await expectPeerLogins(b);
  await call(b, 'disconnect-custom-key-store');
  return { point, recovered: rotationLeft, stateAfterKill: after.ConnectionState };
}

describe('connect-custom-key-store under kill -9', () => {
  it(`leaves a store the next process can log in with, at ${RUNS} kills spread over every step of connect`, { timeout: 600_000 }, async () => {
    const t0 = Date.now();
    const benches = await Promise.all(Array.from({ length: WORKERS }, (_, i) => bench(`kill${i}`)));
    const figures: RunFigures[] = [];
    let next = 0;
    await Promise.all(
      benches.map(async (b) => {
        while (next < RUNS) figures.push(await killedConnect(b, next++));
      }),
    );

    const perPoint = tally(figures.map((f) => f.point));
    let failedLogins = 0;
    for (const b of benches) {
      for (const member of (await readState(b)).clusters[0]?.Hsms ?? []) failedLogins += member.Kmsuser?.FailedLoginsCaused ?? 0;
      const status = await cli(b.stateDir, ['--output', 'json', 'kmsuser', 'status', (await readState(b)).clusters[0]?.ClusterId ?? '']);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout, 'no member is locked').not.toContain('CKF_USER_PIN_LOCKED');
    }
    console.info(
      `key store connect kill -9 loop: ${figures.length} runs in ${Math.round((Date.now() - t0) / 1000)} s; kills per step ${JSON.stringify(perPoint)}; ` +
        `state after the kill ${JSON.stringify(tally(figures.map((f) => f.stateAfterKill)))}; rotations recovered ${figures.filter((f) => f.recovered).length}; ` +
        `failures 0; failed kmsuser logins the workbench caused ${failedLogins}; lockouts 0`,
    );
    expect(figures).toHaveLength(RUNS);
    // Every step of connect got kills; a loop whose kills all missed the rotation would prove nothing.
    for (const point of POINTS) expect(perPoint[point] ?? 0, `kills after ${point}`).toBeGreaterThan(0);
    expect(figures.filter((f) => f.recovered).length).toBeGreaterThan(0);
  });
});
