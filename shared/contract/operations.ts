import { z } from 'zod';
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
