import type { MechanismInfo, ModuleInfo, SlotInfo } from '../../shared/contract/hsm';
import type { ErrorInfo } from '../../shared/errors';
import type { ObjectAttributeName, ObjectInfo, ObjectTemplate } from './hsm-host';

/**
 * The messages between the supervisor (parent) and one HSM host child, over Node's IPC channel.
 * Plain data only: no Buffers, no handles as identities (session references are opaque strings).
 */
export interface SessionInfoDto {
  SlotId: string;
  State: string;
  Flags: string[];
}

export interface HostMethods {
  getModuleInfo: { params: Record<string, never>; result: ModuleInfo };
  listSlots: { params: Record<string, never>; result: SlotInfo[] };
  getMechanisms: { params: { slotId: string }; result: MechanismInfo[] };
  openSession: { params: { slotId: string; readWrite: boolean }; result: string };
  getSessionInfo: { params: { session: string }; result: SessionInfoDto };
  /** Secret: `pin` is a PIN. It crosses the IPC channel once, is passed to C_Login, and is never logged or echoed. */
  login: { params: { session: string; userType: 'USER' | 'SO'; pin: string }; result: null };
  /** Secret: `soPin` is the SO PIN, passed to C_InitToken only. `label` is padded to 32 bytes in the child. */
  initToken: { params: { slotId: string; soPin: string; label: string }; result: null };
  /** Secret: `pin` is the new user PIN, passed to C_InitPIN only. */
  initPin: { params: { session: string; pin: string }; result: null };
  /** Secret: both PINs are passed to C_SetPIN only. */
  setPin: { params: { session: string; oldPin: string; newPin: string }; result: null };
  logout: { params: { session: string }; result: null };
  closeSession: { params: { session: string }; result: null };
  /** Replies with `page` messages, then a result carrying the object count. */
  findObjects: { params: { session: string; template: ObjectTemplate; attributes: readonly ObjectAttributeName[]; pageSize: number }; result: number };
  /** C_Finalize, then the child exits. */
  shutdown: { params: Record<string, never>; result: null };
}

export type HostMethod = keyof HostMethods;

export type HostRequest = { [M in HostMethod]: { id: number; method: M; params: HostMethods[M]['params'] } }[HostMethod];

export type HostReply =
  | { id: number; kind: 'result'; value: unknown }
  | { id: number; kind: 'error'; error: ErrorInfo }
  | { id: number; kind: 'page'; objects: ObjectInfo[] };

/** The child's command line: the module path is argv[2]; its environment was set at spawn. */
export const MODULE_PATH_ARG_INDEX = 2;
