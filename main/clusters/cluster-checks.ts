import type { CheckClusterProgress, CheckResult, ClusterCheckReport } from '../../shared/contract/checks';
import type { ClusterInfo } from '../../shared/contract/clusters';
import type { SlotInfo } from '../../shared/contract/hsm';
import { throwIfCancelled } from '../core/dispatcher';
import { DEFAULT_HSM_TIMEOUT_MS, type HsmHost, type HsmHostPool } from '../hsm/hsm-host';
import { result } from './check-result';
import { CLUSTER_CHECKS } from './checks';
import {
  skippedBecause,
  type CheckDefinition,
  type CheckOutcome,
  type CheckScope,
  type ClusterCheck,
  type MemberCheck,
  type ModuleCheck,
  type ScopedCheck,
} from './checks/check-definition';

/** What the report says about a check besides its outcome. */
type Named = Pick<CheckDefinition, 'id' | 'title'>;

export interface ClusterCheckOptions {
  /** Secret: used for one C_Login per member, then dropped. Never stored, logged or reported. */
  kmsuserPassword?: string;
  signal: AbortSignal;
  onProgress(progress: CheckClusterProgress): void;
  /** Per-call limit before a silent HSM is reported as NETWORK_ERRORS. */
  timeoutMs?: number;
  /** Every cluster in the state, so a token that is also another cluster's HSM is reported. */
  clusters: readonly ClusterInfo[];
  /** Told of each kmsuser login the checks made (it spends a try when refused), for the kmsuser ledger. */
  onKmsuserLogin?(hsmId: string, accepted: boolean): void;
}

/**
 * Runs the pre-flight checks of a cluster (the registry in checks/index.ts) on its module. Each check says
 * what it saw, and for a warning or failure what to do and which ConnectionErrorCode a key store
 * connection would report.
 */
export function runClusterChecks(cluster: ClusterInfo, hosts: HsmHostPool, options: ClusterCheckOptions): Promise<ClusterCheckReport> {
  return runChecks(CLUSTER_CHECKS, cluster, hosts.get({ ModulePath: cluster.ModulePath, ModuleEnvironment: cluster.ModuleEnvironment }), options);
}

/**
 * Runs `checks` in a fixed order: the module checks, then the member checks for each HSM in member order,
 * then the cluster-wide checks, each scope in registry order. Every check is reported once per subject, run
 * or skipped, so the total is known before the first one runs. The run can be cancelled before each check
 * that runs and before each HSM.
 */
export async function runChecks(checks: readonly CheckDefinition[], cluster: ClusterInfo, host: HsmHost, options: ClusterCheckOptions): Promise<ClusterCheckReport> {
  const startedAt = new Date().toISOString();
  const moduleChecks = checks.filter((c): c is ModuleCheck => c.scope === 'module');
  const memberChecks = checks.filter((c): c is MemberCheck => c.scope === 'member');
  const clusterChecks = checks.filter((c): c is ClusterCheck => c.scope === 'cluster');
  const total = moduleChecks.length + cluster.Hsms.length * memberChecks.length + clusterChecks.length;
  const reported: CheckResult[] = [];

  const step = (): void => throwIfCancelled(options.signal, 'The cluster checks');
  const report = (check: Named, hsmId: string | null, outcome: CheckOutcome): void => {
    const { status, evidence, remedy, predicted } = outcome;
    const reportedCheck = result(check.id, check.title, status, { hsmId, evidence, remedy, predicted });
    reported.push(reportedCheck);
    options.onProgress({ Completed: reported.length, Total: total, Check: reportedCheck });
  };
  const skip = (skipped: readonly Named[], hsmId: string | null, evidence: string): void => {
    for (const check of skipped) report(check, hsmId, { status: 'skipped', evidence: [evidence] });
  };
  /** One scope's checks for one subject, in order, until one stops the scope; returns the outcomes of those that ran. */
  const runScope = async <Context, Outcome extends CheckOutcome>(
    scoped: ReadonlyArray<ScopedCheck<CheckScope, Context, Outcome>>,
    hsmId: string | null,
    contextFor: (earlier: readonly Outcome[]) => Context,
  ): Promise<Outcome[]> => {
    const outcomes: Outcome[] = [];
    for (const [index, check] of scoped.entries()) {
      step();
      const outcome = await check.run(contextFor(outcomes));
      report(check, hsmId, outcome);
      outcomes.push(outcome);
      if (outcome.skipRest !== undefined) {
        skip(scoped.slice(index + 1), hsmId, outcome.skipRest);
        break;
      }
    }
    return outcomes;
  };

  const base = { cluster, clusters: options.clusters, host, timeout: { timeoutMs: options.timeoutMs ?? DEFAULT_HSM_TIMEOUT_MS }, kmsuserPassword: options.kmsuserPassword };
  let passwordRefusedBy: string | null = null;
  let activeHsmCount = 0;

  const moduleOutcomes = await runScope(moduleChecks, null, () => ({ ...base, passwordRefusedBy }));
  // Undefined once the module failed or stopped answering: the HSMs after that are not asked anything.
  let slots: readonly SlotInfo[] | undefined = moduleOutcomes.find((o) => o.slots !== undefined)?.slots;
  for (const member of cluster.Hsms) {
    // Also before an HSM whose checks are all skipped: a cancelled run reports nothing after the cancel.
    step();
    const memberSlots = slots;
    if (memberSlots === undefined) {
      skip(memberChecks, member.HsmId, skippedBecause('the module checks (module.*) failed, or the module stopped answering'));
      continue;
    }
    const outcomes = await runScope(memberChecks, member.HsmId, (earlier) => ({
      ...base,
      passwordRefusedBy,
      member,
      slots: memberSlots,
      token: earlier.find((o) => o.token !== undefined)?.token,
    }));
    for (const o of outcomes) if (o.kmsuserLogin) options.onKmsuserLogin?.(member.HsmId, o.kmsuserLogin.accepted);
    if (outcomes.some((o) => o.refusedPassword)) passwordRefusedBy = member.HsmId;
    if (outcomes.some((o) => o.unreachable)) slots = undefined;
    if (outcomes.every((o) => !o.inactive && !o.unreachable && o.skipRest === undefined)) activeHsmCount += 1;
  }

  // The host retires a child after CKR_DEVICE_ERROR by itself, but a module that answers with no slots
  // (p11-kit's client loaded while its server was down) or timed out must also be re-initialised next run.
  if (slots === undefined) host.retire();

  await runScope(clusterChecks, null, () => ({ ...base, passwordRefusedBy, activeHsmCount }));

  const summary = { Pass: 0, Warn: 0, Fail: 0, Skipped: 0 };
  for (const c of reported) {
    if (c.Status === 'pass') summary.Pass += 1;
    else if (c.Status === 'warn') summary.Warn += 1;
    else if (c.Status === 'fail') summary.Fail += 1;
    else summary.Skipped += 1;
  }
  return {
    ClusterId: cluster.ClusterId,
    ClusterName: cluster.ClusterName,
    StartedAt: startedAt,
    CompletedAt: new Date().toISOString(),
    Checks: reported,
    Summary: summary,
    ActiveHsmCount: activeHsmCount,
    Passed: summary.Fail === 0,
  };
}
