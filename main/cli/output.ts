import type { CheckResult, ClusterCheckReport } from '../../shared/contract/checks';
import { DEMO_CA_LABEL, type ClusterInfo, type HsmTrust } from '../../shared/contract/clusters';
import type { ResponseOf } from '../../shared/contract/operations';
import type { ModuleInfo, SlotInfo } from '../../shared/contract/hsm';
import type { DescribeKmsuserResponse, KmsuserPasswordResponse } from '../../shared/contract/kmsuser';
import type { ErrorInfo } from '../../shared/errors';
import { terminalSafe, terminalSafeJson } from '../../shared/terminal-text';
import { tokenFlagBadges } from '../../shared/token-flags';
import { formatText } from './aws-text';
import { textTable as table } from './text-table';

export type OutputFormat = 'table' | 'json' | 'text';

/**
 * The one way the CLI turns a value into output: JSON or the AWS CLI's tab-separated text for scripts, or the
 * tables `asText` draws, both from a copy whose every string is terminal-safe. Token labels, names, paths and
 * messages come from HSMs, the state file and argv; none reaches a terminal raw (a tab or newline in a value is
 * escaped too, so it cannot shift a text column). The format functions below are only called through here.
 */
export function render<T>(value: T, format: OutputFormat, asText: (safe: T) => string): string {
  if (format === 'json') return terminalSafeJson(value);
  const safe = terminalSafe(value);
  return format === 'text' ? formatText(safe) : asText(safe);
}

export function formatSlots(result: { Module: ModuleInfo; Slots: SlotInfo[] }): string {
  const m = result.Module;
  const header = `${m.LibraryDescription} ${m.LibraryVersion} (${m.ManufacturerId}), Cryptoki ${m.CryptokiVersion}`;
  const rows = result.Slots.map((s) => [
    s.SlotId,
    // An uninitialised token's label and serial are blank: say what it is rather than print nothing.
    s.Token === null ? '(no token)' : s.Token.Flags.includes('CKF_TOKEN_INITIALIZED') ? s.Token.Label : '(uninitialised)',
    s.Token?.SerialNumber ?? '',
    s.Token ? `${s.Token.ManufacturerId} ${s.Token.Model}` : s.SlotDescription,
    // The GUI's badge words; the JSON output keeps the full CKF_ names.
    s.Token ? tokenFlagBadges(s.Token.Flags).map((b) => b.text).join(', ') : '',
  ]);
  return `${header}\n${table(['SlotId', 'Token', 'Serial', 'Model', 'Flags'], rows)}`;
}

export function formatClusters(clusters: readonly ClusterInfo[]): string {
  if (clusters.length === 0) return 'No clusters. Create one with "hsm-workbench cluster create" or "hsm-workbench demo init".';
  return table(
    ['ClusterId', 'Name', 'HSMs', 'Module', 'Created'],
    clusters.map((c) => [c.ClusterId, c.ClusterName, String(c.Hsms.length), c.ModulePath, c.CreateTimestamp]),
  );
}

export function formatCluster(c: ClusterInfo): string {
  const env = Object.entries(c.ModuleEnvironment).map(([k, v]) => `${k}=${v}`);
  const facts = table(
    ['Field', 'Value'],
    [
      ['ClusterId', c.ClusterId],
      ['ClusterName', c.ClusterName],
      ['ModulePath', c.ModulePath],
      ['ModuleEnvironment', env.join('\n') || '(none)'],
      ['LoginFormat', c.LoginFormat],
      ['CustomKeyStoreId', c.CustomKeyStoreId ?? '(none)'],
      ['CreateTimestamp', c.CreateTimestamp],
      ['State', c.State],
      ['TrustAnchor', c.Certificates.TrustAnchorCertificate === null ? '(none)' : c.Certificates.DemoCa ? DEMO_CA_LABEL : 'installed'],
    ],
  );
  const members = table(
    ['HsmId', 'TokenSerial', 'TokenLabel', 'Trust'],
    c.Hsms.map((h) => [h.HsmId, h.TokenSerial ?? '', h.TokenLabel ?? '', describeTrust(h.Trust)]),
  );
  return `${facts}\n${members}`;
}

/** A member's trust in a few words: what is missing, or COMPLETE. */
function describeTrust(t: HsmTrust): string {
  if (t.Status === 'COMPLETE') return 'COMPLETE';
  const missing = [...(t.MemberKey ? [] : ['no member key']), ...(t.MissingTrustFrom.length > 0 ? [`not trusted by ${t.MissingTrustFrom.join(', ')}`] : []), ...(t.Certificates ? [] : ['no certificates'])];
  return `INCOMPLETE: ${missing.join('; ')}`;
}

/** The command that makes a key store over an ACTIVE cluster whose trust anchor is the demo CA's certificate at `path`. */
export function createKeyStoreCommand(clusterId: string, trustAnchorPath: string, name = 'NAME'): string {
  return `hsm-workbench kms create-custom-key-store --custom-key-store-name ${name} --cloud-hsm-cluster-id ${clusterId} --trust-anchor-certificate file://${trustAnchorPath} --key-store-password-stdin`;
}

export function formatInitialized(r: ResponseOf<'InitializeCluster'>, csrPath: string | undefined): string {
  const lines = [formatCluster(r.Cluster)];
  lines.push(csrPath === undefined ? r.ClusterCsr.trimEnd() : `CSR written to ${csrPath}.`);
  if (r.TrustAnchorCertificatePath !== null) {
    lines.push(
      `Cluster certificate issued and installed by the ${DEMO_CA_LABEL}.`,
      `Trust anchor (${DEMO_CA_LABEL}): ${r.TrustAnchorCertificatePath}`,
      'Next:',
      `  ${createKeyStoreCommand(r.Cluster.ClusterId, r.TrustAnchorCertificatePath)}`,
    );
  } else {
    lines.push('Next: have your CA sign the CSR, then:', `  hsm-workbench cluster install-certificate ${r.Cluster.ClusterId} --cluster-certificate file://cluster.crt --trust-anchor-certificate file://customerCA.crt --stdin`);
  }
  return lines.join('\n');
}

const STATUS_WORD: Record<CheckResult['Status'], string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skipped: 'SKIP' };

/** One check as it finishes: status, id, title, then evidence and remedy indented beneath. */
export function formatCheck(c: CheckResult): string {
  const lines = [`${STATUS_WORD[c.Status].padEnd(4)}  ${c.Title}  [${c.CheckId}${c.HsmId ? ` ${c.HsmId}` : ''}]`];
  for (const e of c.Evidence) lines.push(`      ${e}`);
  if (c.PredictedConnectionErrorCode) lines.push(`      predicts: ${c.PredictedConnectionErrorCode}`);
  if (c.Remedy) lines.push(`      fix: ${c.Remedy}`);
  return lines.join('\n');
}

export function formatReportSummary(r: ClusterCheckReport): string {
  const s = r.Summary;
  const verdict = r.Passed ? 'Cluster checks passed' : 'Cluster checks FAILED';
  return `${verdict} for ${r.ClusterName} (${r.ClusterId}): ${s.Pass} passed, ${s.Warn} warning(s), ${s.Fail} failed, ${s.Skipped} skipped; ${r.ActiveHsmCount} active HSM(s).`;
}

/** What kmsuser create / change-password did on each HSM, and the reminder that a key store is told separately. */
export function formatKmsuserPassword(r: KmsuserPasswordResponse, done: string): string {
  const rows = table(['HsmId', 'TokenSerial', 'TokenLabel', 'Outcome'], r.Hsms.map((h) => [h.HsmId, h.TokenSerial ?? '', h.TokenLabel ?? '', h.Outcome]));
  const lines = [`${done} on ${r.Hsms.length} HSM(s) of ${r.ClusterId}.`, rows];
  // As in AWS: the HSMs' password and the key store's copy of it are changed separately.
  if (r.CustomKeyStoreId !== null) {
    lines.push(
      `Key store ${r.CustomKeyStoreId} still holds the previous password. Tell it the new one: hsm-workbench kms update-custom-key-store --custom-key-store-id ${r.CustomKeyStoreId} --key-store-password-stdin`,
    );
  }
  return lines.join('\n');
}

/** The kmsuser ledger: per HSM what the token says now and what the workbench's own logins and changes were. */
export function formatKmsuserStatus(r: DescribeKmsuserResponse): string {
  const present = (p: boolean | null): string => (p === null ? '?' : p ? 'yes' : 'NO');
  const rows = r.Hsms.map((h) => [
    h.HsmId,
    h.TokenSerial ?? '',
    h.TokenLabel ?? '',
    h.Reachable ? 'yes' : 'NO',
    present(h.KmsuserPresent),
    h.PinFlags.map((f) => f.replace(/^CKF_USER_PIN_/, '')).join(', ') || (h.Reachable ? 'none' : ''),
    h.LastSuccessfulLogin ?? '-',
    h.LastRotation ?? '-',
    `${h.FailedLoginsCaused}${h.LastFailedLogin ? ` (last ${h.LastFailedLogin})` : ''}`,
  ]);
  const problems = r.Hsms.flatMap((h) => (h.Problem === null ? [] : [`${h.HsmId}: ${h.Problem}`]));
  return [
    `kmsuser on ${r.ClusterName} (${r.ClusterId}):`,
    table(['HsmId', 'TokenSerial', 'TokenLabel', 'Reachable', 'kmsuser', 'PIN flags', 'Last login', 'Last rotation', 'Failed logins caused'], rows),
    ...problems,
  ].join('\n');
}

export function formatError(error: ErrorInfo, format: OutputFormat): string {
  // Text output is for a response's values; an error on stderr reads the same as in a table.
  return render({ Error: { Name: error.name, Message: error.message, Code: error.code, Details: error.details } }, format === 'json' ? 'json' : 'table', ({ Error: e }) => `${e.Name}${e.Code ? ` (${e.Code})` : ''}: ${e.Message}`);
}
