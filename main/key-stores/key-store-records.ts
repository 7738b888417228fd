import { hostname } from 'node:os';
import type { ConnectionErrorCode } from '../../shared/contract/checks';
import type { ConnectionState, CustomKeyStoreInfo } from '../../shared/contract/key-stores';
import { WorkbenchError } from '../../shared/errors';
import type { CustomKeyStoreRecord } from '../state/records';
import type { WorkbenchState } from '../state/state-schema';

export function keyStoreNotFound(what: string): WorkbenchError {
  return new WorkbenchError('CustomKeyStoreNotFoundException', `There is no custom key store ${what}. List them with "hsm-workbench kms describe-custom-key-stores".`);
}

export function findKeyStore(state: WorkbenchState, customKeyStoreId: string): CustomKeyStoreRecord {
  const store = state.customKeyStores.find((k) => k.CustomKeyStoreId === customKeyStoreId);
  if (store === undefined) throw keyStoreNotFound(customKeyStoreId);
  return store;
}

/** Whether the process that moved the store to CONNECTING/DISCONNECTING still runs (on another host it cannot be told: presumed alive). */
function ownerAlive(store: CustomKeyStoreRecord, inFlightHere: ReadonlySet<string>): boolean {
  const owner = store.Owner;
  if (owner === undefined) return false;
  if (owner.Host === hostname() && owner.Pid === process.pid) return inFlightHere.has(store.CustomKeyStoreId);
  return processAlive(owner);
}

/**
 * Whether the process an owner record names still runs: on another host it cannot be told, so it is presumed
 * alive, and so is this process (what it started, it finishes or rolls back itself).
 */
export function processAlive(owner: NonNullable<CustomKeyStoreRecord['Owner']>): boolean {
  if (owner.Host !== hostname() || owner.Pid === process.pid) return true;
  try {
    process.kill(owner.Pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The store's state as it really is: a CONNECTING or DISCONNECTING whose process is gone (kill -9) will never
 * finish, so it is FAILED (INTERNAL_ERROR), and like any FAILED store it is disconnected before reconnecting;
 * the next connect finishes an interrupted password rotation from the journal.
 */
export function effectiveState(store: CustomKeyStoreRecord, inFlightHere: ReadonlySet<string>): { state: ConnectionState; code?: ConnectionErrorCode; interrupted: boolean } {
  const moving = store.ConnectionState === 'CONNECTING' || store.ConnectionState === 'DISCONNECTING';
  if (moving && !ownerAlive(store, inFlightHere)) return { state: 'FAILED', code: 'INTERNAL_ERROR', interrupted: true };
  if (store.ConnectionState === 'FAILED') return { state: 'FAILED', code: store.ConnectionErrorCode ?? 'INTERNAL_ERROR', interrupted: false };
  return { state: store.ConnectionState, interrupted: false };
}

export function toKeyStoreInfo(store: CustomKeyStoreRecord, inFlightHere: ReadonlySet<string>): CustomKeyStoreInfo {
  const { state, code } = effectiveState(store, inFlightHere);
  return {
    CustomKeyStoreId: store.CustomKeyStoreId,
    CustomKeyStoreName: store.CustomKeyStoreName,
    CloudHsmClusterId: store.CloudHsmClusterId,
    ...(store.TrustAnchorCertificate === undefined ? {} : { TrustAnchorCertificate: store.TrustAnchorCertificate }),
    ConnectionState: state,
    ...(state === 'FAILED' && code !== undefined ? { ConnectionErrorCode: code } : {}),
    CreationDate: store.CreationDate,
    CustomKeyStoreType: 'AWS_CLOUDHSM',
  };
}

export function invalidState(store: CustomKeyStoreRecord, state: ConnectionState, wanted: string): WorkbenchError {
  return new WorkbenchError(
    'CustomKeyStoreInvalidStateException',
    `Custom key store ${store.CustomKeyStoreId} ("${store.CustomKeyStoreName}") is ${state}; ${wanted}.`,
    { details: { CustomKeyStoreId: store.CustomKeyStoreId, ConnectionState: state } },
  );
}

/** The process now moving the store, so another can tell a live move from one a kill -9 interrupted. */
export function ownerHere(): NonNullable<CustomKeyStoreRecord['Owner']> {
  return { Pid: process.pid, Host: hostname(), Since: new Date().toISOString() };
}

/** The context a key store's kmsuser passwords (current and pending) are sealed under: a sealed value opens only for its own store. */
export function kmsuserPasswordContext(customKeyStoreId: string): string {
  return `kmsuser-password:${customKeyStoreId}`;
}
