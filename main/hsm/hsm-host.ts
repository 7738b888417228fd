import type { ModuleRef } from '../../shared/contract/hsm';
import type { HostVerbs } from './host-protocol';

/**
 * The core's view of one PKCS#11 module loaded in its own supervised child process: every verb of
 * host-protocol.ts (documented where the child implements it, in pkcs11-module.ts and token-flows.ts), called
 * with the same arguments plus optional call options, answering with a promise.
 * Every verb may reject with a WorkbenchError: Pkcs11Exception (code = CKR_ name, or SENSITIVE_ATTRIBUTE_REFUSED
 * when CKA_VALUE of key material or of a private or sensitive object is asked for), Pkcs11ModuleLoadException,
 * HsmHostTimeoutException, HsmHostCrashedException, OperationCancelledException.
 * Binary values cross as lowercase hex strings, handles (sessions: opaque references) as strings.
 * After a crash or timeout the child is gone; the next call starts a fresh one.
 */
export type HsmHost = RemoteVerbs<HostVerbs> & {
  readonly module: ModuleRef;
  /** Called whenever a child of this host exits, for whatever reason; returns the unsubscribe function. */
  onExit(listener: (exit: HostExit) => void): () => void;
  /**
   * Called once for each open session this host has lost: a call naming it failed with CKR_DEVICE_ERROR,
   * CKR_DEVICE_REMOVED, CKR_TOKEN_NOT_PRESENT, CKR_SESSION_HANDLE_INVALID or CKR_SESSION_CLOSED, or the child
   * holding it exited unexpectedly (crash, timeout kill, retired after a device error). Not for a session the
   * owner closed, nor on dispose(). The owner of a held session (a connected key store) follows reality this way;
   * getSessionInfo is the cheap liveness probe that makes a loss show. Returns the unsubscribe function.
   */
  onSessionLost(listener: (event: SessionLostEvent) => void): () => void;
  /** The current child's process id (undefined while none runs): for supervision and tests. */
  readonly pid: number | undefined;
  /**
   * Sends the next call to a fresh child (a new C_Initialize), letting the current one finish the calls it
   * has: for a module that sees no HSM (p11-kit's client loaded while its server was down), without cutting
   * off other callers' calls or sessions the way dispose() would.
   */
  retire(): void;
  /** Stops the child process. */
  dispose(): Promise<void>;
};

/**
 * A verb as the parent calls it. A paged verb (a generator of pages in the child) answers with all its pages
 * concatenated, and `onPage` sees each page as it arrives.
 */
export type RemoteVerbs<V> = {
  [K in keyof V]: V[K] extends (...args: infer A) => infer R
    ? R extends Generator<infer Page extends readonly unknown[]>
      ? (...args: [...A, options?: CallOptions<Page>]) => Promise<Page>
      : (...args: [...A, options?: CallOptions<never>]) => Promise<Awaited<R>>
    : never;
};

export interface CallTimeout {
  /**
   * Milliseconds before the child is declared hung and killed (SIGKILL); calls queued behind it fail too.
   * The clock starts when the child begins this call, not when it is queued: a child serves one call at a
   * time, and waiting behind another call is not hanging. For a paged verb the clock restarts with each
   * page, so a long scan that makes progress is not cut off.
   */
  timeoutMs?: number;
}

export interface CallOptions<Page = never> extends CallTimeout {
  /**
   * Cancels the call: the child stops it at its next step (between pages, between a flow's steps) and it
   * rejects with OperationCancelledException. The cancel overtakes queued calls; a PKCS#11 call already
   * running is not interrupted (its timeout still applies).
   */
  signal?: AbortSignal;
  onPage?: (page: Page) => void;
}

export interface SessionLostEvent {
  /** The session reference openSession returned. */
  session: string;
  reason: 'device-error' | 'session-invalid' | 'token-removed' | 'host-exit';
  /** The CKR_ name of the failed call (absent for host-exit). */
  code?: string;
}

/** Why a host's child process ended. `expected` is false for a crash, a timeout kill or a vanished device. */
export interface HostExit {
  reason: 'stopped' | 'retired' | 'timeout' | 'crashed';
  expected: boolean;
  exitCode: number | null;
  signal: string | null;
}
/**
 * The one default per-call limit, for every caller (the host pool, the cluster checks, the core):
 * long enough for slow but working HSM operations (token initialisation, key generation on a network
 * HSM), and a frozen server costs no more than this. `--timeout` and WorkbenchCoreOptions.hsmTimeoutMs
 * override it.
 */
export const DEFAULT_HSM_TIMEOUT_MS = 15_000;

/**
 * PKCS#11 attributes by their camelCase names (graphene style), as plain data: CKO_/CKK_/CKC_/CKM_ names for
 * enumerations, hex for byte strings (id, modulus, subject, …), numbers for CK_ULONGs. One interface serves
 * both directions: a template (create, generate, unwrap, search, set) and what C_GetAttributeValue read back.
 */
export interface ObjectAttributes {
  /** CKO_ name */
  class?: string;
  /** CKK_ name */
  keyType?: string;
  label?: string;
  /** Hex */
  id?: string;
  token?: boolean;
  private?: boolean;
  sensitive?: boolean;
  extractable?: boolean;
  modifiable?: boolean;
  encrypt?: boolean;
  decrypt?: boolean;
  sign?: boolean;
  verify?: boolean;
  wrap?: boolean;
  unwrap?: boolean;
  derive?: boolean;
  wrapWithTrusted?: boolean;
  /** Only the SO can set it (a trusted wrapping key, DESIGN.md §2). */
  trusted?: boolean;
  alwaysSensitive?: boolean;
  neverExtractable?: boolean;
  local?: boolean;
  modulusBits?: number;
  /** Hex */
  modulus?: string;
  /** Hex */
  publicExponent?: string;
  valueLen?: number;
  /** Hex. Read only from public, non-sensitive objects that are not secret or private keys: the host refuses the rest. */
  value?: string;
  /** CKC_ name */
  certificateType?: string;
  /** Hex DER */
  subject?: string;
  /** Hex DER */
  issuer?: string;
  /** Hex DER */
  serialNumber?: string;
  /** Hex */
  checkValue?: string;
  /** CKM_ names */
  allowedMechanisms?: string[];
  /** CKM_ name */
  keyGenMechanism?: string;
}

export type ObjectTemplate = ObjectAttributes;

/** The readable names; `handle` is not an attribute but the session-scoped object handle. */
export type ObjectAttributeName = 'handle' | keyof ObjectAttributes;

/** A mechanism by its CKM_ name, with the parameters the workbench uses (RSA-OAEP for wrapping, AES-GCM). */
export interface Mechanism {
  mechanism: string;
  params?: RsaOaepParams | AesGcmParams;
}

export interface RsaOaepParams {
  kind: 'rsa-oaep';
  hashAlg: 'CKM_SHA_1' | 'CKM_SHA256';
  mgf: 'CKG_MGF1_SHA1' | 'CKG_MGF1_SHA256';
}

export interface AesGcmParams {
  kind: 'aes-gcm';
  /** Hex */
  iv: string;
  /** Hex */
  aad: string;
  tagBits: number;
}

export interface KeyPairHandles {
  publicKey: string;
  privateKey: string;
}

export interface FindObjectsQuery {
  template: ObjectTemplate;
  /**
   * What to read of each match. With `value`, the search stops with SENSITIVE_ATTRIBUTE_REFUSED at the first
   * match whose value may not be read: narrow the template to public objects (class CKO_CERTIFICATE, private false).
   */
  attributes: readonly ObjectAttributeName[];
  /** Objects per page (one message each); 1–4096, default 1024. */
  pageSize?: number;
}

/** One object as plain data. `handle` is session-scoped: shown, never used as an identity. */
export interface ObjectInfo extends ObjectAttributes {
  handle?: string;
}

export interface SessionInfoDto {
  SlotId: string;
  State: string;
  Flags: string[];
}

export interface HsmHostPool {
  /**
   * One host per (module path, environment, lane); created on first use. A lane (a key store member's HsmId) gives
   * that member a child of its own: one member's device error, crash or slow call then touches no other member.
   */
  get(module: ModuleRef, lane?: string): HsmHost;
  disposeAll(): Promise<void>;
}
