import type { MechanismInfo, ModuleInfo, ModuleRef, SlotInfo } from '../../shared/contract/hsm';

/**
 * The core's view of one PKCS#11 module loaded in its own supervised child process.
 * Every method may reject with a WorkbenchError: Pkcs11Exception (code = CKR_ name),
 * Pkcs11ModuleLoadException, HsmHostTimeoutException, HsmHostCrashedException.
 * After a crash or timeout the child is gone; the next call starts a fresh one.
 */
export interface HsmHost {
  readonly module: ModuleRef;
  getModuleInfo(options?: CallTimeout): Promise<ModuleInfo>;
  listSlots(options?: CallTimeout): Promise<SlotInfo[]>;
  getMechanisms(slotId: string, options?: CallTimeout): Promise<MechanismInfo[]>;
  /** Returns an opaque session reference (valid in this child only). */
  openSession(slotId: string, options?: CallTimeout & { readWrite?: boolean }): Promise<string>;
  getSessionInfo(session: string, options?: CallTimeout): Promise<{ SlotId: string; State: string; Flags: string[] }>;
  /** Secret: `pin` crosses into the child and straight into C_Login; it is never logged or echoed. */
  login(session: string, userType: 'USER' | 'SO', pin: string, options?: CallTimeout): Promise<void>;
  logout(session: string, options?: CallTimeout): Promise<void>;
  /**
   * C_InitToken: initialises the token in `slotId` (re-initialising destroys every object on it), with
   * `soPin` as its SO PIN (for an initialised token, its current SO PIN) and `label` (at most 32 bytes of
   * UTF-8; blank padded to 32 as the spec requires). No session may be open on the token.
   * Secret: `soPin` crosses into the child and straight into C_InitToken.
   */
  initToken(slotId: string, soPin: string, label: string, options?: CallTimeout): Promise<void>;
  /**
   * C_InitPIN: sets the normal user's (kmsuser's) PIN. `session` must be read-write with the SO logged in
   * (`login(session, 'SO', …)`); otherwise the module answers CKR_USER_NOT_LOGGED_IN / CKR_SESSION_READ_ONLY.
   * Secret: `pin` crosses into the child and straight into C_InitPIN.
   */
  initPin(session: string, pin: string, options?: CallTimeout): Promise<void>;
  /**
   * C_SetPIN: changes the PIN of the user logged in on `session` (the normal user if nobody is) from
   * `oldPin` to `newPin`; `session` must be read-write. A wrong `oldPin` is CKR_PIN_INCORRECT.
   * Secret: both PINs cross into the child and straight into C_SetPIN.
   */
  setPin(session: string, oldPin: string, newPin: string, options?: CallTimeout): Promise<void>;
  closeSession(session: string, options?: CallTimeout): Promise<void>;
  /**
   * Enumerates objects matching `template`, reading `attributes` of each; the child moves them in pages
   * (not one message per object). `onPage` sees each page as it arrives.
   */
  findObjects(
    session: string,
    query: { template: ObjectTemplate; attributes: readonly ObjectAttributeName[]; pageSize?: number },
    options?: CallTimeout & { onPage?: (page: ObjectInfo[]) => void },
  ): Promise<ObjectInfo[]>;
  /** Stops the child process. */
  dispose(): Promise<void>;
}

export interface CallTimeout {
  /**
   * Milliseconds before the child is declared hung and killed (SIGKILL); calls queued behind it fail too.
   * The clock starts when the child begins this call, not when it is queued: a child serves one call at a
   * time, and waiting behind another call is not hanging. For findObjects the clock restarts with each
   * page, so a long scan that makes progress is not cut off.
   */
  timeoutMs?: number;
}

/**
 * The one default per-call limit, for every caller (the host pool, the cluster checks, the core):
 * long enough for slow but working HSM operations (token initialisation, key generation on a network
 * HSM), and a frozen server costs no more than this. `--timeout` and WorkbenchCoreOptions.hsmTimeoutMs
 * override it.
 */
export const DEFAULT_HSM_TIMEOUT_MS = 15_000;

/** Attributes by their camelCase names (graphene style): label, id (hex), class (CKO_ name), keyType, token, private, ... */
export type ObjectAttributeName = 'handle' | 'class' | 'label' | 'id' | 'keyType' | 'token' | 'private' | 'sensitive' | 'extractable' | 'valueLen' | 'checkValue';

export interface ObjectTemplate {
  class?: string;
  label?: string;
  /** Hex */
  id?: string;
  keyType?: string;
  token?: boolean;
}

/** One object as plain data. `handle` is session-scoped: shown, never used as an identity. */
export interface ObjectInfo {
  handle?: string;
  class?: string;
  label?: string;
  id?: string;
  keyType?: string;
  token?: boolean;
  private?: boolean;
  sensitive?: boolean;
  extractable?: boolean;
  valueLen?: number;
  checkValue?: string;
}

export interface HsmHostPool {
  /** One host per (module path, environment); created on first use. */
  get(module: ModuleRef): HsmHost;
  disposeAll(): Promise<void>;
}
