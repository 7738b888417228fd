import type { ConnectionErrorCode } from '../../../shared/index';
import type { Route } from '../stores/navigation-store';

/** The wizards that fix what a failed connection names. */
export type FixWizard = 'kmsuser-setup' | 'cluster-checks' | 'cluster-initialize';

export interface ConnectionErrorHelp {
  /** A few words for the table cell. */
  summary: string;
  /** What the code means here, on local PKCS#11 tokens (not in an AWS VPC). */
  explanation: string;
  /** What the admin does about it. */
  fix: string;
  /** The wizard that does (or starts) the fix, if one does. */
  wizard: FixWizard | null;
}

/**
 * Every AWS ConnectionErrorCode with its local meaning and remedy (DESIGN.md §2: map each to its local meaning).
 * A password reset on the HSMs does not tell the store (as in AWS): where the fix is one, the store's password
 * must be updated after it, and the fix says so.
 */
export const CONNECTION_ERROR_HELP: Readonly<Record<ConnectionErrorCode, ConnectionErrorHelp>> = {
  INVALID_CREDENTIALS: {
    summary: 'Wrong kmsuser password',
    explanation: 'An HSM refused the kmsuser password the key store holds (CKR_PIN_INCORRECT): the password was changed on the HSMs without telling the store, or the store was given a wrong one.',
    fix: 'Set a new kmsuser password on every HSM with the kmsuser setup wizard (as the SO, you need not know the current one), then give the key store that password with “Update password”, disconnect the store and connect again.',
    wizard: 'kmsuser-setup',
  },
  USER_NOT_FOUND: {
    summary: 'kmsuser missing on an HSM',
    explanation: 'At least one HSM of the cluster has no kmsuser: its user PIN was never initialised (CKR_USER_PIN_NOT_INITIALIZED).',
    fix: 'Create the kmsuser on every HSM with the kmsuser setup wizard, give the key store the new password with “Update password”, then disconnect the store and connect again.',
    wizard: 'kmsuser-setup',
  },
  USER_LOCKED_OUT: {
    summary: 'kmsuser locked out',
    explanation: 'An HSM locked the kmsuser after too many failed logins (CKR_PIN_LOCKED). It stays locked until its SO sets a new password.',
    fix: 'Reset the kmsuser password on every HSM with the kmsuser setup wizard (an SO login unlocks it), give the key store that password with “Update password”, then disconnect and connect again.',
    wizard: 'kmsuser-setup',
  },
  USER_LOGGED_IN: {
    summary: 'kmsuser already logged in',
    explanation: 'Another program holds a session logged in on an HSM (CKR_USER_ALREADY_LOGGED_IN), so the workbench cannot log in as kmsuser and rotate its password.',
    fix: 'Close the other programs using the token (pkcs11-tool, a browser, another workbench), run the cluster checks to confirm, then disconnect the store and connect again.',
    wizard: 'cluster-checks',
  },
  INSUFFICIENT_CLOUDHSM_HSMS: {
    summary: 'Too few active HSMs',
    explanation: 'No HSM of the cluster is active: each member must be present, initialised, reachable, a trusted member, and let kmsuser log in.',
    fix: 'Run the cluster checks: each failing HSM is named with its remedy (a token to plug in, a trust to complete, a kmsuser to create). Then disconnect the store and connect again.',
    wizard: 'cluster-checks',
  },
  CLUSTER_NOT_FOUND: {
    summary: 'Cluster not found',
    explanation: 'The key store’s cluster cannot be reached: its module does not load, or none of its tokens is found by serial.',
    fix: 'Run the cluster checks to see whether the module path, its environment or the tokens changed, fix that, then disconnect the store and connect again.',
    wizard: 'cluster-checks',
  },
  NETWORK_ERRORS: {
    summary: 'An HSM stopped answering',
    explanation: 'An HSM stopped answering while connected or connecting: a token was removed, its host process died, or a network HSM (p11-kit server) went away (CKR_DEVICE_ERROR, CKR_DEVICE_REMOVED).',
    fix: 'Bring the HSM back (plug the token in, restart the network HSM’s server), run the cluster checks, then disconnect the store and connect again.',
    wizard: 'cluster-checks',
  },
  INTERNAL_ERROR: {
    summary: 'Internal error',
    explanation: 'The workbench itself failed while connecting. The details are in logs/workbench.log in the state directory.',
    fix: 'Read the log, run the cluster checks, then disconnect the store and connect again. If it repeats, report it with the log.',
    wizard: 'cluster-checks',
  },
  SUBNET_NOT_FOUND: {
    summary: 'AWS only: subnet not found',
    explanation: 'In AWS a CloudHSM cluster’s subnet was deleted. Local HSMs have no subnets: the workbench never reports this code itself.',
    fix: 'If a store shows it, its record came from elsewhere: disconnect the store and connect again.',
    wizard: null,
  },
  INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET: {
    summary: 'AWS only: no free subnet addresses',
    explanation: 'In AWS the cluster’s subnet had no free IP address for the connection. Local HSMs have no subnets: the workbench never reports this code itself.',
    fix: 'If a store shows it, its record came from elsewhere: disconnect the store and connect again.',
    wizard: null,
  },
};

/** The help for a code. */
export function connectionErrorHelp(code: ConnectionErrorCode): ConnectionErrorHelp {
  return CONNECTION_ERROR_HELP[code];
}

/** The buttons' words for each wizard. */
export const FIX_WIZARD_LABEL: Readonly<Record<FixWizard, string>> = {
  'kmsuser-setup': 'Open the kmsuser setup',
  'cluster-checks': 'Run the cluster checks',
  'cluster-initialize': 'Initialize the cluster',
};

/** Where the fix button goes, for the store's cluster. */
export function fixRoute(wizard: FixWizard, clusterId: string): Route {
  return { name: wizard, clusterId };
}

/**
 * The wizard that fixes a refusal of create or connect, by exception name, when one does: an uninitialised or
 * inactive cluster is initialised; one whose configuration is wrong is checked.
 */
export function fixWizardForError(name: string): FixWizard | null {
  if (name === 'CloudHsmClusterNotActiveException') return 'cluster-initialize';
  if (name === 'CloudHsmClusterInvalidConfigurationException') return 'cluster-checks';
  return null;
}
