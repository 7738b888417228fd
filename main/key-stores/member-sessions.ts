import { randomBytes } from 'node:crypto';
import type { SlotInfo } from '../../shared/contract/hsm';
import { NO_SLOTS } from '../clusters/check-result';
import { findMemberSlot } from '../clusters/member-tokens';
import type { HsmHost, HsmHostPool } from '../hsm/hsm-host';
import { kmsuserPin } from '../kmsuser/kmsuser-pin';
import type { ClusterRecord, HsmMemberRecord } from '../state/records';
import { asMemberFailure, MemberFailure } from './connection-errors';

/** One logged-in kmsuser session on one member, in that HSM's host child; `ref` is the host's opaque session reference. */
export interface MemberSession {
  readonly hsmId: string;
  readonly host: HsmHost;
  readonly ref: string;
  readonly slot: SlotInfo;
}

/** The member's slot now (slot ids change between module loads); a token that is gone is INSUFFICIENT_CLOUDHSM_HSMS. */
async function memberSlot(host: HsmHost, member: HsmMemberRecord, timeoutMs: number): Promise<SlotInfo> {
  const slots = await host.listSlots({ timeoutMs });
  if (slots.length === 0) {
    // No slots at all: nothing behind the module (p11-kit's client without its server). The next call starts it afresh.
    host.retire();
    throw new MemberFailure(member.HsmId, 'NETWORK_ERRORS', `${NO_SLOTS.evidence} ${NO_SLOTS.cause}`);
  }
  const slot = findMemberSlot(slots, member);
  if (slot === undefined || slot === 'ambiguous' || slot.Token === null) {
    const which = member.TokenSerial !== null ? `serial ${member.TokenSerial}` : `label "${member.TokenLabel ?? ''}"`;
    throw new MemberFailure(member.HsmId, 'INSUFFICIENT_CLOUDHSM_HSMS', slot === 'ambiguous' ? `more than one token matches ${which}` : `the token with ${which} is not present`);
  }
  return slot;
}

/**
 * Opens a read-write session on the member and logs in as kmsuser with `password`. A refusal closes the
 * session again and throws a MemberFailure whose code is the ConnectionErrorCode.
 * Each member's session lives in a host child of its own (the lane is its HsmId): a device error retires only that
 * member's child, and calls on two members run in parallel. The child lives as long as the session: a failed login
 * and a release stop it, so the next login meets the token as it is then (a SoftHSM loaded before its token was
 * re-initialised, or its PIN set by another process, still answers from the token it loaded).
 */
export async function loginMember(hosts: HsmHostPool, cluster: ClusterRecord, member: HsmMemberRecord, password: string, timeoutMs: number): Promise<MemberSession> {
  const host = hosts.get({ ModulePath: cluster.ModulePath, ModuleEnvironment: cluster.ModuleEnvironment }, member.HsmId);
  let ref: string | undefined;
  try {
    const slot = await memberSlot(host, member, timeoutMs);
    // The token's flag, not C_Login alone: a module loaded before the token was initialized again (SoftHSM in a
    // long-lived host child) still accepts the wiped user PIN, so the GUI would connect where a fresh CLI fails.
    if (!slot.Token?.Flags.includes('CKF_USER_PIN_INITIALIZED')) {
      throw new MemberFailure(member.HsmId, 'USER_NOT_FOUND', 'the token has no kmsuser: CKF_USER_PIN_INITIALIZED is not set (C_Login would answer CKR_USER_PIN_NOT_INITIALIZED)');
    }
    ref = await host.openSession(slot.SlotId, { readWrite: true }, { timeoutMs });
    await host.login(ref, 'USER', kmsuserPin(cluster.LoginFormat, password), { timeoutMs });
    return { hsmId: member.HsmId, host, ref, slot };
  } catch (error) {
    if (ref !== undefined) await host.closeSession(ref, { timeoutMs }).catch(() => undefined);
    await host.dispose().catch(() => undefined);
    throw asMemberFailure(member.HsmId, error);
  }
}

/**
 * Logs out and closes, best effort (a member that stopped answering has lost the session anyway), then stops the member's
 * child. `sessionGone`: its host reported the session lost (CKR_SESSION_HANDLE_INVALID, a device error, the child's exit),
 * so there is nothing to log out of; the child is stopped all the same, or the next login would reuse one that loaded the old token.
 */
export async function releaseSession(session: MemberSession, timeoutMs: number, sessionGone = false): Promise<void> {
  if (!sessionGone) {
    await session.host.logout(session.ref, { timeoutMs }).catch(() => undefined);
    await session.host.closeSession(session.ref, { timeoutMs }).catch(() => undefined);
  }
  await session.host.dispose().catch(() => undefined);
}

const PASSWORD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** AWS's KeyStorePassword limit; a token's MaxPinLen may be lower. */
const MAX_PASSWORD_LENGTH = 32;

/**
 * A fresh kmsuser password from crypto.randomBytes: 32 characters (6 bits each), or fewer where a member's
 * MaxPinLen (less the `kmsuser:` prefix) is lower; never under 7, AWS's minimum, nor under a MinPinLen.
 */
export function newKmsuserPassword(cluster: Pick<ClusterRecord, 'LoginFormat'>, sessions: readonly MemberSession[]): string {
  const prefix = kmsuserPin(cluster.LoginFormat, '').length;
  const maxLen = Math.min(MAX_PASSWORD_LENGTH, ...sessions.map((s) => (s.slot.Token?.MaxPinLen ?? MAX_PASSWORD_LENGTH) - prefix));
  const minLen = Math.max(7, ...sessions.map((s) => (s.slot.Token?.MinPinLen ?? 0) - prefix));
  const length = Math.max(minLen, maxLen);
  // 64 symbols: a byte's low 6 bits pick one without bias.
  return [...randomBytes(length)].map((b) => PASSWORD_ALPHABET[b & 63]).join('');
}
