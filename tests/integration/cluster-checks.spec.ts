import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckClusterProgress, CheckResult, ClusterCheckReport } from '../../shared/contract/checks';
import { buildBrokenModules } from '../fixtures/broken-modules';
import { startP11KitServer, type P11KitServer } from '../fixtures/p11kit-server';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { ok } from '../fixtures/outcomes';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';

const KMSUSER_PASSWORD = 'kmsuser-pass-1';

function check(report: ClusterCheckReport, id: string, hsmIndex?: number): CheckResult {
  const hsmIds = [...new Set(report.Checks.map((c) => c.HsmId).filter((h): h is string => h !== null))];
  const hsmId = hsmIndex === undefined ? null : hsmIds[hsmIndex];
  const found = report.Checks.find((c) => c.CheckId === id && c.HsmId === hsmId);
  if (!found) throw new Error(`no check ${id} for HSM #${hsmIndex ?? '-'} in ${report.Checks.map((c) => c.CheckId).join(', ')}`);
  return found;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(tokens: number, userPin: string | null = KMSUSER_PASSWORD, hsmTimeoutMs?: number): Promise<{ hsm: SoftHsmCluster; wb: TestWorkbench }> {
  const hsm = await createSoftHsmCluster({ tokens, userPin, labelPrefix: 'chk' });
  cleanups.push(() => hsm.cleanup());
  const wb = await createTestWorkbench({ hsmTimeoutMs });
  cleanups.push(() => wb.dispose());
  return { hsm, wb };
}

async function createCluster(wb: TestWorkbench, modulePath: string, env: Record<string, string>, serials: string[]): Promise<string> {
  const { Cluster } = ok(await wb.call('CreateCluster', { ClusterName: `c-${Date.now()}`, ModulePath: modulePath, ModuleEnvironment: env, Hsms: serials.map((TokenSerial) => ({ TokenSerial })) }));
  return Cluster.ClusterId;
}

describe('cluster checks on real SoftHSM2 tokens', () => {
  it('pass on a healthy two-token cluster, with live progress and a login test', async () => {
    const { hsm, wb } = await setup(2);
    const id = await createCluster(wb, hsm.modulePath, hsm.env, hsm.tokens.map((t) => t.serial));
    const progress: CheckClusterProgress[] = [];
    const { Report } = ok(await wb.call('CheckCluster', { ClusterId: id, KmsuserPassword: KMSUSER_PASSWORD }, (p) => progress.push(p as CheckClusterProgress)));

    expect(Report.Summary.Fail).toBe(0);
    expect(Report.Passed).toBe(true);
    expect(Report.ActiveHsmCount).toBe(2);
    for (const i of [0, 1]) {
      for (const id of ['hsm.token-present', 'hsm.kmsuser-initialized', 'hsm.pin-flags', 'hsm.mechanisms', 'hsm.rw-session', 'hsm.kmsuser-login']) {
        expect(check(Report, id, i).Status, `${id} on HSM ${i}`).toBe('pass');
      }
    }
    expect(check(Report, 'cluster.active-hsms').Status).toBe('pass');
    expect(check(Report, 'cluster.exclusive-members').Status).toBe('pass');
    expect(check(Report, 'hsm.mechanisms', 0).Evidence.join('\n')).toMatch(/CKM_AES_KEY_GEN: key size 16–32/);
    // Progress arrives once per check, in report order.
    expect(progress.map((p) => p.Check)).toEqual(Report.Checks);
    expect(progress.at(-1)?.Completed).toBe(Report.Checks.length);

    // The password reached the HSM and nowhere else.
    expect(JSON.stringify(Report)).not.toContain(KMSUSER_PASSWORD);
    const audit = await wb.auditText();
    expect(audit).toContain('"eventName":"CheckCluster"');
    expect(audit).not.toContain(KMSUSER_PASSWORD);
    expect(await wb.stateFilesText()).not.toContain(KMSUSER_PASSWORD);
  });

  it('skip the login test without a password, and predict INVALID_CREDENTIALS for a wrong one', async () => {
    const { hsm, wb } = await setup(1);
    const id = await createCluster(wb, hsm.modulePath, hsm.env, [hsm.tokens[0]?.serial ?? '']);

    const without = ok(await wb.call('CheckCluster', { ClusterId: id })).Report;
    expect(check(without, 'hsm.kmsuser-login', 0).Status).toBe('skipped');
    expect(check(without, 'cluster.active-hsms').Status).toBe('warn'); // one HSM: can connect, cannot create CMKs

    const wrongPassword = 'not-the-password';
    const wrong = ok(await wb.call('CheckCluster', { ClusterId: id, KmsuserPassword: wrongPassword })).Report;
    const login = check(wrong, 'hsm.kmsuser-login', 0);
    expect(login).toMatchObject({ Status: 'fail', PredictedConnectionErrorCode: 'INVALID_CREDENTIALS' });
    // SoftHSM reports a failed login with CKF_USER_PIN_COUNT_LOW only (it never locks), and the report says just that.
    expect(login.Evidence).toContain('The token reports a wrong kmsuser PIN since the last successful login (CKF_USER_PIN_COUNT_LOW) but not how many tries remain.');
    expect(login.Evidence.join(' ')).toMatch(/CKR_PIN_INCORRECT/);
    expect(check(wrong, 'cluster.active-hsms')).toMatchObject({ Status: 'fail', PredictedConnectionErrorCode: 'INVALID_CREDENTIALS' });
    expect(wrong.Passed).toBe(false);
    expect(JSON.stringify(wrong) + (await wb.auditText())).not.toContain(wrongPassword);

    // The next run sees the flag the failed login left behind.
    const after = ok(await wb.call('CheckCluster', { ClusterId: id })).Report;
    expect(check(after, 'hsm.pin-flags', 0)).toMatchObject({ Status: 'warn', Evidence: ['Flags set: CKF_USER_PIN_COUNT_LOW'] });
  });

  it('spend one login try, not one per HSM, on a refused password', async () => {
    const { hsm, wb } = await setup(3);
    const id = await createCluster(wb, hsm.modulePath, hsm.env, hsm.tokens.map((t) => t.serial));
    const { Report } = ok(await wb.call('CheckCluster', { ClusterId: id, KmsuserPassword: 'not-the-password' }));
    expect([0, 1, 2].map((i) => check(Report, 'hsm.kmsuser-login', i).Status)).toEqual(['fail', 'skipped', 'skipped']);
    expect(check(Report, 'hsm.kmsuser-login', 1).Evidence[0]).toMatch(/refused this password/);
    // The untried HSMs are not counted as active: a connection with this password would fail.
    expect(Report.ActiveHsmCount).toBe(0);
    expect(check(Report, 'cluster.active-hsms').PredictedConnectionErrorCode).toBe('INVALID_CREDENTIALS');
    // pkcs11-tool, as a peer, still logs in on the untried HSMs: their counters were not touched.
    const peerEnv = { ...process.env, ...hsm.env };
    for (const token of hsm.tokens.slice(1)) {
      await promisify(execFile)('pkcs11-tool', ['--module', hsm.modulePath, '--token-label', token.label, '--login', '--pin', KMSUSER_PASSWORD, '--list-objects'], { env: peerEnv });
    }
  });

  it('fail with USER_NOT_FOUND when kmsuser (the user PIN) was never set', async () => {
    const { hsm, wb } = await setup(1, null);
    const id = await createCluster(wb, hsm.modulePath, hsm.env, [hsm.tokens[0]?.serial ?? '']);
    const { Report } = ok(await wb.call('CheckCluster', { ClusterId: id, KmsuserPassword: KMSUSER_PASSWORD }));
    const kmsuser = check(Report, 'hsm.kmsuser-initialized', 0);
    expect(kmsuser).toMatchObject({ Status: 'fail', PredictedConnectionErrorCode: 'USER_NOT_FOUND' });
    expect(kmsuser.Remedy).toMatch(/C_InitPIN/);
    expect(check(Report, 'cluster.active-hsms')).toMatchObject({ Status: 'fail', PredictedConnectionErrorCode: 'INSUFFICIENT_CLOUDHSM_HSMS' });
  });

  it('fail a removed token, keep checking the others, and predict INSUFFICIENT_CLOUDHSM_HSMS only when none is left', async () => {
    const { hsm, wb } = await setup(2);
    const id = await createCluster(wb, hsm.modulePath, hsm.env, hsm.tokens.map((t) => t.serial));
    await hsm.removeToken(1);
    const oneLeft = ok(await wb.call('CheckCluster', { ClusterId: id })).Report;
    expect(check(oneLeft, 'hsm.token-present', 0).Status).toBe('pass');
    expect(check(oneLeft, 'hsm.token-present', 1)).toMatchObject({ Status: 'fail', PredictedConnectionErrorCode: null });
    expect(check(oneLeft, 'hsm.kmsuser-initialized', 1).Status).toBe('skipped');
    expect(oneLeft.ActiveHsmCount).toBe(1);
    expect(check(oneLeft, 'cluster.active-hsms')).toMatchObject({ Status: 'warn', PredictedConnectionErrorCode: null });

    await hsm.removeToken(0);
    const noneLeft = ok(await wb.call('CheckCluster', { ClusterId: id })).Report;
    expect(check(noneLeft, 'hsm.token-present', 0).Status).toBe('fail');
    expect(check(noneLeft, 'cluster.active-hsms')).toMatchObject({ Status: 'fail', PredictedConnectionErrorCode: 'INSUFFICIENT_CLOUDHSM_HSMS' });
  });

  it('fail when a member token is also an HSM of another cluster, and find a serial recorded in the other case', async () => {
    const { hsm, wb } = await setup(2);
    const [t0, t1] = hsm.tokens;
    if (!t0 || !t1) throw new Error('fixture has no two tokens');
    const a = await createCluster(wb, hsm.modulePath, hsm.env, [t0.serial, t1.serial]);
    // State from before CreateCluster refused shared tokens (or edited by hand): B has A's second token, its serial in upper case.
    const b = 'cluster-bbbbbbbbbbb';
    await wb.editState((s) => {
      const first = s.clusters.find((c) => c.ClusterId === a);
      if (!first) throw new Error('cluster A is not in the state file');
      s.clusters.push({ ...first, ClusterId: b, ClusterName: 'b-shares', Hsms: [{ HsmId: 'hsm-bbbbbbbbbbb', TokenSerial: t1.serial.toUpperCase(), TokenLabel: t1.label }] });
    });

    const forA = ok(await wb.call('CheckCluster', { ClusterId: a })).Report;
    const sharedInA = check(forA, 'cluster.exclusive-members');
    expect(sharedInA.Status).toBe('fail');
    expect(sharedInA.Evidence).toEqual([expect.stringMatching(new RegExp(`\\(serial ${t1.serial} \\("${t1.label}"\\)\\) is also an HSM of "b-shares" \\(${b}\\)$`))]);
    expect(sharedInA.Remedy).toMatch(/two key stores rotating one kmsuser password would lock each other out\. Delete the cluster/);

    const forB = ok(await wb.call('CheckCluster', { ClusterId: b, KmsuserPassword: KMSUSER_PASSWORD })).Report;
    expect(check(forB, 'cluster.exclusive-members').Evidence.join('\n')).toMatch(new RegExp(`is also an HSM of "${forA.ClusterName}" \\(${a}\\)`));
    expect(check(forB, 'hsm.token-present', 0).Status).toBe('pass');
    expect(check(forB, 'hsm.kmsuser-login', 0).Status).toBe('pass');
  });

  it('fail with CLUSTER_NOT_FOUND when the module is gone', async () => {
    const { hsm, wb } = await setup(1);
    const id = await createCluster(wb, hsm.modulePath, hsm.env, [hsm.tokens[0]?.serial ?? '']);
    // The cluster records the module path; simulate an uninstalled library by pointing the record elsewhere.
    await wb.editState((s) => {
      const c = s.clusters.find((x) => x.ClusterId === id);
      if (c) c.ModulePath = '/nonexistent/libsofthsm2.so';
    });
    const { Report } = ok(await wb.call('CheckCluster', { ClusterId: id }));
    expect(check(Report, 'module.loads')).toMatchObject({ Status: 'fail', PredictedConnectionErrorCode: 'CLUSTER_NOT_FOUND' });
    expect(Report.Checks.filter((c) => c.HsmId !== null).every((c) => c.Status === 'skipped')).toBe(true);
  });

  it('call a crashing vendor library an INTERNAL_ERROR, not a network problem', async () => {
    const { hsm, wb } = await setup(1);
    const broken = await buildBrokenModules();
    cleanups.push(() => broken.cleanup());
    const id = await createCluster(wb, hsm.modulePath, hsm.env, [hsm.tokens[0]?.serial ?? '']);
    await wb.editState((s) => {
      const c = s.clusters.find((x) => x.ClusterId === id);
      if (c) c.ModulePath = broken.crashingSlotList;
    });
    const { Report } = ok(await wb.call('CheckCluster', { ClusterId: id }));
    const slots = check(Report, 'module.slots');
    expect(slots).toMatchObject({ Status: 'fail', PredictedConnectionErrorCode: 'INTERNAL_ERROR' });
    expect(slots.Remedy).toMatch(/crashed/);
  });

  it('can be cancelled between checks', async () => {
    const { hsm, wb } = await setup(2);
    const id = await createCluster(wb, hsm.modulePath, hsm.env, hsm.tokens.map((t) => t.serial));
    const callId = 'cancel-me';
    const result = await wb.core.dispatch('CheckCluster', { ClusterId: id }, {
      callId,
      emitProgress: () => {
        void wb.core.dispatch('CancelOperation', { CallId: callId }, { callId: 'canceller' });
      },
    });
    expect(result.ok ? 'ok' : result.error.name).toBe('OperationCancelledException');
  });
});

describe('cluster checks on a network HSM (p11-kit server over SoftHSM2)', () => {
  let server: P11KitServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  it('pass through the p11-kit client module, except mechanisms the client does not forward', async () => {
    const { hsm, wb } = await setup(2);
    server = await startP11KitServer({ providerModule: hsm.modulePath, env: hsm.env });
    const id = await createCluster(wb, server.clientModulePath, server.env, hsm.tokens.map((t) => t.serial));
    const { Report } = ok(await wb.call('CheckCluster', { ClusterId: id, KmsuserPassword: KMSUSER_PASSWORD }));
    expect(Report.Checks.filter((c) => c.Status === 'fail' && c.CheckId !== 'hsm.mechanisms')).toEqual([]);
    expect(Report.ActiveHsmCount).toBe(2);

    // The mechanism verdict must match what an independent peer sees through the same client module.
    // (Debian 12's p11-kit 0.24 client does not forward CKM_AES_GCM, so there it must fail, naming it.)
    const { stdout } = await promisify(execFile)('pkcs11-tool', ['--module', server.clientModulePath, '-M'], { env: { ...process.env, ...server.env } });
    const peerHasGcm = /^\s*AES-GCM\b/m.test(stdout);
    const mechanisms = check(Report, 'hsm.mechanisms', 0);
    expect(mechanisms.Status).toBe(peerHasGcm ? 'pass' : 'fail');
    if (!peerHasGcm) expect(mechanisms.Evidence).toContain('CKM_AES_GCM: not supported');
  });

  it('fail with NETWORK_ERRORS, promptly, when the server is killed mid-check', async () => {
    const { hsm, wb } = await setup(2, KMSUSER_PASSWORD, 5_000);
    server = await startP11KitServer({ providerModule: hsm.modulePath, env: hsm.env });
    const id = await createCluster(wb, server.clientModulePath, server.env, hsm.tokens.map((t) => t.serial));
    const running = server;
    const started = Date.now();
    const { Report } = ok(
      await wb.call('CheckCluster', { ClusterId: id, KmsuserPassword: KMSUSER_PASSWORD }, (p) => {
        // Kill the server once the first HSM's token has been seen: the rest of the run talks to a dead server.
        if ((p as CheckClusterProgress).Check.CheckId === 'hsm.token-present') running.kill('SIGKILL');
      }),
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    const failed = Report.Checks.filter((c) => c.Status === 'fail');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.some((c) => c.PredictedConnectionErrorCode === 'NETWORK_ERRORS')).toBe(true);
    expect(failed.every((c) => c.PredictedConnectionErrorCode === 'NETWORK_ERRORS' || c.PredictedConnectionErrorCode === 'INSUFFICIENT_CLOUDHSM_HSMS')).toBe(true);
    expect(Report.Passed).toBe(false);
  });

  it('see the HSM again once the server is back at the same address', async () => {
    const { hsm, wb } = await setup(1, KMSUSER_PASSWORD, 5_000);
    const socketDir = await mkdtemp(join(tmpdir(), 'hsm-workbench-p11kit-fixed-'));
    cleanups.push(() => rm(socketDir, { recursive: true, force: true }));
    server = await startP11KitServer({ providerModule: hsm.modulePath, env: hsm.env, socketDir });
    const id = await createCluster(wb, server.clientModulePath, server.env, [hsm.tokens[0]?.serial ?? '']);
    ok(await wb.call('CheckCluster', { ClusterId: id }));

    server.kill('SIGKILL');
    const down = ok(await wb.call('CheckCluster', { ClusterId: id })).Report;
    expect(down.Checks.find((c) => c.Status === 'fail')?.PredictedConnectionErrorCode).toBe('NETWORK_ERRORS');

    // A fresh client on a dead address loads, lists no slots, and must still be called a network error.
    const stillDown = ok(await wb.call('CheckCluster', { ClusterId: id })).Report;
    expect(stillDown.Checks.find((c) => c.CheckId === 'module.slots')).toMatchObject({ Status: 'fail', PredictedConnectionErrorCode: 'NETWORK_ERRORS' });

    await server.stop();
    server = await startP11KitServer({ providerModule: hsm.modulePath, env: hsm.env, socketDir });
    const back = ok(await wb.call('CheckCluster', { ClusterId: id })).Report;
    expect(back.Checks.filter((c) => c.Status === 'fail' && c.CheckId !== 'hsm.mechanisms')).toEqual([]);
    expect(back.ActiveHsmCount).toBe(1);
  });

  it('ListSlots sees the tokens again once the server is back, after answering with none while it was down', async () => {
    const { hsm, wb } = await setup(1, KMSUSER_PASSWORD, 5_000);
    const socketDir = await mkdtemp(join(tmpdir(), 'hsm-workbench-p11kit-fixed-'));
    cleanups.push(() => rm(socketDir, { recursive: true, force: true }));
    server = await startP11KitServer({ providerModule: hsm.modulePath, env: hsm.env, socketDir });
    const module = { ModulePath: server.clientModulePath, ModuleEnvironment: server.env };
    await server.stop();
    expect(ok(await wb.call('ListSlots', module)).Slots).toEqual([]);

    server = await startP11KitServer({ providerModule: hsm.modulePath, env: hsm.env, socketDir });
    const serials = ok(await wb.call('ListSlots', module)).Slots.map((s) => s.Token?.SerialNumber);
    expect(serials).toContain(hsm.tokens[0]?.serial);
  });

  it('fail with NETWORK_ERRORS after the timeout when the server freezes instead of dying', async () => {
    const { hsm, wb } = await setup(1, KMSUSER_PASSWORD, 1_500);
    server = await startP11KitServer({ providerModule: hsm.modulePath, env: hsm.env });
    const id = await createCluster(wb, server.clientModulePath, server.env, [hsm.tokens[0]?.serial ?? '']);
    server.kill('SIGSTOP');
    try {
      const started = Date.now();
      const { Report } = ok(await wb.call('CheckCluster', { ClusterId: id }));
      expect(Date.now() - started).toBeLessThan(10_000);
      const failed = Report.Checks.filter((c) => c.Status === 'fail');
      expect(failed[0]?.PredictedConnectionErrorCode).toBe('NETWORK_ERRORS');
      expect(failed[0]?.Evidence.join(' ')).toMatch(/HsmHostTimeoutException/);
    } finally {
      server.kill('SIGCONT');
    }
  });
});
