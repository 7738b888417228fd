/**
 * The one error shape that crosses every boundary (IPC, CLI JSON output, audit records).
 * Names follow AWS where AWS has one; PKCS#11 failures carry the CKR_ name as `code`.
 * A message says what happened and what to do. It never contains a PIN, password or key value.
 */
export const ERROR_NAMES = [
  // AWS KMS / CloudHSM names
  'ValidationException',
  'NotFoundException',
  'CloudHsmClusterNotFoundException',
  'CloudHsmClusterInUseException',
  'CloudHsmClusterInvalidConfigurationException',
  'CloudHsmClusterNotActiveException',
  'CloudHsmClusterNotRelatedException',
  'CustomKeyStoreNotFoundException',
  'CustomKeyStoreNameInUseException',
  'CustomKeyStoreInvalidStateException',
  'CustomKeyStoreHasCMKsException',
  'InvalidMarkerException',
  'KMSInternalException',
  /** The trust anchor did not issue the cluster certificate (or its signature or dates do not hold). */
  'IncorrectTrustAnchorException',
  /** CloudHSM's name for a request the cluster's state refuses (initialize twice, install before initialize). */
  'CloudHsmInvalidRequestException',
  /** CloudHSM's name for an unknown HSM of a cluster. */
  'CloudHsmResourceNotFoundException',
  'UnsupportedOperationException',
  'KMSInvalidStateException',
  'DisabledException',
  'InvalidCiphertextException',
  'IncorrectKeyException',
  'InvalidKeyUsageException',
  'KeyUnavailableException',
  'InvalidArnException',
  'AlreadyExistsException',
  'InvalidAliasNameException',
  'TagException',
  'LimitExceededException',
  // Local names
  'ClusterNameInUseException',
  'Pkcs11Exception',
  'Pkcs11ModuleLoadException',
  'TokenNotFoundException',
  'TokenInUseException',
  /** kmsuser create on a cluster where a member already has kmsuser: kmsuser change-password sets one password on every HSM. */
  'KmsuserAlreadyExistsException',
  'HsmHostTimeoutException',
  'HsmHostCrashedException',
  'StateLockedException',
  'StateFileCorruptException',
  'StateFileMissingException',
  'StateFileVersionException',
  /** The state directory cannot be used (missing for a reader, not a directory, unsafe owner or mode): a usage error. */
  'StateDirectoryException',
  /** A file call failed or was refused (symbolic link, not a regular file, read-only); `code` is the errno. */
  'FileSystemException',
  'AuditLogException',
  /** The secret store (main/secrets/) cannot hold or open a secret: its key holder is unreachable, a sealed secret was changed… `code` says which. */
  'SecretStoreException',
  'OperationCancelledException',
  'UnknownOperationException',
  'UntrustedSenderException',
  /** A CLI `--wait` saw the state it polls end in a failure value (e.g. a key store FAILED); `code` is the reason. */
  'WaiterFailedException',
  /** A CLI `--wait` gave up polling before the state settled; the operation itself goes on. */
  'WaiterTimeoutException',
  /** A CLI `--query` failed on a response (a function given the wrong type): the operation itself succeeded. */
  'QueryFailedException',
] as const;

export type ErrorName = (typeof ERROR_NAMES)[number];

export interface ErrorInfo {
  name: ErrorName;
  message: string;
  /** CKR_ name for PKCS#11 failures, or a narrower local code. */
  code?: string;
  /** Plain data only: field paths for validation errors, the lock holder, etc. Never secrets. */
  details?: Record<string, unknown>;
}

export class WorkbenchError extends Error {
  override readonly name: ErrorName;
  readonly code: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(name: ErrorName, message: string, options: { code?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = name;
    this.code = options.code;
    this.details = options.details;
  }

  toInfo(): ErrorInfo {
    const info: ErrorInfo = { name: this.name, message: this.message };
    if (this.code !== undefined) info.code = this.code;
    if (this.details !== undefined) info.details = this.details;
    return info;
  }

  static fromInfo(info: ErrorInfo): WorkbenchError {
    return new WorkbenchError(info.name, info.message, { code: info.code, details: info.details });
  }
}

export function isErrorName(value: unknown): value is ErrorName {
  return typeof value === 'string' && (ERROR_NAMES as readonly string[]).includes(value);
}

/** Anything thrown becomes an ErrorInfo; unknown errors are not echoed (they may carry secrets). */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof WorkbenchError) return error.toInfo();
  return { name: 'KMSInternalException', message: 'An internal error occurred. The workbench log (logs/workbench.log in the state directory) has the details.' };
}

/** Result envelope: errors cross the context bridge as data, because Electron drops custom Error properties. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };
