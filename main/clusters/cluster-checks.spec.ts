import { describe, expect, it, vi } from 'vitest';
import type { CheckClusterProgress, ClusterCheckReport } from '../../shared/contract/checks';
import type { ClusterInfo, HsmTrust } from '../../shared/contract/clusters';
import type { TokenInfo } from '../../shared/contract/hsm';
import { createHsmHostPool } from '../hsm/hsm-host-client';
import type { HsmHost } from '../hsm/hsm-host';
import { runChecks } from './cluster-checks';
import { CLUSTER_CHECKS } from './checks';
import type { CheckDefinition, ClusterCheck, MemberCheck, ModuleCheck } from './checks/check-definition';

// The runner is pure orchestration: these registries of tiny checks never call the HSM host, so no child is started.
const NO_TRUST: HsmTrust = { MemberKey: false, TrustedBy: [], MissingTrustFrom: [], Certificates: false, Status: 'INCOMPLETE' };

const cluster: ClusterInfo = {
  ClusterId: 'cluster-abcdefghijk',
  ClusterName: 'runner',
  ModulePath: '/usr/lib/softhsm/libsofthsm2.so',
  ModuleEnvironment: {},
  LoginFormat: 'password',
  Hsms: [
    { HsmId: 'hsm-aaaaaaaaaaa', TokenSerial: 'a', TokenLabel: null, Trust: NO_TRUST },
    { HsmId: 'hsm-bbbbbbbbbbb', TokenSerial: 'b', TokenLabel: null, Trust: NO_TRUST },
    { HsmId: 'hsm-ccccccccccc', TokenSerial: 'c', TokenLabel: null, Trust: NO_TRUST },
  ],
  CreateTimestamp: '2024-01-01T00:00:00.000Z',
  CustomKeyStoreId: null,
  State: 'UNINITIALIZED',
  Certificates: { ClusterCsr: null, ClusterCertificate: null, TrustAnchorCertificate: null, DemoCa: false },
};
const [first, second, third] = cluster.Hsms.map((m) => m.HsmId);

const onModule = (id: string, run: ModuleCheck['run']): ModuleCheck => ({ id, title: `Title of ${id}`, scope: 'module', run });
const onMember = (id: string, run: MemberCheck['run']): MemberCheck => ({ id, title: `Title of ${id}`, scope: 'member', run });
const onCluster = (id: string, run: ClusterCheck['run']): ClusterCheck => ({ id, title: `Title of ${id}`, scope: 'cluster', run });
const listsSlots = onModule('module.fake', () => ({ status: 'pass', evidence: ['listed'], slots: [] }));
const pass = (): { status: 'pass'; evidence: string[] } => ({ status: 'pass', evidence: [] });

function unusedHost(): HsmHost {
  return createHsmHostPool({ childEntry: '/nonexistent/hsm-host-child.js' }).get({ ModulePath: cluster.ModulePath, ModuleEnvironment: {} });
}

async function run(
  checks: readonly CheckDefinition[],
  options: { host?: HsmHost; password?: string; onProgress?: (p: CheckClusterProgress) => void; signal?: AbortSignal } = {},
): Promise<{ report: ClusterCheckReport; progress: CheckClusterProgress[] }> {
  const progress: CheckClusterProgress[] = [];
  const report = await runChecks(checks, cluster, options.host ?? unusedHost(), {
    clusters: [cluster],
    kmsuserPassword: options.password,
    signal: options.signal ?? new AbortController().signal,
    onProgress: (p) => {
      progress.push(p);
      options.onProgress?.(p);
    },
  });
  return { report, progress };
}

const rows = (report: ClusterCheckReport): string[] => report.Checks.map((c) => `${c.CheckId} ${c.HsmId ?? '-'} ${c.Status}`);

describe('the cluster check registry', () => {
  it('lists every check once, in report order, with its title and scope', () => {
    expect(CLUSTER_CHECKS.map((c) => [c.scope, c.id, c.title])).toEqual([
      ['module', 'module.loads', 'PKCS#11 module loads'],
      ['module', 'module.slots', 'Slots and tokens can be listed'],
      ['member', 'hsm.token-present', 'HSM token is present and initialised'],
      ['member', 'hsm.kmsuser-initialized', 'kmsuser (user PIN) is initialised'],
      ['member', 'hsm.pin-flags', 'PIN state allows kmsuser to log in'],
      ['member', 'hsm.mechanisms', 'Mechanisms for CMK key material are supported'],
      ['member', 'hsm.rw-session', 'A read-write session can be opened'],
      ['member', 'hsm.kmsuser-login', 'kmsuser can log in'],
      ['member', 'hsm.member-trust', 'Member trust and cluster certificates are on the HSM'],
      ['cluster', 'cluster.distinct-members', 'Each HSM is a different token'],
      ['cluster', 'cluster.exclusive-members', 'No HSM is also a member of another cluster'],
      ['cluster', 'cluster.active-hsms', 'Enough active HSMs'],
      ['cluster', 'cluster.key-store-association', 'Not associated with another key store'],
    ]);
  });
});

describe('the cluster check runner', () => {
  it('runs the module, then each member in order, then the cluster, and knows the total from the first check', async () => {
    const checks = [listsSlots, onMember('hsm.one', pass), onMember('hsm.two', () => ({ status: 'warn', evidence: ['w'], remedy: 'do this' })), onCluster('cluster.one', pass)];
    const { report, progress } = await run(checks);
    expect(rows(report)).toEqual([
      'module.fake - pass',
      `hsm.one ${first} pass`,
      `hsm.two ${first} warn`,
      `hsm.one ${second} pass`,
      `hsm.two ${second} warn`,
      `hsm.one ${third} pass`,
      `hsm.two ${third} warn`,
      'cluster.one - pass',
    ]);
    expect(report.Checks[2]).toEqual({ CheckId: 'hsm.two', Title: 'Title of hsm.two', Status: 'warn', HsmId: first, Evidence: ['w'], Remedy: 'do this', PredictedConnectionErrorCode: null });
    expect(progress.map((p) => [p.Completed, p.Total])).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => [n, 8]));
    expect(progress.map((p) => p.Check)).toEqual(report.Checks);
    expect(report).toMatchObject({ Summary: { Pass: 5, Warn: 3, Fail: 0, Skipped: 0 }, ActiveHsmCount: 3, Passed: true });
  });

  it('skips the rest of a scope after a check that stops it, and does not count that HSM as active', async () => {
    const gate = onMember('hsm.gate', ({ member }) => (member.HsmId === second ? { status: 'fail', evidence: ['gone'], skipRest: 'Skipped: no token.' } : pass()));
    const { report } = await run([listsSlots, gate, onMember('hsm.after', pass), onCluster('cluster.count', ({ activeHsmCount }) => ({ status: 'pass', evidence: [`${activeHsmCount} active`] }))]);
    expect(rows(report)).toContain(`hsm.after ${second} skipped`);
    expect(report.Checks.find((c) => c.CheckId === 'hsm.after' && c.HsmId === second)?.Evidence).toEqual(['Skipped: no token.']);
    expect(rows(report)).toContain(`hsm.after ${third} pass`);
    expect(report.Checks.at(-1)?.Evidence).toEqual(['2 active']);
    expect(report).toMatchObject({ ActiveHsmCount: 2, Passed: false, Summary: { Fail: 1, Skipped: 1 } });
  });

  it('counts an HSM as inactive only when a check says so: a failure alone does not', async () => {
    const checks = [
      listsSlots,
      onMember('hsm.fails', () => ({ status: 'fail', evidence: [] })),
      onMember('hsm.unusable', ({ member }) => ({ status: 'pass', evidence: [], inactive: member.HsmId === first })),
    ];
    expect((await run(checks)).report.ActiveHsmCount).toBe(2);
  });

  it('hands what a member check found to the checks after it, for that member only', async () => {
    const seen: string[] = [];
    const finder = onMember('hsm.find', ({ member, token: before }) => {
      seen.push(`${member.HsmId} before: ${before === undefined ? 'none' : 'found'}`);
      const token: TokenInfo = {
        ...{ Label: 'token', ManufacturerId: 'm', Model: 'm', SerialNumber: member.TokenSerial ?? '', Flags: [], HardwareVersion: '1.0', FirmwareVersion: '1.0' },
        ...{ MaxSessionCount: null, SessionCount: null, MaxRwSessionCount: null, RwSessionCount: null, MinPinLen: 4, MaxPinLen: 255 },
      };
      const slot = { SlotId: member.HsmId, SlotDescription: '', ManufacturerId: '', Flags: [], TokenPresent: true, Token: token };
      return { status: 'pass', evidence: [], token: { slot, token, flags: new Set<string>() } };
    });
    const user = onMember('hsm.use', ({ member, token }) => {
      seen.push(`${member.HsmId} after: ${token?.slot.SlotId ?? 'none'}`);
      return pass();
    });
    await run([listsSlots, finder, user]);
    expect(seen).toEqual([first, second, third].flatMap((h) => [`${h} before: none`, `${h} after: ${h}`]));
  });

  it('asks no later HSM anything once the module stops answering, and restarts the module', async () => {
    const host = unusedHost();
    const retire = vi.spyOn(host, 'retire');
    const silent = onMember('hsm.silent', ({ member }) => (member.HsmId === first ? { status: 'fail', evidence: ['timeout'], unreachable: true, skipRest: 'Skipped: silent.' } : pass()));
    const { report } = await run([listsSlots, silent, onMember('hsm.after', pass), onCluster('cluster.one', pass)], { host });
    expect(rows(report)).toEqual([
      'module.fake - pass',
      `hsm.silent ${first} fail`,
      `hsm.after ${first} skipped`,
      `hsm.silent ${second} skipped`,
      `hsm.after ${second} skipped`,
      `hsm.silent ${third} skipped`,
      `hsm.after ${third} skipped`,
      'cluster.one - pass',
    ]);
    expect(report.Checks[3]?.Evidence).toEqual(['Skipped: the module checks (module.*) failed, or the module stopped answering.']);
    expect(report.ActiveHsmCount).toBe(0);
    expect(retire).toHaveBeenCalledOnce();
  });

  it('skips every member when the module checks list no slots, and restarts the module', async () => {
    const host = unusedHost();
    const retire = vi.spyOn(host, 'retire');
    const loads = onModule('module.loads', () => ({ status: 'fail', evidence: [], skipRest: 'The module did not load.' }));
    const { report } = await run([loads, listsSlots, onMember('hsm.one', pass), onCluster('cluster.one', pass)], { host });
    expect(rows(report)).toEqual(['module.loads - fail', 'module.fake - skipped', `hsm.one ${first} skipped`, `hsm.one ${second} skipped`, `hsm.one ${third} skipped`, 'cluster.one - pass']);
    expect(report.Checks[1]?.Evidence).toEqual(['The module did not load.']);
    expect(retire).toHaveBeenCalledOnce();
  });

  it('leaves a module that answered running', async () => {
    const host = unusedHost();
    const retire = vi.spyOn(host, 'retire');
    await run([listsSlots, onMember('hsm.one', pass)], { host });
    expect(retire).not.toHaveBeenCalled();
  });

  it('tells the later HSMs and the cluster checks which HSM refused the password', async () => {
    const seen: Array<string | null> = [];
    const login = onMember('hsm.login', ({ member, passwordRefusedBy }) => {
      seen.push(passwordRefusedBy);
      return member.HsmId === second ? { status: 'fail', evidence: [], refusedPassword: true } : pass();
    });
    const count = onCluster('cluster.one', ({ passwordRefusedBy }) => {
      seen.push(passwordRefusedBy);
      return pass();
    });
    await run([listsSlots, login, count], { password: 'not-logged' });
    expect(seen).toEqual([null, null, second, second]);
  });

  it('can be cancelled before an HSM whose checks would all be skipped: nothing is reported after the cancel', async () => {
    const controller = new AbortController();
    const noSlots = onModule('module.slots', () => ({ status: 'fail', evidence: ['no slots'] }));
    const progress: CheckClusterProgress[] = [];
    const running = run([noSlots, onMember('hsm.one', pass)], { signal: controller.signal, onProgress: (p) => progress.push(p) && controller.abort() });
    await expect(running).rejects.toMatchObject({ name: 'OperationCancelledException' });
    expect(progress.map((p) => p.Check.CheckId)).toEqual(['module.slots']);
  });

  it('can be cancelled before any check, and runs nothing after', async () => {
    const controller = new AbortController();
    const ran: string[] = [];
    const recording = (id: string): MemberCheck =>
      onMember(id, ({ member }) => {
        ran.push(`${id} ${member.HsmId}`);
        return pass();
      });
    const running = run([listsSlots, recording('hsm.one'), recording('hsm.two')], { signal: controller.signal, onProgress: (p) => p.Completed === 2 && controller.abort() });
    await expect(running).rejects.toMatchObject({ name: 'OperationCancelledException' });
    expect(ran).toEqual([`hsm.one ${first}`]);
  });
});
