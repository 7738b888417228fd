import { describe, expect, it } from 'vitest';
import type { CheckResult, ClusterInfo, HsmTrust } from '../../../shared/index';
import { groupChecks, summaryLine, verdictOf } from './check-report';

const check = (CheckId: string, HsmId: string | null, Status: CheckResult['Status'] = 'pass'): CheckResult => ({
  CheckId,
  Title: CheckId,
  Status,
  HsmId,
  Evidence: [],
  Remedy: null,
  PredictedConnectionErrorCode: null,
});

const NO_TRUST: HsmTrust = { MemberKey: false, TrustedBy: [], MissingTrustFrom: [], Certificates: false, Status: 'INCOMPLETE' };

const cluster: ClusterInfo = {
  ClusterId: 'cluster-abcdefghijk',
  ClusterName: 'c',
  ModulePath: '/m.so',
  ModuleEnvironment: {},
  LoginFormat: 'password',
  Hsms: [
    { HsmId: 'hsm-b', TokenSerial: '2222', TokenLabel: 'second', Trust: NO_TRUST },
    { HsmId: 'hsm-a', TokenSerial: '1111', TokenLabel: null, Trust: NO_TRUST },
  ],
  CreateTimestamp: '2026-01-01T00:00:00Z',
  CustomKeyStoreId: null,
  State: 'UNINITIALIZED',
  Certificates: { ClusterCsr: null, ClusterCertificate: null, TrustAnchorCertificate: null, DemoCa: false },
};

describe('groupChecks', () => {
  it('puts cluster-wide checks first, then one group per HSM in member order, keeping check order', () => {
    const groups = groupChecks([check('module.loads', null), check('x', 'hsm-a'), check('y', 'hsm-b'), check('z', 'hsm-a'), check('cluster.active', null)], cluster);
    expect(groups.map((g) => g.key)).toEqual(['cluster', 'hsm-b', 'hsm-a']);
    expect(groups[0]?.checks.map((c) => c.CheckId)).toEqual(['module.loads', 'cluster.active']);
    expect(groups[2]?.checks.map((c) => c.CheckId)).toEqual(['x', 'z']);
    expect(groups[1]?.subtitle).toBe('“second” · serial 2222');
    expect(groups[2]?.title).toBe('HSM 2: hsm-a');
  });

  it('still shows checks about an HSM the cluster record does not list', () => {
    expect(groupChecks([check('x', 'hsm-zzz')], cluster).map((g) => g.key)).toEqual(['hsm-zzz']);
  });
});

describe('summaryLine', () => {
  it('reads like "12 passed, 1 warning, 2 failed" and mentions skipped checks only when there are some', () => {
    expect(summaryLine({ Pass: 12, Warn: 1, Fail: 2, Skipped: 0 })).toBe('12 passed, 1 warning, 2 failed');
    expect(summaryLine({ Pass: 3, Warn: 0, Fail: 0, Skipped: 2 })).toBe('3 passed, 0 warnings, 0 failed, 2 skipped');
  });
});

describe('verdictOf', () => {
  it('says "passed every check" only when nothing was skipped', () => {
    expect(verdictOf({ Pass: 17, Warn: 0, Fail: 0, Skipped: 0 }, true)).toEqual({ status: 'pass', text: 'The cluster passed every check.' });
    expect(verdictOf({ Pass: 15, Warn: 0, Fail: 0, Skipped: 2 }, false)).toEqual({ status: 'pass', text: 'Passed — 2 checks skipped (no kmsuser password given).' });
    expect(verdictOf({ Pass: 16, Warn: 0, Fail: 0, Skipped: 1 }, true)).toEqual({ status: 'pass', text: 'Passed — 1 check skipped.' });
  });

  it('keeps warnings and failures first, and still names skipped checks beside warnings', () => {
    expect(verdictOf({ Pass: 9, Warn: 1, Fail: 0, Skipped: 1 }, false).text).toBe('The cluster passed, with warnings; 1 check skipped (no kmsuser password given).');
    expect(verdictOf({ Pass: 9, Warn: 1, Fail: 2, Skipped: 1 }, false)).toEqual({ status: 'fail', text: 'The cluster is not ready: some checks failed.' });
  });
});
