import { z } from 'zod';
import { CustomKeyStoreId } from './key-stores';

/*
 * AWS KMS keys (CMKs) in a custom key store, their aliases and tags, with AWS's request and response
 * shapes and limits (../shared/reference/aws-kms.md §1, §3). The `kms` CLI is generated from these
 * schemas: a member name here is a flag there (`PendingWindowInDays` → `--pending-window-in-days`).
 */

/** A key id, key ARN, alias name (`alias/…`) or alias ARN, wherever AWS accepts one. Resolved by main/keys/key-resolution.ts. */
export const KeyIdentifier = z.string().min(1, 'KeyId is 1 to 2048 characters').max(2048, 'KeyId is 1 to 2048 characters');

export const KeyState = z.enum(['Creating', 'Enabled', 'Disabled', 'PendingDeletion', 'PendingImport', 'PendingReplicaDeletion', 'Unavailable', 'Updating']);
export const KeyUsage = z.enum(['ENCRYPT_DECRYPT', 'SIGN_VERIFY', 'GENERATE_VERIFY_MAC', 'KEY_AGREEMENT']);
/** Every spec AWS names, so a request for one a custom key store cannot hold is UnsupportedOperationException, saying why, not a bare validation error. */
export const CustomerMasterKeySpec = z.enum([
  'SYMMETRIC_DEFAULT',
  'RSA_2048',
  'RSA_3072',
  'RSA_4096',
  'ECC_NIST_P256',
  'ECC_NIST_P384',
  'ECC_NIST_P521',
  'ECC_SECG_P256K1',
  'HMAC_224',
  'HMAC_256',
  'HMAC_384',
  'HMAC_512',
  'SM2',
]);
/** KeySpec adds the specs AWS introduced after it deprecated CustomerMasterKeySpec. */
export const KeySpec = z.enum([...CustomerMasterKeySpec.options, 'ECC_NIST_EDWARDS25519', 'ML_DSA_44', 'ML_DSA_65', 'ML_DSA_87']);

export const Origin = z.enum(['AWS_KMS', 'EXTERNAL', 'AWS_CLOUDHSM', 'EXTERNAL_KEY_STORE']);
export const EncryptionAlgorithm = z.enum(['SYMMETRIC_DEFAULT', 'RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE']);

export const Description = z.string().max(8192, 'Description is at most 8192 characters');

/** Tag keys 1–128, values 0–256; the `aws:` prefix is reserved (TagException, checked by the service as AWS does). */
export const Tag = z.object({
  TagKey: z.string().min(1, 'TagKey is 1 to 128 characters').max(128, 'TagKey is 1 to 128 characters'),
  TagValue: z.string().max(256, 'TagValue is 0 to 256 characters'),
});
export const MAX_TAGS = 50;
export const Tags = z.array(Tag).max(MAX_TAGS, `a key has at most ${MAX_TAGS} tags`);

export const Marker = z.string().min(1).max(1024);
const limit = (max: number): z.ZodOptional<z.ZodNumber> =>
  z.number().int().min(1, `Limit is 1 to ${max}`).max(max, `Limit is 1 to ${max}`).optional();

/** KeyMetadata as AWS returns it for a key in an AWS CloudHSM key store. Timestamps are ISO 8601, as AWS CLI v2 prints them. */
export const KeyMetadata = z.object({
  AWSAccountId: z.string(),
  KeyId: z.string(),
  Arn: z.string(),
  CreationDate: z.string(),
  Enabled: z.boolean(),
  Description: z.string(),
  KeyUsage,
  KeyState,
  DeletionDate: z.string().optional(),
  Origin,
  CustomKeyStoreId: z.string(),
  CloudHsmClusterId: z.string(),
  KeyManager: z.enum(['AWS', 'CUSTOMER']),
  CustomerMasterKeySpec,
  KeySpec,
  EncryptionAlgorithms: z.array(EncryptionAlgorithm),
  MultiRegion: z.boolean(),
  PendingDeletionWindowInDays: z.number().int().optional(),
});
export const KeyMetadataResponse = z.object({ KeyMetadata });

export const CreateKeyRequest = z.object({
  Description: Description.optional(),
  KeyUsage: KeyUsage.optional(),
  KeySpec: KeySpec.optional(),
  /** Deprecated by AWS in favour of KeySpec; accepted with the same meaning. */
  CustomerMasterKeySpec: CustomerMasterKeySpec.optional(),
  /** AWS defaults to AWS_KMS; the workbench keeps keys only in custom key stores, so anything but AWS_CLOUDHSM is UnsupportedOperationException. */
  Origin: Origin.optional(),
  CustomKeyStoreId: CustomKeyStoreId.optional(),
  Tags: Tags.optional(),
  MultiRegion: z.boolean().optional(),
  /** Key policies are not modelled (a local workbench has one administrator); a given policy is UnsupportedOperationException. */
  Policy: z.string().min(1).max(131072).optional(),
  BypassPolicyLockoutSafetyCheck: z.boolean().optional(),
});

/** One phase of a CreateKey, per HSM where it touches one: the GUI wizard shows them as they happen. */
export const CreateKeyProgress = z.object({
  Phase: z.enum(['RecordIntent', 'GenerateKey', 'CopyKey', 'VerifyCopy', 'EnableKey']),
  HsmId: z.string().optional(),
  Status: z.enum(['STARTED', 'DONE']),
});

export const KeyIdRequest = z.object({ KeyId: KeyIdentifier });
export const DescribeKeyRequest = z.object({ KeyId: KeyIdentifier, GrantTokens: z.array(z.string()).max(10).optional() });

export const ListKeysRequest = z.object({ Limit: limit(1000), Marker: Marker.optional() });
export const KeyListEntry = z.object({ KeyId: z.string(), KeyArn: z.string() });
export const ListKeysResponse = z.object({ Keys: z.array(KeyListEntry), NextMarker: z.string().optional(), Truncated: z.boolean() });

export const ScheduleKeyDeletionRequest = z.object({
  KeyId: KeyIdentifier,
  PendingWindowInDays: z
    .number()
    .int()
    .min(7, 'PendingWindowInDays is 7 to 30 days')
    .max(30, 'PendingWindowInDays is 7 to 30 days')
    .default(30),
});
export const ScheduleKeyDeletionResponse = z.object({ KeyId: z.string(), DeletionDate: z.string(), KeyState, PendingWindowInDays: z.number().int() });
/** AWS answers with the key's ARN in KeyId. */
export const CancelKeyDeletionResponse = z.object({ KeyId: z.string() });

/** Operations AWS has that a custom key store cannot do: their requests are accepted as AWS shapes them, and answered UnsupportedOperationException. */
export const EnableKeyRotationRequest = z.object({ KeyId: KeyIdentifier, RotationPeriodInDays: z.number().int().min(90).max(2560).optional() });
export const GetParametersForImportRequest = z.object({
  KeyId: KeyIdentifier,
  WrappingAlgorithm: z.string().min(1),
  WrappingKeySpec: z.string().min(1),
});
export const GetParametersForImportResponse = z.object({ KeyId: z.string(), ImportToken: z.base64(), PublicKey: z.base64(), ParametersValidTo: z.string() });
export const ImportKeyMaterialRequest = z.object({
  KeyId: KeyIdentifier,
  // AWS's 1–6144 bytes, bounded as base64 text (8192 characters) so a refused request's audit record stays small.
  ImportToken: z.base64().max(8192, 'ImportToken is 1 to 6144 bytes'),
  EncryptedKeyMaterial: z.base64().max(8192, 'EncryptedKeyMaterial is 1 to 6144 bytes'),
  ValidTo: z.string().optional(),
  ExpirationModel: z.enum(['KEY_MATERIAL_EXPIRES', 'KEY_MATERIAL_DOES_NOT_EXPIRE']).optional(),
});

// Aliases

/** `alias/` + AWS's pattern; `alias/aws/` is reserved for AWS managed keys. Checked by the service (InvalidAliasNameException), as AWS does. */
export const AliasName = z.string().min(1, 'AliasName is 1 to 256 characters').max(256, 'AliasName is 1 to 256 characters');
export const MAX_ALIASES_PER_KEY = 50;

export const CreateAliasRequest = z.object({ AliasName, TargetKeyId: KeyIdentifier });
export const DeleteAliasRequest = z.object({ AliasName });
export const ListAliasesRequest = z.object({ KeyId: KeyIdentifier.optional(), Limit: limit(100), Marker: Marker.optional() });
export const AliasListEntry = z.object({
  AliasName: z.string(),
  AliasArn: z.string(),
  TargetKeyId: z.string(),
  CreationDate: z.string(),
  LastUpdatedDate: z.string(),
});
export const ListAliasesResponse = z.object({ Aliases: z.array(AliasListEntry), NextMarker: z.string().optional(), Truncated: z.boolean() });

// Tags

export const TagResourceRequest = z.object({ KeyId: KeyIdentifier, Tags: Tags.min(1, 'Tags needs at least one tag') });
export const UntagResourceRequest = z.object({ KeyId: KeyIdentifier, TagKeys: z.array(Tag.shape.TagKey).min(1).max(MAX_TAGS) });
export const ListResourceTagsRequest = z.object({ KeyId: KeyIdentifier, Limit: limit(50), Marker: Marker.optional() });
export const ListResourceTagsResponse = z.object({ Tags: z.array(Tag), NextMarker: z.string().optional(), Truncated: z.boolean() });

/*
 * Local, not AWS: what the GUI's Keys page and key detail show beyond AWS's shapes, and the deletion
 * executor that AWS runs as a service.
 */

/** KeyMetadata plus the key's alias names: one row of the Keys page. */
export const KeySummary = KeyMetadata.extend({ AliasNames: z.array(z.string()) });
export const DescribeKeysRequest = z.object({
  CustomKeyStoreId: CustomKeyStoreId.optional(),
  Limit: z.number().int().min(1, 'Limit is 1 to 10000').max(10_000, 'Limit is 1 to 10000').optional(),
  Marker: Marker.optional(),
});
export const DescribeKeysResponse = z.object({ Keys: z.array(KeySummary), NextMarker: z.string().optional(), Truncated: z.boolean() });

/** How far a copy of the key material is proven to be the key: by its check value, or not (a member whose module cannot compute one). */
export const BackingKeyVerification = z.enum(['VERIFIED', 'UNVERIFIED', 'MISMATCH', 'MISSING', 'UNREACHABLE']);

/** The key material on one member, found live by label and CKA_ID when the store's HSMs answer, else as recorded at creation. */
export const BackingKeyInfo = z.object({
  HsmId: z.string(),
  /** The PKCS#11 object handle in this process's session: session-scoped, shown, never used to destroy without re-resolving. */
  KeyHandle: z.string().nullable(),
  BackingKeyId: z.string(),
  /** Hex of the 3-byte check value (AES-GCM of zeros under the all-zero IV: DESIGN.md §2), when computed. */
  CheckValue: z.string().nullable(),
  Verification: BackingKeyVerification,
  /** Why the copy is not VERIFIED, in plain words. */
  Detail: z.string().optional(),
});
export const DescribeKeyMaterialResponse = z.object({
  KeyId: z.string(),
  /** Looked up on the HSMs just now (true) or read from the state file (false: the store is not connected). */
  Live: z.boolean(),
  BackingKeys: z.array(BackingKeyInfo),
});

export const BackingKeyDeletionStatus = z.object({
  HsmId: z.string(),
  KeyHandle: z.string().nullable(),
  BackingKeyId: z.string(),
  DeletionStatus: z.enum(['SUCCESS', 'FAILURE']),
  Detail: z.string().optional(),
});
export const RunDeletionsRequest = z.object({});
export const RunDeletionsResponse = z.object({
  Deleted: z.array(z.object({ KeyId: z.string(), BackingKeysDeletionStatus: z.array(BackingKeyDeletionStatus) })),
});

export type KeyMetadata = z.infer<typeof KeyMetadata>;
export type KeyState = z.infer<typeof KeyState>;
export type KeySummary = z.infer<typeof KeySummary>;
export type Tag = z.infer<typeof Tag>;
export type CreateKeyProgress = z.infer<typeof CreateKeyProgress>;
export type BackingKeyInfo = z.infer<typeof BackingKeyInfo>;
export type BackingKeyDeletionStatus = z.infer<typeof BackingKeyDeletionStatus>;
export type AliasListEntry = z.infer<typeof AliasListEntry>;
