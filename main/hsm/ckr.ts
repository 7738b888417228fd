import { constantNames, unknownName } from './pkcs11-constants';

/** CK_RV → CKR_ name: the one place PKCS#11 return values get their names. */
const CKR_NAMES = constantNames('CKR_');

export function ckrName(rv: number): string {
  return CKR_NAMES.get(rv) ?? unknownName('CKR_', rv);
}

/**
 * What to do about the returns an administrator meets most; the message of a Pkcs11Exception ends
 * with this. Keyed by name only: the values come from pkcs11js.
 */
const REMEDIES: Readonly<Record<string, string>> = {
  CKR_PIN_INCORRECT: 'The PIN was not accepted. Check it and try again; tokens may lock the user after repeated failures.',
  CKR_PIN_LEN_RANGE: 'The PIN is shorter or longer than the token allows (see MinPinLen/MaxPinLen in the token info).',
  CKR_PIN_LOCKED: 'The user is locked out of this token. The security officer must reset the PIN (C_InitPIN).',
  CKR_PIN_INVALID: 'The new PIN contains characters the token does not accept.',
  CKR_PIN_EXPIRED: 'The PIN has expired. Set a new one (C_SetPIN) before logging in again.',
  CKR_USER_PIN_NOT_INITIALIZED: 'The token has no user PIN yet. The security officer must set one (C_InitPIN).',
  CKR_USER_ALREADY_LOGGED_IN: 'This user is already logged in on the token; log out first or reuse the existing login.',
  CKR_USER_ANOTHER_ALREADY_LOGGED_IN: 'Another user is logged in on this token; log that user out first.',
  CKR_USER_NOT_LOGGED_IN: 'Log in to the token first.',
  CKR_USER_TYPE_INVALID: 'The token does not know this user type.',
  CKR_SESSION_HANDLE_INVALID: 'The session is no longer open (the HSM host or the token may have restarted). Open a new session.',
  CKR_SESSION_CLOSED: 'The session was closed. Open a new session.',
  CKR_SESSION_READ_ONLY: 'This needs a read-write session. Open the session read-write.',
  CKR_SESSION_EXISTS: 'Sessions are open on this token; close them before initialising it.',
  CKR_SESSION_READ_ONLY_EXISTS: 'A read-only session is open; the security officer needs every session read-write. Close the other sessions first.',
  CKR_SLOT_ID_INVALID: 'The slot is not known to the module; list the slots again (slot ids can change when tokens are added or removed).',
  CKR_TOKEN_NOT_PRESENT: 'No token is present in this slot. Insert or connect the HSM, then list the slots again.',
  CKR_TOKEN_NOT_RECOGNIZED: 'The module does not recognise the token in this slot.',
  CKR_DEVICE_REMOVED: 'The token was removed while in use. Reconnect it and list the slots again.',
  CKR_DEVICE_ERROR: 'The HSM or the connection to it failed. Check that it is connected (for a network HSM: that its server is running), then try again.',
  CKR_DEVICE_MEMORY: 'The token is out of memory.',
  CKR_GENERAL_ERROR: 'The module reported an unrecoverable error. Check the HSM and its configuration, then try again.',
  CKR_FUNCTION_FAILED: 'The module could not complete the request. Try again; if it persists, check the HSM.',
  CKR_MECHANISM_INVALID: 'The token does not support this mechanism, or the key does not allow it.',
  CKR_CRYPTOKI_NOT_INITIALIZED: 'The module is not initialised; the HSM host restarts it on the next request.',
  CKR_CANT_LOCK: 'The module cannot do its own locking (CKF_OS_LOCKING_OK).',
  CKR_OPERATION_ACTIVE: 'Another operation is still running in this session; wait for it or use another session.',
};

/** The message of a Pkcs11Exception: the function, the CKR_ name and what to do. Never any argument values. */
export function ckrMessage(functionName: string, code: string): string {
  const remedy = REMEDIES[code];
  return `${functionName} failed with ${code}.${remedy ? ` ${remedy}` : ''}`;
}
