import type { CheckResult, CheckStatus, ConnectionErrorCode } from '../../shared/contract/checks';
import { WorkbenchError } from '../../shared/errors';

/** Builds one CheckResult; every check in the report goes through here so the shape never drifts. */
export function result(
  CheckId: string,
  Title: string,
  Status: CheckStatus,
  fields: { hsmId?: string | null; evidence?: string[]; remedy?: string | null; predicted?: ConnectionErrorCode | null } = {},
): CheckResult {
  return {
    CheckId,
    Title,
    Status,
    HsmId: fields.hsmId ?? null,
    Evidence: fields.evidence ?? [],
    Remedy: fields.remedy ?? null,
    PredictedConnectionErrorCode: fields.predicted ?? null,
  };
}

// PKCS#11 returns that mean "the HSM is not answering", whatever transport the module uses.
const UNREACHABLE_CODES = new Set(['CKR_DEVICE_ERROR', 'CKR_DEVICE_REMOVED', 'CKR_DEVICE_MEMORY', 'CKR_FUNCTION_FAILED', 'CKR_GENERAL_ERROR']);

/** True when an error means the module or the HSM behind it stopped answering. */
export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof WorkbenchError)) return false;
  if (error.name === 'HsmHostTimeoutException' || error.name === 'HsmHostCrashedException') return true;
  return error.name === 'Pkcs11Exception' && error.code !== undefined && UNREACHABLE_CODES.has(error.code);
}

/** The error as evidence: its name, CKR code and message (messages never carry secrets). */
export function errorEvidence(error: unknown): string {
  if (error instanceof WorkbenchError) return `${error.name}${error.code ? ` (${error.code})` : ''}: ${error.message}`;
  return 'An unexpected internal error occurred; the workbench log has the details.';
}

export const NETWORK_REMEDY =
  'The HSM stopped answering. For a network HSM, check that its server (for p11-kit: the `p11-kit server` process and its socket in P11_KIT_SERVER_ADDRESS) is running and reachable, then re-run the checks. For a USB HSM, check that it is plugged in.';
