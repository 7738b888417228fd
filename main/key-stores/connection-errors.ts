import type { ConnectionErrorCode } from '../../shared/contract/checks';
import { WorkbenchError } from '../../shared/errors';
import { isUnreachable } from '../clusters/check-result';
import type { SessionLostEvent } from '../hsm/hsm-host';

/** Why one member failed a connect, a login or a probe: the code the store reports and what the member said. */
export class MemberFailure extends Error {
  constructor(
    readonly hsmId: string,
    readonly code: ConnectionErrorCode,
    readonly detail: string,
  ) {
    super(detail);
  }
}

const BY_CKR: Readonly<Record<string, ConnectionErrorCode>> = {
  CKR_PIN_INCORRECT: 'INVALID_CREDENTIALS',
  CKR_PIN_LEN_RANGE: 'INVALID_CREDENTIALS',
  CKR_USER_PIN_NOT_INITIALIZED: 'USER_NOT_FOUND',
  CKR_PIN_LOCKED: 'USER_LOCKED_OUT',
  CKR_USER_ALREADY_LOGGED_IN: 'USER_LOGGED_IN',
  CKR_USER_ANOTHER_ALREADY_LOGGED_IN: 'USER_LOGGED_IN',
  CKR_TOKEN_NOT_PRESENT: 'INSUFFICIENT_CLOUDHSM_HSMS',
  CKR_TOKEN_NOT_RECOGNIZED: 'INSUFFICIENT_CLOUDHSM_HSMS',
  CKR_SLOT_ID_INVALID: 'INSUFFICIENT_CLOUDHSM_HSMS',
};

/** The ConnectionErrorCode of a failed host call: CKR codes in one table, a silent or crashed host is NETWORK_ERRORS. */
export function connectionErrorOf(error: unknown): ConnectionErrorCode {
  if (error instanceof MemberFailure) return error.code;
  if (!(error instanceof WorkbenchError)) return 'INTERNAL_ERROR';
  const byCode = error.code === undefined ? undefined : BY_CKR[error.code];
  if (byCode !== undefined) return byCode;
  if (isUnreachable(error) || error.name === 'HsmHostCrashedException' || error.name === 'HsmHostTimeoutException') return 'NETWORK_ERRORS';
  return 'INTERNAL_ERROR';
}

/** What a member said, as plain text: the error's name, CKR code and message (messages never carry secrets). */
export function failureDetail(error: unknown): string {
  if (error instanceof MemberFailure) return error.detail;
  if (error instanceof WorkbenchError) return `${error.name}${error.code ? ` (${error.code})` : ''}: ${error.message}`;
  return `an unexpected ${error instanceof Error ? error.name : typeof error}`;
}

export function asMemberFailure(hsmId: string, error: unknown): MemberFailure {
  return error instanceof MemberFailure ? error : new MemberFailure(hsmId, connectionErrorOf(error), failureDetail(error));
}

/** C_SetPIN answers that mean the member refused the change and kept its password. */
const PIN_REFUSALS: ReadonlySet<string> = new Set(['CKR_PIN_INCORRECT', 'CKR_PIN_LEN_RANGE', 'CKR_PIN_INVALID']);

/**
 * Whether a failed C_SetPIN definitely left the member's password as it was. Anything else (a timeout, a
 * crash, a lost session, a device error) may have come after the HSM changed it: only a login can tell.
 */
export function refusedPinChange(error: unknown): boolean {
  return error instanceof WorkbenchError && error.name === 'Pkcs11Exception' && error.code !== undefined && PIN_REFUSALS.has(error.code);
}

/** The failure a held session's loss means for its store: a removed token is INSUFFICIENT_CLOUDHSM_HSMS, any other loss NETWORK_ERRORS. */
export function sessionLostFailure(hsmId: string, event: SessionLostEvent): MemberFailure {
  const cause = event.reason === 'host-exit' ? 'its HSM host process exited' : `a call on it answered ${event.code ?? event.reason}`;
  return new MemberFailure(hsmId, event.reason === 'token-removed' ? 'INSUFFICIENT_CLOUDHSM_HSMS' : 'NETWORK_ERRORS', `the held kmsuser session was lost: ${cause}`);
}
