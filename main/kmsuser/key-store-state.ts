import { WorkbenchError } from '../../shared/errors';
import { keyStoreOfCluster, type CustomKeyStoreRecord } from '../state/records';

/** Connection states in which the workbench holds kmsuser sessions logged in on the cluster's HSMs. */
const LOGGED_IN_STATES: ReadonlySet<string> = new Set(['CONNECTED', 'CONNECTING']);

/**
 * Refuses to change kmsuser's password under a connected (or connecting) key store: its sessions are logged in
 * as kmsuser and it rotates the password itself, so a change behind its back would leave it holding a password
 * no HSM has. Disconnecting first is the admin's decision, as in AWS.
 */
export function refuseWhileKeyStoreConnected(keyStores: readonly CustomKeyStoreRecord[], clusterId: string, operation: string): void {
  const keyStore = keyStoreOfCluster(keyStores, clusterId);
  if (keyStore === undefined || !LOGGED_IN_STATES.has(keyStore.ConnectionState)) return;
  const state = keyStore.ConnectionState;
  throw new WorkbenchError(
    'CustomKeyStoreInvalidStateException',
    `Custom key store ${keyStore.CustomKeyStoreId}, which uses cluster ${clusterId}, is ${state}: its sessions are logged in as kmsuser. ${operation} was refused and nothing was changed. Disconnect it first (hsm-workbench kms disconnect-custom-key-store --custom-key-store-id ${keyStore.CustomKeyStoreId}).`,
    { details: { ClusterId: clusterId, CustomKeyStoreId: keyStore.CustomKeyStoreId, ConnectionState: state } },
  );
}
