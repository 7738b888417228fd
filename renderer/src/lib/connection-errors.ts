import { CONNECTION_ERROR_EXPLANATIONS, type ConnectionFixWizard } from '../../../shared/connection-errors';
import type { ConnectionErrorCode } from '../../../shared/index';
import type { Route } from '../stores/navigation-store';

/** The wizards that fix what a failed connection names. */
export type FixWizard = NonNullable<ConnectionFixWizard>;

export interface ConnectionErrorHelp {
  /** A few words for the table cell. */
  summary: string;
  /** What the code means here, on local PKCS#11 tokens: the same words the `kms` CLI prints. */
  explanation: string;
  /** What the admin does about it. */
  fix: string;
  /** The wizard that does (or starts) the fix, if one does. */
  wizard: FixWizard | null;
}

/** The table's few words per code; the explanation and the fix are shared/connection-errors.ts's, as the CLI says them. */
const SUMMARY: Readonly<Record<ConnectionErrorCode, string>> = {
  INVALID_CREDENTIALS: 'Wrong kmsuser password',
  USER_NOT_FOUND: 'kmsuser missing on an HSM',
  USER_LOCKED_OUT: 'kmsuser locked out',
  USER_LOGGED_IN: 'Someone else is logged in',
  INSUFFICIENT_CLOUDHSM_HSMS: 'Too few active HSMs',
  CLUSTER_NOT_FOUND: 'Cluster not found',
  NETWORK_ERRORS: 'An HSM stopped answering',
  INTERNAL_ERROR: 'Internal error',
  SUBNET_NOT_FOUND: 'AWS only: subnet not found',
  INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET: 'AWS only: no free subnet addresses',
};

export function connectionErrorHelp(code: ConnectionErrorCode): ConnectionErrorHelp {
  const { explanation, remedy, wizard } = CONNECTION_ERROR_EXPLANATIONS[code];
  return { summary: SUMMARY[code], explanation, fix: remedy, wizard };
}

/** The buttons' words for each wizard. */
export const FIX_WIZARD_LABEL: Readonly<Record<FixWizard, string>> = {
  'kmsuser-setup': 'Open the kmsuser setup',
  'cluster-checks': 'Run the cluster checks',
  'cluster-initialization': 'Initialize the cluster',
};

/** Where the fix button goes, for the store's cluster. */
export function fixRoute(wizard: FixWizard, clusterId: string): Route {
  switch (wizard) {
    case 'kmsuser-setup':
      return { name: 'kmsuser-setup', clusterId };
    case 'cluster-checks':
      return { name: 'cluster-checks', clusterId };
    case 'cluster-initialization':
      return { name: 'cluster-initialize', clusterId };
  }
}

/**
 * The wizard that fixes a refusal of create or connect, by exception name, when one does: an uninitialised or
 * inactive cluster is initialised; one whose configuration is wrong is checked.
 */
export function fixWizardForError(name: string): FixWizard | null {
  if (name === 'CloudHsmClusterNotActiveException') return 'cluster-initialization';
  if (name === 'CloudHsmClusterInvalidConfigurationException') return 'cluster-checks';
  return null;
}
