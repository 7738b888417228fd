import { z } from 'zod';
import { ConnectionErrorCode } from './checks';
import { ClusterId } from './clusters';
import { kmsuserPasswordField } from './credentials';
import { printableName } from './names';

/*
 * AWS KMS custom key stores (CloudHSM type), with AWS's request and response shapes and constraints
 * (../shared/reference/aws-kms.md §1, §3): the `kms` CLI is generated from these schemas, so a member
 * name here is a flag there (`CustomKeyStoreName` → `--custom-key-store-name`).
 */

/** AWS allows 1–64 characters; the workbench makes `cks-` + 17 hex digits (main/core/ids.ts). An unknown id is CustomKeyStoreNotFoundException, not a validation error. */
export const CustomKeyStoreId = printableName(
  'CustomKeyStoreId',
  z.string().min(1, 'CustomKeyStoreId is required').max(64, 'CustomKeyStoreId is at most 64 characters'),
);

export const CustomKeyStoreName = printableName(
  'CustomKeyStoreName',
  z.string().min(1, 'CustomKeyStoreName is 1 to 256 characters').max(256, 'CustomKeyStoreName is 1 to 256 characters'),
);

/** The kmsuser password. Secret: sealed by the secret store, never logged, audited or echoed. */
export const KeyStorePassword = kmsuserPasswordField('KeyStorePassword');

/** PEM text of the certificate that issued the cluster certificate (customerCA.crt). Whether it is a certificate is checked by the service, which names this field. */
export const TrustAnchorCertificate = z
  .string()
  .min(1, 'TrustAnchorCertificate is 1 to 5000 characters (the PEM text of customerCA.crt)')
  .max(5000, 'TrustAnchorCertificate is 1 to 5000 characters (the PEM text of customerCA.crt)');

export const ConnectionState = z.enum(['CONNECTED', 'CONNECTING', 'FAILED', 'DISCONNECTED', 'DISCONNECTING']);
export const CustomKeyStoreType = z.enum(['AWS_CLOUDHSM']);

export { ConnectionErrorCode };

export const CreateCustomKeyStoreRequest = z.object({
  CustomKeyStoreName,
  // AWS's model leaves these optional for the XKS type; for AWS_CLOUDHSM its server requires them, so the contract does.
  CloudHsmClusterId: ClusterId,
  TrustAnchorCertificate,
  KeyStorePassword,
  CustomKeyStoreType: CustomKeyStoreType.default('AWS_CLOUDHSM'),
});
export const CreateCustomKeyStoreResponse = z.object({ CustomKeyStoreId: z.string() });

/** CustomKeyStoresListEntry. `ConnectionErrorCode` is present only when the state is FAILED. */
export const CustomKeyStoreInfo = z.object({
  CustomKeyStoreId: z.string(),
  CustomKeyStoreName: z.string(),
  CloudHsmClusterId: z.string(),
  /** Absent only for a store carried over from schema 2, which never had one (AWS's entry has no required member). */
  TrustAnchorCertificate: z.string().optional(),
  ConnectionState,
  ConnectionErrorCode: ConnectionErrorCode.optional(),
  /** ISO 8601, as the AWS CLI v2 prints timestamps. */
  CreationDate: z.string(),
  CustomKeyStoreType,
});

export const DescribeCustomKeyStoresRequest = z
  .object({
    CustomKeyStoreId: CustomKeyStoreId.optional(),
    CustomKeyStoreName: CustomKeyStoreName.optional(),
    Limit: z.number().int().min(1, 'Limit is 1 to 1000').max(1000, 'Limit is 1 to 1000').optional(),
    Marker: z.string().min(1).max(1024).optional(),
  })
  .refine((r) => r.CustomKeyStoreId === undefined || r.CustomKeyStoreName === undefined, {
    message: 'give CustomKeyStoreId or CustomKeyStoreName, not both',
    path: ['CustomKeyStoreName'],
  });
export const DescribeCustomKeyStoresResponse = z.object({
  CustomKeyStores: z.array(CustomKeyStoreInfo),
  NextMarker: z.string().optional(),
  Truncated: z.boolean(),
});

export const CustomKeyStoreIdRequest = z.object({ CustomKeyStoreId });
/** Connect, disconnect, update and delete answer `{}`, as AWS does (the CLI prints nothing). */
export const EmptyResponse = z.object({});

export const UpdateCustomKeyStoreRequest = z.object({
  CustomKeyStoreId,
  /** Allowed while CONNECTED, as AWS's service model says; everything else needs DISCONNECTED. */
  NewCustomKeyStoreName: CustomKeyStoreName.optional(),
  /** Tells the store the kmsuser's current password (after `kmsuser change-password`); the HSMs are not changed. */
  KeyStorePassword: KeyStorePassword.optional(),
  /** Only a cluster with the same cluster certificate (AWS: sharing the backup history), else CloudHsmClusterNotRelatedException. */
  CloudHsmClusterId: ClusterId.optional(),
});

/*
 * Local, read-only: what the GUI and `kms` show beyond AWS's shape — each member's part in the
 * connection, and what a crash-interrupted password rotation left and how it was recovered.
 */

export const KeyStoreMemberConnection = z.object({
  HsmId: z.string(),
  TokenSerial: z.string().nullable(),
  TokenLabel: z.string().nullable(),
  /** This process holds a logged-in kmsuser session on the member. */
  SessionHeld: z.boolean(),
  /** Why the member failed the last connect or probe, when it did. */
  ConnectionErrorCode: ConnectionErrorCode.optional(),
  /** What the member said (a CKR_ name, or the host's error). Never a secret. */
  Detail: z.string().optional(),
});

export const KeyStoreRecovery = z.object({
  /** ISO time the workbench found and finished an interrupted rotation. */
  RecoveredAt: z.string(),
  /** The journal step the rotation had reached when it was interrupted. */
  Step: z.string(),
  Message: z.string(),
});

export const KeyStoreConnectionInfo = z.object({
  CustomKeyStoreId: z.string(),
  ConnectionState,
  ConnectionErrorCode: ConnectionErrorCode.optional(),
  /** Plain words for the error code, and the fix (shared/connection-errors.ts), so GUI and CLI say the same. */
  Explanation: z.string().optional(),
  Remedy: z.string().optional(),
  Hsms: z.array(KeyStoreMemberConnection),
  /** A password rotation interrupted by a crash and finished later, when there was one. */
  LastRecovery: KeyStoreRecovery.optional(),
});

export const DescribeKeyStoreConnectionResponse = z.object({ Connection: KeyStoreConnectionInfo });

export type CustomKeyStoreInfo = z.infer<typeof CustomKeyStoreInfo>;
export type ConnectionState = z.infer<typeof ConnectionState>;
export type KeyStoreConnectionInfo = z.infer<typeof KeyStoreConnectionInfo>;
export type KeyStoreMemberConnection = z.infer<typeof KeyStoreMemberConnection>;
export type KeyStoreRecovery = z.infer<typeof KeyStoreRecovery>;
