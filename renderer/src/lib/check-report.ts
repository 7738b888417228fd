import type { CheckResult, CheckStatus, ClusterCheckReport, ClusterInfo } from '../../../shared/index';

export interface CheckGroup {
  key: string;
  title: string;
  /** Token serial or label of the HSM, when the group is about one. */
  subtitle: string | null;
  checks: CheckResult[];
}

/** Cluster-wide checks first (module, membership, key store), then one group per HSM in member order. */
export function groupChecks(checks: readonly CheckResult[], cluster: ClusterInfo | undefined): CheckGroup[] {
  const clusterWide: CheckResult[] = checks.filter((c) => c.HsmId === null);
  const groups: CheckGroup[] = [];
  if (clusterWide.length > 0) groups.push({ key: 'cluster', title: 'Cluster-wide', subtitle: null, checks: clusterWide });
  const hsmIds: string[] = [];
  for (const member of cluster?.Hsms ?? []) hsmIds.push(member.HsmId);
  for (const check of checks) if (check.HsmId !== null && !hsmIds.includes(check.HsmId)) hsmIds.push(check.HsmId);
  hsmIds.forEach((hsmId, index) => {
    const member = cluster?.Hsms.find((m) => m.HsmId === hsmId);
    const own = checks.filter((c) => c.HsmId === hsmId);
    if (own.length === 0) return;
    const subtitle = member ? [member.TokenLabel ? `“${member.TokenLabel}”` : null, member.TokenSerial ? `serial ${member.TokenSerial}` : null].filter(Boolean).join(' · ') : null;
    groups.push({ key: hsmId, title: `HSM ${index + 1}: ${hsmId}`, subtitle, checks: own });
  });
  return groups;
}

export const STATUS_TEXT: Readonly<Record<CheckStatus, string>> = {
  pass: 'Passed',
  warn: 'Warning',
  fail: 'Failed',
  skipped: 'Skipped',
};

/** "12 passed, 1 warning, 2 failed" (skipped only when there are some). */
export function summaryLine(summary: ClusterCheckReport['Summary']): string {
  const parts = [`${summary.Pass} passed`, `${summary.Warn} ${summary.Warn === 1 ? 'warning' : 'warnings'}`, `${summary.Fail} failed`];
  if (summary.Skipped > 0) parts.push(`${summary.Skipped} skipped`);
  return parts.join(', ');
}

export interface Verdict {
  status: 'pass' | 'warn' | 'fail';
  text: string;
}

/**
 * The report's one-line verdict. "Passed every check" would overstate a run with skipped checks (without a
 * kmsuser password the login tests do not run): those name how many were skipped, and why when it is known.
 */
export function verdictOf(summary: ClusterCheckReport['Summary'], loginTested: boolean): Verdict {
  if (summary.Fail > 0) return { status: 'fail', text: 'The cluster is not ready: some checks failed.' };
  const skipped = summary.Skipped;
  const skippedNote = skipped === 0 ? '' : `${skipped} ${skipped === 1 ? 'check' : 'checks'} skipped${loginTested ? '' : ' (no kmsuser password given)'}`;
  if (summary.Warn > 0) return { status: 'warn', text: skippedNote ? `The cluster passed, with warnings; ${skippedNote}.` : 'The cluster passed, with warnings.' };
  if (skippedNote) return { status: 'pass', text: `Passed — ${skippedNote}.` };
  return { status: 'pass', text: 'The cluster passed every check.' };
}
