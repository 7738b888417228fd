import { z } from 'zod';
import { CONNECTION_ERROR_EXPLANATIONS } from '../connection-errors';
import type { ErrorName } from '../errors';
import { CheckClusterProgress, CheckClusterRequest, CheckClusterResponse } from './checks';
import {
  AddHsmRequest,
  AddHsmResponse,
  ClusterIdRequest,
  ClusterResponse,
  CreateClusterRequest,
  DescribeClustersRequest,
  DescribeClustersResponse,
  InitializeClusterRequest,
  InitializeClusterResponse,
  InstallClusterCertificateRequest,
  RemoveHsmRequest,
  RemoveHsmResponse,
} from './clusters';
import { CreateDemoClusterRequest, CreateDemoClusterResponse } from './demo';
import { ModuleInfo, ModuleRef, SlotInfo } from './hsm';
import { ChangeKmsuserPasswordRequest, CreateKmsuserRequest, DescribeKmsuserRequest, DescribeKmsuserResponse, KmsuserPasswordResponse } from './kmsuser';
import {
  CreateCustomKeyStoreRequest,
  CreateCustomKeyStoreResponse,
  CustomKeyStoreIdRequest,
  DescribeCustomKeyStoresRequest,
  DescribeCustomKeyStoresResponse,
  DescribeKeyStoreConnectionResponse,
  EmptyResponse,
  UpdateCustomKeyStoreRequest,
} from './key-stores';
import {
  CancelKeyDeletionResponse,
  CreateAliasRequest,
  CreateKeyProgress,
  CreateKeyRequest,
  DeleteAliasRequest,
  DescribeKeyMaterialResponse,
  DescribeKeyRequest,
  DescribeKeysRequest,
  DescribeKeysResponse,
  EnableKeyRotationRequest,
  GetParametersForImportRequest,
  GetParametersForImportResponse,
  ImportKeyMaterialRequest,
  KeyIdRequest,
  KeyMetadataResponse,
  ListAliasesRequest,
  ListAliasesResponse,
  ListKeysRequest,
  ListKeysResponse,
  ListResourceTagsRequest,
  ListResourceTagsResponse,
  RunDeletionsRequest,
  RunDeletionsResponse,
  ScheduleKeyDeletionRequest,
  ScheduleKeyDeletionResponse,
  TagResourceRequest,
  UntagResourceRequest,
} from './keys';
import {
  DecryptRequest,
  DecryptResponse,
  EncryptRequest,
  EncryptResponse,
  GenerateDataKeyRequest,
  GenerateDataKeyResponse,
  GenerateDataKeyWithoutPlaintextRequest,
  GenerateDataKeyWithoutPlaintextResponse,
  GenerateRandomRequest,
  GenerateRandomResponse,
  ReEncryptRequest,
  ReEncryptResponse,
} from './crypto';
import { CancelOperationRequest, CancelOperationResponse, DescribeSecretStoreRequest, DescribeSecretStoreResponse, DescribeWorkbenchRequest, DescribeWorkbenchResponse } from './system';

/**
 * Every operation, declared once. The preload API, the IPC handlers, the CLI and the E2E test bridge
 * are all derived from this table, so adding an operation here is the only way to add one anywhere.
 */
export interface OperationSpec<Req extends z.ZodType = z.ZodType, Res extends z.ZodType = z.ZodType, Prog extends z.ZodType = z.ZodType> {
  /** AWS action name where AWS has one. Also the IPC channel suffix and the audit eventName. */
  readonly name: string;
  /** `window.workbench.<domain>.<method>` */
  readonly domain: string;
  readonly method: string;
  readonly request: Req;
  readonly response: Res;
  /** Pushed while the operation runs, if it reports progress. */
  readonly progress?: Prog;
  /** Named errors the operation may raise besides ValidationException and KMSInternalException. */
  readonly errors: readonly ErrorName[];
  /** Read-only operations are audited only when refused, unless auditAlways (e.g. a login attempt). */
  readonly readOnly: boolean;
  readonly auditAlways?: boolean;
  /** Request fields that hold secrets: never audited, logged or echoed (the CLI reads them from stdin, never argv). */
  readonly secretFields?: readonly string[];
  /**
   * Request and response fields that hold data an application protects (plaintext, data keys, random bytes):
   * redacted in audit records and logs like secrets, but taken on the command line as the AWS CLI takes them
   * (`--plaintext fileb://…`), since they are the admin's own data rather than a credential.
   */
  readonly sensitiveFields?: readonly string[];
  /** Request fields that are no secret but stay out of audit records, as CloudTrail leaves them out (a certificate). */
  readonly auditOmits?: readonly string[];
  /**
   * The AWS service whose API this operation is. `'kms'` generates `hsm-workbench kms <kebab-case name>`
   * from the request schema, as the AWS CLI generates its commands from the service model
   * (main/cli/kms-commands.ts): one flag per top-level member, help from `.describe()`, a member declared
   * `z.base64()` is a blob (base64 on the wire, `fileb://` on the command line).
   */
  readonly awsService?: 'kms';
  /** Declarative extras for the generated command. */
  readonly cli?: OperationCliSpec;
}

/** Per-command extras of a generated CLI command: data only, so the contract stays free of CLI code. */
export interface OperationCliSpec {
  /** Adds `--wait` (the default) and `--no-wait`: after the call, poll until the state it started settles. */
  readonly wait?: CliWaiter;
  /** A paginated list: the CLI follows every page and prints the merged list, as the AWS CLI does. */
  readonly paginate?: CliPaginator;
}

/**
 * A paginator, after botocore's paginators-1.json: while `moreResults` is true, call again with
 * `inputToken` set to the response's `outputToken`, and print only `resultKey`, merged. `inputToken`
 * and `limitKey` are still accepted but left out of the help (the AWS CLI's `_UNDOCUMENTED`);
 * `--no-paginate` makes one call and prints its whole response.
 */
export interface CliPaginator {
  readonly inputToken: string;
  readonly outputToken: string;
  readonly moreResults: string;
  readonly limitKey: string;
  readonly resultKey: string;
}

/**
 * A waiter, after botocore's waiters-2.json: call a read-only `operation` every `delayMs` with the listed
 * members of the original request, and read the value at `path` in its response (keys and list indexes).
 * A `success` value ends the wait, a `failure` value ends it as a failure explained by the value at
 * `reason.path`; any other value (or none) polls again, for at most `timeoutMs`. Implemented generically by
 * main/cli/kms-commands.ts; e.g. ConnectCustomKeyStore polls DescribeCustomKeyStores until CONNECTED or FAILED.
 */
export interface CliWaiter {
  readonly operation: string;
  readonly requestMembers: readonly string[];
  readonly path: readonly (string | number)[];
  readonly success: readonly string[];
  readonly failure: readonly string[];
  readonly reason?: WaiterReason;
  readonly delayMs: number;
  readonly timeoutMs: number;
}

/** Where a waiter's failure is explained in the polled response, and what each reason value means and what to do. */
export interface WaiterReason {
  readonly path: readonly (string | number)[];
  readonly explanations?: Readonly<Record<string, { readonly explanation: string; readonly remedy: string }>>;
}

function op<const S extends OperationSpec>(spec: S): S {
  return spec;
}

const HSM_ERRORS = ['Pkcs11ModuleLoadException', 'Pkcs11Exception', 'HsmHostTimeoutException', 'HsmHostCrashedException'] as const;
const STATE_ERRORS = ['StateLockedException', 'StateFileCorruptException', 'StateFileMissingException', 'StateFileVersionException'] as const;
/** Setting kmsuser's password as SO on every member: a missing token, a refused SO PIN (Pkcs11Exception CKR_PIN_INCORRECT, naming the HSM), a store logged in. */
const KMSUSER_PASSWORD_ERRORS = [
  'CloudHsmClusterNotFoundException',
  'CustomKeyStoreInvalidStateException',
  'KmsuserAlreadyExistsException',
  'TokenNotFoundException',
  ...HSM_ERRORS,
  ...STATE_ERRORS,
] as const;
// A failed connection is not an error of the call: it is the store's FAILED state and ConnectionErrorCode.
const KEY_STORE_STATE_ERRORS = ['CustomKeyStoreNotFoundException', 'CustomKeyStoreInvalidStateException', ...STATE_ERRORS] as const;
/** A key named by id, ARN or alias that is not there, or an ARN that is not one. */
const KEY_LOOKUP_ERRORS = ['NotFoundException', 'InvalidArnException', ...STATE_ERRORS] as const;
/** A key whose state refuses the call (AWS's key-state matrix). */
const KEY_STATE_ERRORS = ['KMSInvalidStateException', ...KEY_LOOKUP_ERRORS] as const;
/** AWS's nine for Encrypt, GenerateDataKey and GenerateDataKeyWithoutPlaintext, less grants and dry runs, plus the HSM's own. */
const CRYPTO_ERRORS = ['DisabledException', 'KeyUnavailableException', 'InvalidKeyUsageException', ...KEY_STATE_ERRORS, ...HSM_ERRORS] as const;
const DECRYPT_ERRORS = ['InvalidCiphertextException', 'IncorrectKeyException', ...CRYPTO_ERRORS] as const;
/** Custom key stores hold only symmetric keys whose material is made in the HSMs: no rotation, no import. */
const UNSUPPORTED = ['UnsupportedOperationException', ...KEY_LOOKUP_ERRORS] as const;
const paginateKeys = (resultKey: string): OperationCliSpec => ({ paginate: { inputToken: 'Marker', outputToken: 'NextMarker', moreResults: 'Truncated', limitKey: 'Limit', resultKey } });

export const operations = {
  DescribeWorkbench: op({
    name: 'DescribeWorkbench',
    domain: 'system',
    method: 'describe',
    request: DescribeWorkbenchRequest,
    response: DescribeWorkbenchResponse,
    errors: [],
    readOnly: true,
  }),
  DescribeSecretStore: op({
    name: 'DescribeSecretStore',
    domain: 'system',
    method: 'describeSecretStore',
    request: DescribeSecretStoreRequest,
    response: DescribeSecretStoreResponse,
    errors: ['SecretStoreException'],
    readOnly: true,
  }),
  CancelOperation: op({
    name: 'CancelOperation',
    domain: 'system',
    method: 'cancel',
    request: CancelOperationRequest,
    response: CancelOperationResponse,
    errors: [],
    readOnly: true,
  }),
  ListSlots: op({
    name: 'ListSlots',
    domain: 'hsm',
    method: 'listSlots',
    request: ModuleRef,
    response: z.object({ Module: ModuleInfo, Slots: z.array(SlotInfo) }),
    errors: HSM_ERRORS,
    readOnly: true,
  }),
  CreateCluster: op({
    name: 'CreateCluster',
    domain: 'clusters',
    method: 'create',
    request: CreateClusterRequest,
    response: ClusterResponse,
    errors: ['ClusterNameInUseException', 'TokenNotFoundException', 'TokenInUseException', ...HSM_ERRORS, ...STATE_ERRORS],
    readOnly: false,
  }),
  DescribeClusters: op({
    name: 'DescribeClusters',
    domain: 'clusters',
    method: 'describe',
    request: DescribeClustersRequest,
    response: DescribeClustersResponse,
    errors: ['CloudHsmClusterNotFoundException', ...STATE_ERRORS],
    readOnly: true,
  }),
  DeleteCluster: op({
    name: 'DeleteCluster',
    domain: 'clusters',
    method: 'delete',
    request: ClusterIdRequest,
    response: ClusterResponse,
    errors: ['CloudHsmClusterNotFoundException', 'CloudHsmClusterInUseException', ...STATE_ERRORS],
    readOnly: false,
  }),
  CheckCluster: op({
    name: 'CheckCluster',
    domain: 'clusters',
    method: 'check',
    request: CheckClusterRequest,
    response: CheckClusterResponse,
    progress: CheckClusterProgress,
    errors: ['CloudHsmClusterNotFoundException', 'OperationCancelledException', ...STATE_ERRORS],
    readOnly: true,
    // A login test spends one of the kmsuser's failed-login tries: who ran it matters.
    auditAlways: true,
    secretFields: ['KmsuserPassword'],
  }),
  InitializeCluster: op({
    name: 'InitializeCluster',
    domain: 'clusters',
    method: 'initialize',
    request: InitializeClusterRequest,
    response: InitializeClusterResponse,
    errors: ['CloudHsmClusterNotFoundException', 'CloudHsmInvalidRequestException', 'CloudHsmClusterInvalidConfigurationException', 'TokenNotFoundException', ...HSM_ERRORS, ...STATE_ERRORS],
    readOnly: false,
    secretFields: ['SoPin', 'KmsuserPassword'],
  }),
  InstallClusterCertificate: op({
    name: 'InstallClusterCertificate',
    domain: 'clusters',
    method: 'installCertificate',
    request: InstallClusterCertificateRequest,
    response: ClusterResponse,
    errors: ['CloudHsmClusterNotFoundException', 'CloudHsmInvalidRequestException', 'IncorrectTrustAnchorException', 'TokenNotFoundException', ...HSM_ERRORS, ...STATE_ERRORS],
    readOnly: false,
    secretFields: ['SoPin'],
  }),
  AddHsm: op({
    name: 'AddHsm',
    domain: 'clusters',
    method: 'addHsm',
    request: AddHsmRequest,
    response: AddHsmResponse,
    errors: ['CloudHsmClusterNotFoundException', 'CloudHsmInvalidRequestException', 'CloudHsmClusterInUseException', 'TokenNotFoundException', 'TokenInUseException', ...HSM_ERRORS, ...STATE_ERRORS],
    readOnly: false,
    secretFields: ['SoPin', 'KmsuserPassword'],
  }),
  RemoveHsm: op({
    name: 'RemoveHsm',
    domain: 'clusters',
    method: 'removeHsm',
    request: RemoveHsmRequest,
    response: RemoveHsmResponse,
    errors: ['CloudHsmClusterNotFoundException', 'CloudHsmResourceNotFoundException', 'CloudHsmInvalidRequestException', 'CloudHsmClusterInUseException', ...HSM_ERRORS, ...STATE_ERRORS],
    readOnly: false,
    secretFields: ['SoPin'],
  }),
  CreateDemoCluster: op({
    name: 'CreateDemoCluster',
    domain: 'demo',
    method: 'createCluster',
    request: CreateDemoClusterRequest,
    response: CreateDemoClusterResponse,
    // The last two from the trust service, which initializes the demo cluster.
    errors: ['ClusterNameInUseException', 'TokenNotFoundException', 'TokenInUseException', ...HSM_ERRORS, ...STATE_ERRORS, 'CloudHsmInvalidRequestException', 'CloudHsmClusterNotFoundException'],
    readOnly: false,
    secretFields: ['KmsuserPassword', 'SoPin'],
  }),
  ConfirmDemoCredentials: op({
    name: 'ConfirmDemoCredentials',
    domain: 'demo',
    method: 'confirmCredentials',
    request: ClusterIdRequest,
    response: ClusterResponse,
    errors: ['CloudHsmClusterNotFoundException', ...STATE_ERRORS],
    readOnly: false,
  }),
  CreateKmsuser: op({
    name: 'CreateKmsuser',
    domain: 'kmsuser',
    method: 'create',
    request: CreateKmsuserRequest,
    response: KmsuserPasswordResponse,
    errors: KMSUSER_PASSWORD_ERRORS,
    readOnly: false,
    secretFields: ['SoPin', 'KmsuserPassword'],
  }),
  DescribeKmsuser: op({
    name: 'DescribeKmsuser',
    domain: 'kmsuser',
    method: 'describe',
    request: DescribeKmsuserRequest,
    response: DescribeKmsuserResponse,
    errors: ['CloudHsmClusterNotFoundException', ...STATE_ERRORS],
    readOnly: true,
  }),
  ChangeKmsuserPassword: op({
    name: 'ChangeKmsuserPassword',
    domain: 'kmsuser',
    method: 'changePassword',
    request: ChangeKmsuserPasswordRequest,
    response: KmsuserPasswordResponse,
    errors: KMSUSER_PASSWORD_ERRORS,
    readOnly: false,
    secretFields: ['SoPin', 'NewKmsuserPassword'],
  }),
  CreateCustomKeyStore: op({
    name: 'CreateCustomKeyStore',
    domain: 'keyStores',
    method: 'create',
    request: CreateCustomKeyStoreRequest,
    response: CreateCustomKeyStoreResponse,
    errors: [
      'CloudHsmClusterInUseException',
      'CustomKeyStoreNameInUseException',
      'CloudHsmClusterNotFoundException',
      'CloudHsmClusterNotActiveException',
      'IncorrectTrustAnchorException',
      'CloudHsmClusterInvalidConfigurationException',
      ...STATE_ERRORS,
    ],
    readOnly: false,
    secretFields: ['KeyStorePassword'],
    auditOmits: ['TrustAnchorCertificate'],
    awsService: 'kms',
  }),
  DescribeCustomKeyStores: op({
    name: 'DescribeCustomKeyStores',
    domain: 'keyStores',
    method: 'describe',
    request: DescribeCustomKeyStoresRequest,
    response: DescribeCustomKeyStoresResponse,
    errors: ['CustomKeyStoreNotFoundException', 'InvalidMarkerException', ...STATE_ERRORS],
    readOnly: true,
    awsService: 'kms',
    cli: { paginate: { inputToken: 'Marker', outputToken: 'NextMarker', moreResults: 'Truncated', limitKey: 'Limit', resultKey: 'CustomKeyStores' } },
  }),
  ConnectCustomKeyStore: op({
    name: 'ConnectCustomKeyStore',
    domain: 'keyStores',
    method: 'connect',
    request: CustomKeyStoreIdRequest,
    response: EmptyResponse,
    errors: ['CloudHsmClusterNotActiveException', 'CloudHsmClusterInvalidConfigurationException', ...KEY_STORE_STATE_ERRORS],
    readOnly: false,
    awsService: 'kms',
    // Connect returns at once, as AWS's does; the CLI waits for the outcome unless told --no-wait.
    cli: {
      wait: {
        operation: 'DescribeCustomKeyStores',
        requestMembers: ['CustomKeyStoreId'],
        path: ['CustomKeyStores', 0, 'ConnectionState'],
        success: ['CONNECTED'],
        failure: ['FAILED'],
        reason: { path: ['CustomKeyStores', 0, 'ConnectionErrorCode'], explanations: CONNECTION_ERROR_EXPLANATIONS },
        delayMs: 250,
        // A connect logs in to and rotates the password on every member, each call bounded by the HSM timeout.
        timeoutMs: 600_000,
      },
    },
  }),
  DisconnectCustomKeyStore: op({
    name: 'DisconnectCustomKeyStore',
    domain: 'keyStores',
    method: 'disconnect',
    request: CustomKeyStoreIdRequest,
    response: EmptyResponse,
    errors: KEY_STORE_STATE_ERRORS,
    readOnly: false,
    awsService: 'kms',
  }),
  UpdateCustomKeyStore: op({
    name: 'UpdateCustomKeyStore',
    domain: 'keyStores',
    method: 'update',
    request: UpdateCustomKeyStoreRequest,
    response: EmptyResponse,
    errors: [
      'CustomKeyStoreNameInUseException',
      'CloudHsmClusterNotFoundException',
      'CloudHsmClusterNotRelatedException',
      'CloudHsmClusterNotActiveException',
      'CloudHsmClusterInvalidConfigurationException',
      'CloudHsmClusterInUseException',
      ...KEY_STORE_STATE_ERRORS,
    ],
    readOnly: false,
    secretFields: ['KeyStorePassword'],
    awsService: 'kms',
  }),
  DeleteCustomKeyStore: op({
    name: 'DeleteCustomKeyStore',
    domain: 'keyStores',
    method: 'delete',
    request: CustomKeyStoreIdRequest,
    response: EmptyResponse,
    errors: ['CustomKeyStoreHasCMKsException', ...KEY_STORE_STATE_ERRORS],
    readOnly: false,
    awsService: 'kms',
  }),
  /** Local: each member's part in the connection and the last recovered rotation, for the GUI and `kms` (not an AWS operation). */
  DescribeKeyStoreConnection: op({
    name: 'DescribeKeyStoreConnection',
    domain: 'keyStores',
    method: 'describeConnection',
    request: CustomKeyStoreIdRequest,
    response: DescribeKeyStoreConnectionResponse,
    errors: ['CustomKeyStoreNotFoundException', ...STATE_ERRORS],
    readOnly: true,
  }),
  CreateKey: op({
    name: 'CreateKey',
    domain: 'keys',
    method: 'create',
    request: CreateKeyRequest,
    response: KeyMetadataResponse,
    progress: CreateKeyProgress,
    errors: [
      'UnsupportedOperationException',
      'CustomKeyStoreNotFoundException',
      'CustomKeyStoreInvalidStateException',
      'CloudHsmClusterInvalidConfigurationException',
      'TagException',
      'LimitExceededException',
      ...HSM_ERRORS,
      ...STATE_ERRORS,
    ],
    readOnly: false,
    awsService: 'kms',
  }),
  DescribeKey: op({ name: 'DescribeKey', domain: 'keys', method: 'describe', request: DescribeKeyRequest, response: KeyMetadataResponse, errors: KEY_LOOKUP_ERRORS, readOnly: true, awsService: 'kms' }),
  ListKeys: op({
    name: 'ListKeys',
    domain: 'keys',
    method: 'list',
    request: ListKeysRequest,
    response: ListKeysResponse,
    errors: ['InvalidMarkerException', ...STATE_ERRORS],
    readOnly: true,
    awsService: 'kms',
    cli: paginateKeys('Keys'),
  }),
  EnableKey: op({ name: 'EnableKey', domain: 'keys', method: 'enable', request: KeyIdRequest, response: EmptyResponse, errors: KEY_STATE_ERRORS, readOnly: false, awsService: 'kms' }),
  DisableKey: op({ name: 'DisableKey', domain: 'keys', method: 'disable', request: KeyIdRequest, response: EmptyResponse, errors: KEY_STATE_ERRORS, readOnly: false, awsService: 'kms' }),
  ScheduleKeyDeletion: op({
    name: 'ScheduleKeyDeletion',
    domain: 'keys',
    method: 'scheduleDeletion',
    request: ScheduleKeyDeletionRequest,
    response: ScheduleKeyDeletionResponse,
    errors: KEY_STATE_ERRORS,
    readOnly: false,
    awsService: 'kms',
  }),
  CancelKeyDeletion: op({
    name: 'CancelKeyDeletion',
    domain: 'keys',
    method: 'cancelDeletion',
    request: KeyIdRequest,
    response: CancelKeyDeletionResponse,
    errors: KEY_STATE_ERRORS,
    readOnly: false,
    awsService: 'kms',
  }),
  /** Local: runs the deletions that are due now, as the GUI does at start-up and periodically (AWS runs them as a service). */
  RunDeletions: op({
    name: 'RunDeletions',
    domain: 'keys',
    method: 'runDeletions',
    request: RunDeletionsRequest,
    response: RunDeletionsResponse,
    errors: [...HSM_ERRORS, ...STATE_ERRORS],
    readOnly: false,
    awsService: 'kms',
  }),
  /** Local: the Keys page's rows (KeyMetadata with alias names), paginated. */
  DescribeKeys: op({
    name: 'DescribeKeys',
    domain: 'keys',
    method: 'describeAll',
    request: DescribeKeysRequest,
    response: DescribeKeysResponse,
    errors: ['InvalidMarkerException', 'CustomKeyStoreNotFoundException', ...STATE_ERRORS],
    readOnly: true,
  }),
  /** Local: the key material on each member (handle, check value, verification), for the key detail page. */
  DescribeKeyMaterial: op({
    name: 'DescribeKeyMaterial',
    domain: 'keys',
    method: 'describeMaterial',
    request: KeyIdRequest,
    response: DescribeKeyMaterialResponse,
    errors: [...KEY_LOOKUP_ERRORS, ...HSM_ERRORS],
    readOnly: true,
  }),
  EnableKeyRotation: op({ name: 'EnableKeyRotation', domain: 'keys', method: 'enableRotation', request: EnableKeyRotationRequest, response: EmptyResponse, errors: UNSUPPORTED, readOnly: false, awsService: 'kms' }),
  GetParametersForImport: op({
    name: 'GetParametersForImport',
    domain: 'keys',
    method: 'getParametersForImport',
    request: GetParametersForImportRequest,
    response: GetParametersForImportResponse,
    errors: UNSUPPORTED,
    readOnly: false,
    awsService: 'kms',
  }),
  ImportKeyMaterial: op({
    name: 'ImportKeyMaterial',
    domain: 'keys',
    method: 'importKeyMaterial',
    request: ImportKeyMaterialRequest,
    response: EmptyResponse,
    errors: UNSUPPORTED,
    readOnly: false,
    awsService: 'kms',
  }),
  TagResource: op({ name: 'TagResource', domain: 'keys', method: 'tag', request: TagResourceRequest, response: EmptyResponse, errors: ['TagException', 'LimitExceededException', ...KEY_STATE_ERRORS], readOnly: false, awsService: 'kms' }),
  UntagResource: op({ name: 'UntagResource', domain: 'keys', method: 'untag', request: UntagResourceRequest, response: EmptyResponse, errors: ['TagException', ...KEY_STATE_ERRORS], readOnly: false, awsService: 'kms' }),
  ListResourceTags: op({
    name: 'ListResourceTags',
    domain: 'keys',
    method: 'listTags',
    request: ListResourceTagsRequest,
    response: ListResourceTagsResponse,
    errors: ['InvalidMarkerException', ...KEY_LOOKUP_ERRORS],
    readOnly: true,
    awsService: 'kms',
    cli: paginateKeys('Tags'),
  }),
  CreateAlias: op({
    name: 'CreateAlias',
    domain: 'aliases',
    method: 'create',
    request: CreateAliasRequest,
    response: EmptyResponse,
    errors: ['AlreadyExistsException', 'InvalidAliasNameException', 'LimitExceededException', ...KEY_STATE_ERRORS],
    readOnly: false,
    awsService: 'kms',
  }),
  UpdateAlias: op({
    name: 'UpdateAlias',
    domain: 'aliases',
    method: 'update',
    request: CreateAliasRequest,
    response: EmptyResponse,
    errors: ['InvalidAliasNameException', 'LimitExceededException', ...KEY_STATE_ERRORS],
    readOnly: false,
    awsService: 'kms',
  }),
  DeleteAlias: op({ name: 'DeleteAlias', domain: 'aliases', method: 'delete', request: DeleteAliasRequest, response: EmptyResponse, errors: ['InvalidAliasNameException', ...KEY_STATE_ERRORS], readOnly: false, awsService: 'kms' }),
  ListAliases: op({
    name: 'ListAliases',
    domain: 'aliases',
    method: 'list',
    request: ListAliasesRequest,
    response: ListAliasesResponse,
    errors: ['InvalidMarkerException', ...KEY_LOOKUP_ERRORS],
    readOnly: true,
    awsService: 'kms',
    cli: paginateKeys('Aliases'),
  }),
  // Cryptographic operations are read-only, as CloudTrail marks them: audited when refused. An fsynced record per call
  // would cap a store far below AWS's 1,800 requests a second.
  Encrypt: op({ name: 'Encrypt', domain: 'crypto', method: 'encrypt', request: EncryptRequest, response: EncryptResponse, errors: CRYPTO_ERRORS, readOnly: true, sensitiveFields: ['Plaintext'], awsService: 'kms' }),
  Decrypt: op({ name: 'Decrypt', domain: 'crypto', method: 'decrypt', request: DecryptRequest, response: DecryptResponse, errors: DECRYPT_ERRORS, readOnly: true, sensitiveFields: ['Plaintext'], awsService: 'kms' }),
  ReEncrypt: op({ name: 'ReEncrypt', domain: 'crypto', method: 'reEncrypt', request: ReEncryptRequest, response: ReEncryptResponse, errors: DECRYPT_ERRORS, readOnly: true, awsService: 'kms' }),
  GenerateDataKey: op({
    name: 'GenerateDataKey',
    domain: 'crypto',
    method: 'generateDataKey',
    request: GenerateDataKeyRequest,
    response: GenerateDataKeyResponse,
    errors: CRYPTO_ERRORS,
    readOnly: true,
    sensitiveFields: ['Plaintext'],
    awsService: 'kms',
  }),
  GenerateDataKeyWithoutPlaintext: op({
    name: 'GenerateDataKeyWithoutPlaintext',
    domain: 'crypto',
    method: 'generateDataKeyWithoutPlaintext',
    request: GenerateDataKeyWithoutPlaintextRequest,
    response: GenerateDataKeyWithoutPlaintextResponse,
    errors: CRYPTO_ERRORS,
    readOnly: true,
    awsService: 'kms',
  }),
  GenerateRandom: op({
    name: 'GenerateRandom',
    domain: 'crypto',
    method: 'generateRandom',
    request: GenerateRandomRequest,
    response: GenerateRandomResponse,
    errors: ['CustomKeyStoreNotFoundException', 'CustomKeyStoreInvalidStateException', 'UnsupportedOperationException', ...HSM_ERRORS, ...STATE_ERRORS],
    readOnly: true,
    sensitiveFields: ['Plaintext'],
    awsService: 'kms',
  }),
} as const;

export type Operations = typeof operations;
export type OperationName = keyof Operations;
export type RequestOf<N extends OperationName> = z.input<Operations[N]['request']>;
export type ParsedRequestOf<N extends OperationName> = z.output<Operations[N]['request']>;
export type ResponseOf<N extends OperationName> = z.output<Operations[N]['response']>;
export type ProgressOf<N extends OperationName> = Operations[N] extends { progress: infer P extends z.ZodType } ? z.output<P> : never;

export const OPERATION_NAMES = Object.keys(operations) as OperationName[];

export function isOperationName(value: unknown): value is OperationName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(operations, value);
}

/** IPC channels: one invoke channel per operation, one for pushed progress, one for pushed events (contract/events.ts). */
export const IPC_INVOKE_PREFIX = 'workbench:invoke:';
export const IPC_PROGRESS_CHANNEL = 'workbench:progress';
export const IPC_EVENT_CHANNEL = 'workbench:event';
