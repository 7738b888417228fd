import { z } from 'zod';
import { ConnectionErrorCode } from '../../shared/contract/checks';
import { ClusterId, ClusterName, LoginFormat } from '../../shared/contract/clusters';
import { ModuleEnvironment, ModulePath } from '../../shared/contract/hsm';
import { printableName } from '../../shared/contract/names';
import { SealedSecretSchema } from '../secrets/sealed-secret';

/*
 * What the state file holds, in its own vocabulary (the PascalCase field names it has had since
 * schema 1). These are not the API's DTOs: a service maps records to `*Info` shapes, so the API can
 * show derived fields (a cluster's key store) and the file can change only through a migration.
 *
 * What a request sets is held to the request's own rules (the contract's schemas, so a rule
 * tightened there applies to the file too): a record no request could have made was edited by hand
 * or damaged, and is refused on load rather than reaching an HSM as a "module crashed". Loose
 * objects: fields this build does not know (written by a later same-version build, or by hand) are
 * kept on the next write instead of silently dropped.
 */

/**
 * What the workbench itself saw of one member's kmsuser (CKU_USER): the ledger `kmsuser status` shows. Only
 * the workbench's own logins count; the token's PIN flags, read live, tell the rest. Absent: nothing seen yet.
 */
export const KmsuserLedgerRecord = z.looseObject({
  /** ISO time of the last kmsuser login the workbench made that the token accepted. */
  LastSuccessfulLogin: z.string().optional(),
  /** ISO time the kmsuser password last changed on this HSM (kmsuser create / change-password / a connect's rotation). */
  LastRotation: z.string().optional(),
  /** Logins the workbench tried that the token refused since the last accepted one (a real HSM locks kmsuser after 5). */
  FailedLoginsCaused: z.number().int().min(0).optional(),
  LastFailedLogin: z.string().optional(),
});

/** A member's part in the cluster's trust mesh, as the workbench made it. Absent: none of it yet. */
export const MemberTrustRecord = z.looseObject({
  /** The member key pair (RSA-3072, unwrap only) is on this member's token, under CKA_ID memberKeyId(HsmId). */
  MemberKey: z.boolean().optional(),
  /** HsmIds of the members whose SO imported this member's public key as a trusted wrapping key. */
  TrustedBy: z.array(z.string()).optional(),
  /** The cluster and trust anchor certificates are on this member's token. */
  Certificates: z.boolean().optional(),
});

export const HsmMemberRecord = z.looseObject({
  HsmId: z.string(),
  TokenSerial: z.string().nullable(),
  TokenLabel: z.string().nullable(),
  Kmsuser: KmsuserLedgerRecord.optional(),
  Trust: MemberTrustRecord.optional(),
});

/** UNINITIALIZED → INITIALIZED (signing key pair made, CSR written) → ACTIVE (certificates installed, trust complete). Absent: UNINITIALIZED. */
export const ClusterStateRecord = z.enum(['UNINITIALIZED', 'INITIALIZED', 'ACTIVE']);

/** The cluster's PKI, PEM text. Absent: not initialized. */
export const ClusterCertificatesRecord = z.looseObject({
  ClusterCsr: z.string().optional(),
  ClusterCertificate: z.string().optional(),
  TrustAnchorCertificate: z.string().optional(),
  /** The trust anchor is the workbench's throwaway demo CA ("demo CA — not for production" wherever it shows). */
  DemoCa: z.boolean().optional(),
});

export const ClusterRecord = z
  .looseObject({
    ClusterId,
    ClusterName,
    ModulePath,
    ModuleEnvironment,
    LoginFormat,
    Hsms: z.array(HsmMemberRecord),
    CreateTimestamp: z.string(),
    State: ClusterStateRecord.optional(),
    Certificates: ClusterCertificatesRecord.optional(),
    /** The member whose token holds the cluster signing key pair (made by InitializeCluster). Absent: not made yet. */
    SigningKeyHsmId: z.string().optional(),
  })
  .superRefine((cluster, ctx) => {
    // Schema 1 stored the key store here, a back-pointer that could disagree with the key store itself.
    // Found in a later file it is an edit in the old vocabulary that this build would silently ignore
    // (and then let a cluster in use be deleted), so it is refused, not kept as an unknown field.
    if ('CustomKeyStoreId' in cluster) {
      ctx.addIssue({
        code: 'custom',
        path: ['CustomKeyStoreId'],
        message: 'a cluster does not name its key store since schema version 2: the key store names its cluster (customKeyStores[].CloudHsmClusterId)',
      });
    }
  });

/** A secret as the secret store sealed it (main/secrets/): versioned JSON with base64 fields, safe on disk, opened only with its context. */
export const SealedSecretRecord = SealedSecretSchema;

export const ConnectionStateRecord = z.enum(['CONNECTED', 'CONNECTING', 'FAILED', 'DISCONNECTED', 'DISCONNECTING']);

/** The process that moved a store to CONNECTING or DISCONNECTING: once it is gone, nothing will finish the move (a kill -9). */
export const KeyStoreOwnerRecord = z.looseObject({ Pid: z.number().int().min(1), Host: z.string(), Since: z.string() });

/**
 * Where a member's kmsuser password stands during a rotation. SETTING: C_SetPIN was sent and its answer not
 * recorded, so the member has the current or the pending password; a recovery tries the pending one first.
 */
export const RotationMemberRecord = z.enum(['CURRENT', 'SETTING', 'PENDING']);

/**
 * A connect's password rotation, recorded before any HSM changes (the pending password sealed) and updated
 * per member, so that after a kill -9 anywhere the workbench knows a password every member accepts.
 */
export const RotationJournalRecord = z.looseObject({
  StartedAt: z.string(),
  /** The journal step reached: PENDING_SAVED (no HSM changed yet), then ROTATING, then ROLLING_BACK if a member failed. */
  Step: z.enum(['PENDING_SAVED', 'ROTATING', 'ROLLING_BACK']),
  PendingPassword: SealedSecretRecord,
  Hsms: z.record(z.string(), RotationMemberRecord),
});

/** An interrupted rotation the workbench found and finished; describeConnection and the log say it. */
export const KeyStoreRecoveryRecord = z.looseObject({ RecoveredAt: z.string(), Step: z.string(), Message: z.string() });

/** Why the last connect or probe failed a member, for the per-HSM view (plain text, never a secret). */
export const MemberFailureRecord = z.looseObject({ ConnectionErrorCode, Detail: z.string() });

/**
 * A custom key store (AWS KMS semantics). It names its cluster; the cluster's CustomKeyStoreId is derived
 * from that. TrustAnchorCertificate and KmsuserPassword are absent only in a record carried over from
 * schema 2 (migration 002), which a connect refuses until the admin supplies them.
 */
export const CustomKeyStoreRecord = z.looseObject({
  CustomKeyStoreId: printableName('CustomKeyStoreId', z.string().min(1, 'CustomKeyStoreId is required').max(64, 'CustomKeyStoreId is at most 64 characters')),
  CloudHsmClusterId: ClusterId,
  CustomKeyStoreName: printableName('CustomKeyStoreName', z.string().min(1, 'CustomKeyStoreName is required').max(256, 'CustomKeyStoreName is at most 256 characters')),
  TrustAnchorCertificate: z.string().min(1).optional(),
  ConnectionState: ConnectionStateRecord,
  /** Present only when FAILED. */
  ConnectionErrorCode: ConnectionErrorCode.optional(),
  CreationDate: z.string(),
  /** SHA-256 fingerprint of the cluster certificate at creation: a replacement cluster must have the same (AWS: a shared backup history). */
  ClusterCertificateFingerprint: z.string().optional(),
  /** The kmsuser's current password, sealed with context `kmsuser-password:<CustomKeyStoreId>`. */
  KmsuserPassword: SealedSecretRecord.optional(),
  Owner: KeyStoreOwnerRecord.optional(),
  Rotation: RotationJournalRecord.optional(),
  LastRecovery: KeyStoreRecoveryRecord.optional(),
  MemberFailures: z.record(z.string(), MemberFailureRecord).optional(),
});

/** What a CMK record stores of its state; `Unavailable` is derived (its key store is not CONNECTED) and never stored. */
export const CmkStateRecord = z.enum(['Creating', 'Enabled', 'Disabled', 'PendingDeletion']);

export const TagRecord = z.looseObject({ TagKey: z.string().min(1).max(128), TagValue: z.string().max(256) });

/**
 * The key material of a CMK on one member, as CreateKey made and verified it. The material is found again by
 * label (the ARN) and CKA_ID (the key id's 16 bytes), never by a handle: handles are session-scoped.
 */
export const BackingKeyRecord = z.looseObject({
  HsmId: z.string(),
  /** Names this material in audit records (AWS's backingKeyId); the same on every member that holds a verified copy. */
  BackingKeyId: z.string(),
  /** The handle when CreateKey made or copied it, for the audit record and the inspector: informational only. */
  KeyHandle: z.string().optional(),
  /** Hex of the 3-byte check value this member computed; absent where its module cannot (the p11-kit 0.24 client has no CKM_AES_GCM). */
  CheckValue: z.string().optional(),
  /** VERIFIED: this copy's check value equals the generated key's. UNVERIFIED: present, but no check value could be computed here. */
  Verification: z.enum(['VERIFIED', 'UNVERIFIED']),
});

/**
 * An unfinished CreateKey, recorded before any HSM is touched and updated per member, so that after a
 * kill -9 anywhere the reconciler (main/keys/) knows which HSMs may hold material of this key.
 */
export const KeyCreationRecord = z.looseObject({
  StartedAt: z.string(),
  Owner: KeyStoreOwnerRecord,
  /** The member the key is generated on. */
  SourceHsmId: z.string(),
  /** Members that may hold material of this key: every member CreateKey will send a generate or unwrap to, named with the intent. */
  Touched: z.array(z.string()),
});

/**
 * A CMK whose material the workbench could not put right on its own (an HSM unreachable while a creation was
 * reconciled or a deletion ran): kept so discovery reports it, never silently dropped.
 */
export const MaterialIssueRecord = z.looseObject({
  Since: z.string(),
  /** What is wrong, in plain words (never a secret). */
  Reason: z.string(),
  /** The members concerned. */
  HsmIds: z.array(z.string()),
});

/** A CMK in a custom key store (AWS KMS semantics: key id = UUID v4, ARN `arn:aws:kms:<region>:<account>:key/<key id>`). */
export const CmkRecord = z.looseObject({
  KeyId: z.guid(),
  Arn: z.string().min(20),
  AWSAccountId: z.string().regex(/^\d{12}$/),
  CustomKeyStoreId: z.string().min(1),
  CloudHsmClusterId: ClusterId,
  CreationDate: z.string(),
  Description: z.string().max(8192),
  KeyState: CmkStateRecord,
  /** Present only while PendingDeletion. */
  DeletionDate: z.string().optional(),
  PendingDeletionWindowInDays: z.number().int().min(7).max(30).optional(),
  Tags: z.array(TagRecord).max(50),
  BackingKeys: z.array(BackingKeyRecord),
  /** Present only while KeyState is Creating. */
  Creation: KeyCreationRecord.optional(),
  MaterialIssue: MaterialIssueRecord.optional(),
});

/** An alias (`alias/…`) naming one CMK. */
export const AliasRecord = z.looseObject({
  AliasName: z.string().min(7).max(256),
  TargetKeyId: z.guid(),
  CreationDate: z.string(),
  LastUpdatedDate: z.string(),
});

/**
 * Key material the workbench set out to destroy and has not yet destroyed everywhere: a deleted CMK's (the
 * deletion executor) or an abandoned creation's (the creation reconciler). Written in the same transaction that
 * removes or abandons the CMK, before any HSM is asked, so after a kill -9 the material is never unexplained: the
 * record says which members may still hold it. Removed once every member confirms; what stays is retried by the
 * next run and reported by discovery.
 */
export const OrphanedMaterialRecord = z.looseObject({
  KeyId: z.guid(),
  /** The label of the material (the CMK's ARN); with CKA_ID = the key id's 16 bytes it finds the objects. */
  Arn: z.string().min(20),
  CustomKeyStoreId: z.string().min(1),
  CloudHsmClusterId: ClusterId,
  /** DELETED: the CMK's scheduled deletion ran. CREATION_ABANDONED: an interrupted CreateKey was rolled back. */
  Reason: z.enum(['DELETED', 'CREATION_ABANDONED']),
  Since: z.string(),
  /** Members that may still hold the material. */
  HsmIds: z.array(z.string()),
  /** Why the last attempt left it on a member (unreachable, refused), when one did. */
  LastFailure: z.string().optional(),
  /** The CMK's backing keys as it recorded them, for the DeleteKey audit record of a later attempt (the CMK record is gone). */
  BackingKeys: z.array(BackingKeyRecord).optional(),
});

/**
 * A loose object's type without its `[field: string]: unknown`: code then sees only the fields this
 * build knows, and reading one that is gone (schema 1's CustomKeyStoreId) is a compile error rather
 * than an `unknown` that is always undefined. Unknown fields are still kept: they are in the value.
 */
export type Known<T> = { [K in keyof T as string extends K ? never : K]: T[K] };

export type KmsuserLedgerRecord = Known<z.infer<typeof KmsuserLedgerRecord>>;
export type MemberTrustRecord = Known<z.infer<typeof MemberTrustRecord>>;
export type HsmMemberRecord = Omit<Known<z.infer<typeof HsmMemberRecord>>, 'Kmsuser' | 'Trust'> & { Kmsuser?: KmsuserLedgerRecord; Trust?: MemberTrustRecord };
export type ClusterCertificatesRecord = Known<z.infer<typeof ClusterCertificatesRecord>>;
export type ClusterRecord = Omit<Known<z.infer<typeof ClusterRecord>>, 'Hsms' | 'Certificates'> & { Hsms: HsmMemberRecord[]; Certificates?: ClusterCertificatesRecord };
export type SealedSecretRecord = z.infer<typeof SealedSecretRecord>;
export type ConnectionStateRecord = z.infer<typeof ConnectionStateRecord>;
export type RotationJournalRecord = Known<z.infer<typeof RotationJournalRecord>>;
export type CustomKeyStoreRecord = Known<z.infer<typeof CustomKeyStoreRecord>>;
export type CmkStateRecord = z.infer<typeof CmkStateRecord>;
export type TagRecord = Known<z.infer<typeof TagRecord>>;
export type BackingKeyRecord = Known<z.infer<typeof BackingKeyRecord>>;
export type KeyCreationRecord = Known<z.infer<typeof KeyCreationRecord>>;
export type MaterialIssueRecord = Known<z.infer<typeof MaterialIssueRecord>>;
export type CmkRecord = Omit<Known<z.infer<typeof CmkRecord>>, 'Tags' | 'BackingKeys' | 'Creation' | 'MaterialIssue'> & {
  Tags: TagRecord[];
  BackingKeys: BackingKeyRecord[];
  Creation?: KeyCreationRecord;
  MaterialIssue?: MaterialIssueRecord;
};
export type AliasRecord = Known<z.infer<typeof AliasRecord>>;
export type OrphanedMaterialRecord = Omit<Known<z.infer<typeof OrphanedMaterialRecord>>, 'BackingKeys'> & { BackingKeys?: BackingKeyRecord[] };

/** The key store that uses a cluster. At most one: the state schema refuses two key stores on one cluster. */
export function keyStoreOfCluster(keyStores: readonly CustomKeyStoreRecord[], clusterId: string): CustomKeyStoreRecord | undefined {
  return keyStores.find((k) => k.CloudHsmClusterId === clusterId);
}
