import type { SlotInfo } from '../../shared/contract/hsm';
import { WorkbenchError } from '../../shared/errors';
import type { HsmHost } from '../hsm/hsm-host';
import type { HsmMemberRecord } from '../state/records';
import { describeMember, findMemberSlot } from './member-tokens';

/** C_Login's user types, as the host's login verb takes them. */
type UserType = Parameters<HsmHost['login']>[1];

/** A member's token, found among the module's slots now (slot ids change between module loads). */
export interface MemberSlot {
  member: HsmMemberRecord;
  slotId: string;
  flags: ReadonlySet<string>;
}

/**
 * Finds every member's token before anything is changed, so a missing one is named and nothing is half done.
 * `operation` and `clusterId` only make the refusal say what was refused and which cluster to check.
 */
export async function locateMembers(
  host: HsmHost,
  members: readonly HsmMemberRecord[],
  options: { operation?: string; clusterId?: string; signal?: AbortSignal } = {},
): Promise<MemberSlot[]> {
  const slots: SlotInfo[] = await host.listSlots({ signal: options.signal });
  // No slots at all: nothing behind the module (p11-kit's client whose server was down); the next call starts afresh.
  if (slots.length === 0) host.retire();
  return members.map((member) => {
    const slot = findMemberSlot(slots, member);
    if (slot === undefined || slot === 'ambiguous' || slot.Token === null) {
      const refused = options.operation === undefined ? 'Nothing was changed on any HSM' : `${options.operation} was refused and nothing was changed on any HSM`;
      throw new WorkbenchError(
        'TokenNotFoundException',
        `HSM ${member.HsmId} (token ${describeMember(member)}) cannot be reached: ${slot === 'ambiguous' ? 'more than one token matches it' : 'its token is not present'} in ${host.module.ModulePath}. ${refused}. Make the token reachable (run hsm-workbench cluster check${options.clusterId === undefined ? '' : ` ${options.clusterId}`}), then try again.`,
        { details: { ...(options.clusterId === undefined ? {} : { ClusterId: options.clusterId }), HsmId: member.HsmId, TokenSerial: member.TokenSerial } },
      );
    }
    return { member, slotId: slot.SlotId, flags: new Set(slot.Token.Flags) };
  });
}

/**
 * Runs `work` in a read-write session of the member's token logged in as `userType`, then logs out and closes
 * the session whatever happened. A refused PIN names the member, so the admin knows which HSM said no.
 * Secret: `pin` goes to C_Login only.
 */
export async function asMember<T>(
  host: HsmHost,
  slot: MemberSlot,
  userType: UserType,
  pin: string,
  work: (ref: string) => Promise<T>,
  /** Told whether the token accepted the PIN (not told when the login failed for another reason): the kmsuser ledger. */
  onLogin?: (accepted: boolean) => Promise<void>,
): Promise<T> {
  const ref = await host.openSession(slot.slotId, { readWrite: true });
  try {
    try {
      await host.login(ref, userType, pin);
    } catch (error) {
      if (isPinRefusal(error)) await onLogin?.(false);
      throw loginRefused(error, slot, userType);
    }
    await onLogin?.(true);
    const result = await work(ref);
    await host.logout(ref);
    return result;
  } finally {
    // Also ends the login if a step failed (the session owns it).
    await host.closeSession(ref).catch(() => undefined);
  }
}

/** A read-only session with no login: public objects (public keys, certificates) are readable by anyone. */
export async function inPublicSession<T>(host: HsmHost, slot: MemberSlot, work: (ref: string) => Promise<T>): Promise<T> {
  const ref = await host.openSession(slot.slotId, {});
  try {
    return await work(ref);
  } finally {
    await host.closeSession(ref).catch(() => undefined);
  }
}

export function isPinRefusal(error: unknown): boolean {
  return error instanceof WorkbenchError && (error.code === 'CKR_PIN_INCORRECT' || error.code === 'CKR_PIN_LEN_RANGE' || error.code === 'CKR_PIN_LOCKED');
}

export function loginRefused(error: unknown, slot: MemberSlot, userType: UserType): unknown {
  if (!(error instanceof WorkbenchError)) return error;
  const who = `HSM ${slot.member.HsmId} (token ${describeMember(slot.member)})`;
  const what = userType === 'SO' ? 'the SO PIN' : 'the kmsuser password';
  if (isPinRefusal(error)) {
    return new WorkbenchError(error.name, `${who} refused ${what} (${error.code ?? 'refused'}). Give the ${userType === 'SO' ? 'SO PIN' : 'kmsuser password'} of every HSM of the cluster.`, {
      code: error.code,
      details: { HsmId: slot.member.HsmId, TokenSerial: slot.member.TokenSerial },
      cause: error,
    });
  }
  if (error.code === 'CKR_USER_PIN_NOT_INITIALIZED') {
    return new WorkbenchError(error.name, `${who} has no kmsuser yet. Run "hsm-workbench kmsuser create <cluster>" first.`, { code: error.code, details: { HsmId: slot.member.HsmId }, cause: error });
  }
  return new WorkbenchError(error.name, `${who}: logging in as ${userType === 'SO' ? 'SO' : 'kmsuser'} failed: ${error.message}`, { code: error.code, details: { HsmId: slot.member.HsmId }, cause: error });
}
