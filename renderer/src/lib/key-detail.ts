import type { BackingKeyInfo, KeyMetadata, KeyState } from '../../../shared/contract/keys';

/** ScheduleKeyDeletion's window, as AWS bounds it (ScheduleKeyDeletionRequest): 7 to 30 days, 30 when not given. */
export const PENDING_WINDOW_MIN = 7;
export const PENDING_WINDOW_MAX = 30;
export const PENDING_WINDOW_DEFAULT = 30;

const DAY_MS = 24 * 60 * 60 * 1000;

export type KeyAction = 'enable' | 'disable' | 'schedule-deletion' | 'cancel-deletion';

/**
 * The lifecycle buttons a key offers, by AWS's key-state matrix: Enable/Disable in Enabled, Disabled and Unavailable
 * (the change lands once the store connects), ScheduleKeyDeletion anywhere but PendingDeletion, CancelKeyDeletion only
 * there. A Creating key offers nothing: its creation is still being finished or reconciled.
 */
export function keyActions(key: Pick<KeyMetadata, 'KeyState' | 'Enabled'>): readonly KeyAction[] {
  const settled: readonly KeyState[] = ['Enabled', 'Disabled', 'Unavailable'];
  if (key.KeyState === 'PendingDeletion') return ['cancel-deletion'];
  if (!settled.includes(key.KeyState)) return [];
  return [key.Enabled ? 'disable' : 'enable', 'schedule-deletion'];
}

/** Why a typed window is refused, in the words AWS uses, or null. */
export function pendingWindowProblem(days: number): string | null {
  return Number.isInteger(days) && days >= PENDING_WINDOW_MIN && days <= PENDING_WINDOW_MAX ? null : `PendingWindowInDays is ${PENDING_WINDOW_MIN} to ${PENDING_WINDOW_MAX} days`;
}

/** When a deletion scheduled now would run: the confirmation names it before the admin commits (the service computes the same). */
export function deletionDateFrom(now: Date, days: number): Date {
  return new Date(now.getTime() + days * DAY_MS);
}

/** What each verification of a member's copy means, for an admin deciding whether to trust it. */
export const VERIFICATION_TEXT: Readonly<Record<BackingKeyInfo['Verification'], { tone: 'ok' | 'warn' | 'bad'; text: string; meaning: string }>> = {
  VERIFIED: { tone: 'ok', text: 'Verified', meaning: 'Its check value equals the one computed on the HSM that generated the key: the same key material.' },
  UNVERIFIED: {
    tone: 'warn',
    text: 'Unverified',
    meaning: 'The copy is there, but this member’s module cannot compute the check value, so it is not proven to be the same key material.',
  },
  MISMATCH: { tone: 'bad', text: 'Mismatch', meaning: 'Its check value differs from the recorded one: this copy is not the key. Do not rely on it.' },
  MISSING: { tone: 'bad', text: 'Missing', meaning: 'No object with the key’s label and ID is on this HSM.' },
  UNREACHABLE: { tone: 'warn', text: 'Unreachable', meaning: 'This HSM did not answer, so its copy could not be looked at.' },
};
