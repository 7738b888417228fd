import { describe, expect, it } from 'vitest';
import { thrown } from '../../tests/fixtures/outcomes';
import { TokenLogins } from './token-logins';

describe('TokenLogins: one login owner per token', () => {
  it('lets the first session log in, and refuses a second kmsuser login on the same token', () => {
    const logins = new TokenLogins();
    logins.assertCanLogin('1', 'a', 'USER');
    logins.loggedIn('1', 'a', 'USER');
    expect(thrown(() => logins.assertCanLogin('1', 'b', 'USER'))).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_USER_ALREADY_LOGGED_IN' });
    // Another token is another login.
    expect(() => logins.assertCanLogin('2', 'b', 'USER')).not.toThrow();
  });

  it('refuses SO work while kmsuser is logged in, saying who holds the token', () => {
    const logins = new TokenLogins();
    logins.loggedIn('1', 'a', 'USER');
    const error = thrown(() => logins.assertCanLogin('1', 'b', 'SO'));
    expect(error.code).toBe('CKR_USER_ANOTHER_ALREADY_LOGGED_IN');
    expect(error.message).toMatch(/kmsuser/);
  });

  it('lets only the owner log out, and frees the token after', () => {
    const logins = new TokenLogins();
    logins.loggedIn('1', 'a', 'USER');
    expect(thrown(() => logins.assertCanLogout('1', 'b')).code).toBe('LOGIN_HELD_BY_ANOTHER_SESSION');
    expect(() => logins.assertCanLogout('1', 'a')).not.toThrow();
    expect(logins.holds('1', 'a')).toBe(true);
    logins.loggedOut('1');
    expect(logins.holds('1', 'a')).toBe(false);
    expect(() => logins.assertCanLogin('1', 'b', 'SO')).not.toThrow();
  });

  it('leaves a session its own answer from the module when it logs in twice', () => {
    const logins = new TokenLogins();
    logins.loggedIn('1', 'a', 'USER');
    // The same session: the module answers (CKR_USER_ALREADY_LOGGED_IN or, for SO, CKR_USER_ANOTHER_ALREADY_LOGGED_IN).
    expect(() => logins.assertCanLogin('1', 'a', 'SO')).not.toThrow();
  });
});
