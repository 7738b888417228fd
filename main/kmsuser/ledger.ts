import type { HsmMemberRecord } from '../state/records';

/**
 * The kmsuser ledger's updates, in one place for every flow that logs in as kmsuser or changes its password
 * (kmsuser setup, connect, a later process's login). Each mutates the member record of a state draft, so the
 * entry is written with the change it describes.
 */

/** A kmsuser login the workbench made: accepted, or refused by the token (CKR_PIN_INCORRECT / CKR_PIN_LOCKED). */
export function noteKmsuserLogin(member: HsmMemberRecord, accepted: boolean, at: Date = new Date()): void {
  const ledger = (member.Kmsuser ??= {});
  if (accepted) {
    ledger.LastSuccessfulLogin = at.toISOString();
    // A token resets its failed-login count on a good login: so does the ledger.
    ledger.FailedLoginsCaused = 0;
  } else {
    ledger.FailedLoginsCaused = (ledger.FailedLoginsCaused ?? 0) + 1;
    ledger.LastFailedLogin = at.toISOString();
  }
}

/** The kmsuser password changed on this HSM (C_InitPIN as SO, or C_SetPIN as kmsuser). */
export function noteKmsuserRotation(member: HsmMemberRecord, at: Date = new Date()): void {
  (member.Kmsuser ??= {}).LastRotation = at.toISOString();
}
