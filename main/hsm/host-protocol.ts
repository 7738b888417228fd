import type { ErrorInfo } from '../../shared/errors';
import type { ObjectInfo } from './hsm-host';
import type { Pkcs11Module } from './pkcs11-module';
import type { TokenFlows } from './token-flows';

/**
 * The HSM host's verbs, declared once. Each verb's signature is the method that implements it in the child
 * (a `Pkcs11Module` method, or a multi-step flow in token-flows.ts); this table only says which methods are
 * verbs and how they travel. The client (hsm-host-client.ts) and the child's dispatch (hsm-host-child.ts) are
 * both derived from it, as VS Code's ProxyChannel derives both sides of a channel from one service.
 */
export interface VerbTraits {
  /**
   * How many arguments the verb declares (optional ones included): the client passes call options after them,
   * and cannot tell them apart from an omitted optional argument otherwise. Checked against the signature below.
   */
  readonly arity: number;
  /** Returns a generator of pages: each page crosses as one message, the result is their count. */
  readonly paged?: true;
  /** A multi-step flow run inside the child as one request (token-flows.ts). */
  readonly flow?: true;
}

export const HOST_VERBS = {
  getModuleInfo: { arity: 0 },
  listSlots: { arity: 0 },
  getMechanisms: { arity: 1 },
  openSession: { arity: 2 },
  getSessionInfo: { arity: 1 },
  login: { arity: 3 },
  logout: { arity: 1 },
  initToken: { arity: 3 },
  initPin: { arity: 2 },
  setPin: { arity: 3 },
  closeSession: { arity: 1 },
  findObjects: { arity: 2, paged: true },
  getAttributes: { arity: 3 },
  setAttributes: { arity: 3 },
  createObject: { arity: 2 },
  destroyObject: { arity: 2 },
  generateKey: { arity: 3 },
  generateKeyPair: { arity: 4 },
  sign: { arity: 4 },
  encrypt: { arity: 4 },
  decrypt: { arity: 4 },
  wrapKey: { arity: 4 },
  unwrapKey: { arity: 5 },
  generateRandom: { arity: 2 },
  initUserPin: { arity: 3, flow: true },
} as const satisfies Record<string, VerbTraits>;

export type HostVerb = keyof typeof HOST_VERBS;
type FlowVerb = { [V in HostVerb]: (typeof HOST_VERBS)[V] extends { flow: true } ? V : never }[HostVerb];

/** Every verb as the child implements it: the signatures the client's methods are derived from. */
export type HostVerbs = Pick<Pkcs11Module, Exclude<HostVerb, FlowVerb>> & Pick<TokenFlows, FlowVerb>;

// A declared arity that disagrees with the method's parameter count fails to compile here.
type ArityMismatch = { [V in HostVerb]: Required<Parameters<HostVerbs[V]>>['length'] extends (typeof HOST_VERBS)[V]['arity'] ? never : V }[HostVerb];
type AssertNever<T extends never> = T;
export type _ArityMatchesSignatures = AssertNever<ArityMismatch>;

export function isHostVerb(value: unknown): value is HostVerb {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(HOST_VERBS, value);
}

/**
 * The messages between the supervisor (parent) and one HSM host child, over Node's IPC channel.
 * Plain data only, serialised as JSON: no Buffers (binary is hex), no bigints, no handles as identities (session
 * references are opaque strings). An undefined field is left out and an undefined array element becomes null, so
 * optional parameters come last (the supervisor drops trailing undefined arguments) and results use null for "none".
 * Secret: the args of login, initToken, initPin, setPin and initUserPin carry PINs, and those of createObject,
 * unwrapKey, encrypt and decrypt (and decrypt's result) may carry key material or plaintext; they travel only
 * down this channel, and nothing on either side logs a request or a result. CKA_VALUE of key material never
 * travels at all: the child refuses to read it (SENSITIVE_ATTRIBUTE_REFUSED).
 */
export type HostRequest =
  | { kind: 'call'; id: number; verb: HostVerb; args: unknown[] }
  /** Handled as soon as it arrives, not behind the serial queue: the call stops at its next step (a page, a flow step). */
  | { kind: 'cancel'; id: number }
  /** C_Finalize, then the child exits. */
  | { kind: 'shutdown'; id: 0 };

export type HostReply =
  | { id: number; kind: 'result'; value: unknown }
  | { id: number; kind: 'error'; error: ErrorInfo }
  | { id: number; kind: 'page'; objects: ObjectInfo[] };

/** The child's command line: the module path is argv[2]; its environment was set at spawn. */
export const MODULE_PATH_ARG_INDEX = 2;
