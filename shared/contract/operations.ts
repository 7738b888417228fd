import { z } from 'zod';
import type { ErrorName } from '../errors';
import { CheckClusterProgress, CheckClusterRequest, CheckClusterResponse } from './checks';
import { ClusterIdRequest, ClusterResponse, CreateClusterRequest, DescribeClustersRequest, DescribeClustersResponse } from './clusters';
import { CreateDemoClusterRequest, CreateDemoClusterResponse } from './demo';
import { ModuleInfo, ModuleRef, SlotInfo } from './hsm';
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
import { ChangeKmsuserPasswordRequest, CreateKmsuserRequest, DescribeKmsuserRequest, DescribeKmsuserResponse, KmsuserPasswordResponse } from './kmsuser';
import { CancelOperationRequest, CancelOperationResponse, DescribeWorkbenchRequest, DescribeWorkbenchResponse } from './system';

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
  /** Request fields that hold secrets: never audited, logged or echoed. */
  readonly secretFields?: readonly string[];
  /** Request fields that are no secret but stay out of audit records, as CloudTrail leaves them out (a certificate). */
  readonly auditOmits?: readonly string[];
  /** An AWS API operation of that service: the `hsm-workbench kms …` commands are generated from these. */
  readonly awsService?: 'kms';
}

function op<const S extends OperationSpec>(spec: S): S {
  return spec;
}

const HSM_ERRORS = ['Pkcs11ModuleLoadException', 'Pkcs11Exception', 'HsmHostTimeoutException', 'HsmHostCrashedException'] as const;
const STATE_ERRORS = ['StateLockedException', 'StateFileCorruptException', 'StateFileMissingException', 'StateFileVersionException'] as const;
// A failed connection is not an error of the call: it is the store's FAILED state and ConnectionErrorCode.
const KEY_STORE_STATE_ERRORS = ['CustomKeyStoreNotFoundException', 'CustomKeyStoreInvalidStateException', ...STATE_ERRORS] as const;
/** Setting kmsuser's password as SO on every member: a missing token, a refused SO PIN (Pkcs11Exception CKR_PIN_INCORRECT, naming the HSM), a store logged in. */
const KMSUSER_PASSWORD_ERRORS = [
  'CloudHsmClusterNotFoundException',
  'CustomKeyStoreInvalidStateException',
  'KmsuserAlreadyExistsException',
  'TokenNotFoundException',
  ...HSM_ERRORS,
  ...STATE_ERRORS,
] as const;

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
  CreateDemoCluster: op({
    name: 'CreateDemoCluster',
    domain: 'demo',
    method: 'createCluster',
    request: CreateDemoClusterRequest,
    response: CreateDemoClusterResponse,
    errors: ['ClusterNameInUseException', 'TokenNotFoundException', 'TokenInUseException', ...HSM_ERRORS, ...STATE_ERRORS],
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
