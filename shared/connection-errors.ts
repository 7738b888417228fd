import type { ConnectionErrorCode } from './contract/checks';

/** The wizard that fixes a connection error, for the GUI's button into it; null when the fix is outside the workbench. */
export type ConnectionFixWizard = 'kmsuser-setup' | 'cluster-checks' | 'cluster-initialization' | null;

export interface ConnectionErrorExplanation {
  /** What the code means here, in plain words. */
  readonly explanation: string;
  /** What the admin does about it. */
  readonly remedy: string;
  readonly wizard: ConnectionFixWizard;
}

const DISCONNECT_FIRST = 'Then disconnect the key store (a FAILED store must be disconnected first) and connect it again.';

/**
 * The fix when kmsuser's password on an HSM is not the store's: disconnect comes first, because a store's
 * password can change only while DISCONNECTED. change-password, not create: C_InitPIN also creates a missing
 * kmsuser, while `kmsuser create` refuses once any HSM has one.
 */
const RESET_KMSUSER =
  'Disconnect the key store first (a FAILED store must be disconnected before its password can change). Then, as the security officer, set one kmsuser password on every HSM (kmsuser change-password; it also creates kmsuser where it is missing), tell the key store (update-custom-key-store --key-store-password-stdin), and connect it again.';

/**
 * One text per ConnectionErrorCode, shown by the GUI and the `kms` CLI alike (AWS's own list, "fix-keystore"
 * in the KMS developer guide, told in PKCS#11 terms).
 */
export const CONNECTION_ERROR_EXPLANATIONS: Readonly<Record<ConnectionErrorCode, ConnectionErrorExplanation>> = {
  INVALID_CREDENTIALS: {
    explanation: 'An HSM refused the kmsuser password the key store holds (CKR_PIN_INCORRECT): the password was changed on the HSMs without telling the key store, or the key store was given a wrong one.',
    remedy: RESET_KMSUSER,
    wizard: 'kmsuser-setup',
  },
  USER_NOT_FOUND: {
    explanation: 'An HSM has no kmsuser (its token does not set CKF_USER_PIN_INITIALIZED, or C_Login answered CKR_USER_PIN_NOT_INITIALIZED): its user PIN was never set, or was wiped when the token was initialized again.',
    remedy: RESET_KMSUSER,
    wizard: 'kmsuser-setup',
  },
  USER_LOCKED_OUT: {
    explanation: 'An HSM locked the kmsuser after too many wrong passwords (CKR_PIN_LOCKED).',
    remedy: RESET_KMSUSER,
    wizard: 'kmsuser-setup',
  },
  USER_LOGGED_IN: {
    explanation: 'An HSM is already logged in (CKR_USER_ALREADY_LOGGED_IN or CKR_USER_ANOTHER_ALREADY_LOGGED_IN) by another operation of this workbench or by a program sharing its login state, so the workbench could not log in as kmsuser.',
    remedy: `Let the other operation finish, or log out the other session on that HSM (close the program holding it; kmsuser is for the workbench only). ${DISCONNECT_FIRST}`,
    wizard: 'cluster-checks',
  },
  INSUFFICIENT_CLOUDHSM_HSMS: {
    explanation: 'An HSM of the cluster is not there: the module lists no token that is that member (it was removed, or its slot is gone), so the cluster has fewer active HSMs than a connect needs.',
    remedy: `Bring the token back (or remove that HSM from the cluster) and run the cluster checks. ${DISCONNECT_FIRST}`,
    wizard: 'cluster-checks',
  },
  CLUSTER_NOT_FOUND: {
    explanation: "The key store's cluster is no longer in the workbench.",
    remedy: 'Recreate the cluster from the same HSMs and point the key store at it (update-custom-key-store --cloud-hsm-cluster-id), or delete the key store.',
    wizard: null,
  },
  NETWORK_ERRORS: {
    explanation: "An HSM stopped answering: its PKCS#11 module crashed, timed out or reported a device error (for a network HSM, the server or the link is down).",
    remedy: `Check that the HSM (or its server) is up and reachable, and run the cluster checks. ${DISCONNECT_FIRST}`,
    wizard: 'cluster-checks',
  },
  INTERNAL_ERROR: {
    explanation: 'The connect failed for a reason the workbench did not expect.',
    remedy: `The workbench log (logs/workbench.log in the state directory) has the details. ${DISCONNECT_FIRST}`,
    wizard: null,
  },
  SUBNET_NOT_FOUND: {
    explanation: 'An AWS code about the cluster\'s VPC subnets; local HSMs have none, so the workbench never reports it.',
    remedy: 'Nothing to do here.',
    wizard: null,
  },
  INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET: {
    explanation: "An AWS code about the cluster's VPC subnets; local HSMs have none, so the workbench never reports it.",
    remedy: 'Nothing to do here.',
    wizard: null,
  },
};
