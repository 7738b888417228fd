import { WorkbenchError } from '../../shared/errors';

export type UserType = 'USER' | 'SO';

const WHO: Record<UserType, string> = { USER: 'kmsuser (the normal user, CKU_USER)', SO: 'the security officer (CKU_SO)' };

/**
 * The one login owner per token in a host child. PKCS#11 login state belongs to the token and the whole
 * process, not to a session: C_Logout on any session logs out every session of the token, and an SO login
 * is refused while the user is logged in. So one flow's logout would silently end another's login (a
 * connected key store's kmsuser session), and SO work would meet CKR_USER_ANOTHER_ALREADY_LOGGED_IN with no
 * hint why. Here the session that logged in owns the token's login: another session can neither log in nor
 * log out until the owner has logged out (or closed its session), and the refusal says who holds it.
 */
export class TokenLogins {
  private readonly bySlot = new Map<string, { userType: UserType; session: string }>();

  /** Throws when another session of this child holds the token's login; call before C_Login. */
  assertCanLogin(slotId: string, session: string, userType: UserType): void {
    const holder = this.bySlot.get(slotId);
    if (!holder || holder.session === session) return;
    if (holder.userType === userType) {
      throw new WorkbenchError(
        'Pkcs11Exception',
        `The token is already logged in as ${WHO[userType]} by another session of this workbench. PKCS#11 logs a whole token in at once, so a second login is refused rather than shared: wait for that operation to finish, or disconnect the key store that holds the login.`,
        { code: 'CKR_USER_ALREADY_LOGGED_IN', details: { function: 'C_Login', userType } },
      );
    }
    throw new WorkbenchError(
      'Pkcs11Exception',
      `The token is logged in as ${WHO[holder.userType]} by another session of this workbench, so ${WHO[userType]} cannot log in now. Wait for that operation to finish, or disconnect the key store that holds the login, then try again.`,
      { code: 'CKR_USER_ANOTHER_ALREADY_LOGGED_IN', details: { function: 'C_Login', userType, loggedInAs: holder.userType } },
    );
  }

  loggedIn(slotId: string, session: string, userType: UserType): void {
    this.bySlot.set(slotId, { userType, session });
  }

  /** Throws when the token's login belongs to another session: its C_Logout would end that session's login. */
  assertCanLogout(slotId: string, session: string): void {
    const holder = this.bySlot.get(slotId);
    if (holder && holder.session !== session) {
      throw new WorkbenchError(
        'Pkcs11Exception',
        `This session did not log in: the token's login (${WHO[holder.userType]}) belongs to another session of this workbench, and only that session may log out.`,
        { code: 'LOGIN_HELD_BY_ANOTHER_SESSION', details: { function: 'C_Logout', loggedInAs: holder.userType } },
      );
    }
  }

  loggedOut(slotId: string): void {
    this.bySlot.delete(slotId);
  }

  /** True when `session` holds its token's login (so closing it must end the login first). */
  holds(slotId: string, session: string): boolean {
    return this.bySlot.get(slotId)?.session === session;
  }
}
