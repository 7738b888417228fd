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

// PKCS#11 returns that mean "the HSM is not answering", whatever transport the module uses
// (p11-kit's client returns CKR_DEVICE_ERROR for every call once its server is gone).
const UNREACHABLE_CODES = new Set(['CKR_DEVICE_ERROR', 'CKR_DEVICE_REMOVED', 'CKR_FUNCTION_FAILED', 'CKR_GENERAL_ERROR']);

/** True when an error means the module or the HSM behind it stopped answering (a hang counts; a crash does not). */
export function isUnreachable(error: unknown): boolean {
  if (!(error instanceof WorkbenchError)) return false;
  if (error.name === 'HsmHostTimeoutException') return true;
  return error.name === 'Pkcs11Exception' && error.code !== undefined && UNREACHABLE_CODES.has(error.code);
}

/** True when the vendor library took its host process down: a software fault, not the network. */
export function isCrash(error: unknown): boolean {
  return error instanceof WorkbenchError && error.name === 'HsmHostCrashedException';
}

const CRASH_REMEDY =
  "The HSM vendor's PKCS#11 library crashed. Check that the module path is the right library for this platform and that the vendor's client software is installed and configured; the vendor's logs may say more. The next check run starts it afresh.";

/** The error as evidence: its name, CKR code and message (messages never carry secrets). */
export function errorEvidence(error: unknown): string {
  if (error instanceof WorkbenchError) return `${error.name}${error.code ? ` (${error.code})` : ''}: ${error.message}`;
  // Named by its type only (its message could quote anything); nothing logs it here, so say what to do instead.
  return `An unexpected internal error occurred (${error instanceof Error ? error.name : typeof error}): a workbench defect; please report it with the check that showed it.`;
}

/**
 * A module that loads but lists no slots has no HSM behind it: p11-kit's client, for one, loads fine and
 * lists nothing when its server cannot be reached. The checks fail module.slots on it and `hsm list-slots`
 * exits 1 on it; both say it in these words.
 */
export const NO_SLOTS = {
  evidence: 'The module loaded but lists no slots at all.',
  cause: 'A module with no slots is usually a network client without a connection, or a USB HSM that is not plugged in.',
} as const;

export const NETWORK_REMEDY =
  'The HSM stopped answering. For a network HSM, check that its server (for p11-kit: the `p11-kit server` process and its socket in P11_KIT_SERVER_ADDRESS) is running and reachable, then re-run the checks. For a USB HSM, check that it is plugged in.';

/** What a failed call predicts and asks for: a silent HSM and a crashed library override the check's own verdict. */
export function failureVerdict(error: unknown, otherwise: { predicted: ConnectionErrorCode; remedy: string }): { predicted: ConnectionErrorCode; remedy: string } {
  if (isUnreachable(error)) return { predicted: 'NETWORK_ERRORS', remedy: NETWORK_REMEDY };
  if (isCrash(error)) return { predicted: 'INTERNAL_ERROR', remedy: CRASH_REMEDY };
  return otherwise;
}
