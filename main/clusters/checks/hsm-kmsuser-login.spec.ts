import { describe, expect, it } from 'vitest';
import { loginAttemptBlocker } from './hsm-kmsuser-login';

// SoftHSM never locks a PIN, so the lock-out flags cannot be produced on a real token here:
// the decision that protects kmsuser's last tries is tested as the pure function it is.
describe('loginAttemptBlocker', () => {
  const flags = (...names: string[]): Set<string> => new Set(['CKF_TOKEN_INITIALIZED', ...names]);

  it('allows a login on a healthy token', () => {
    expect(loginAttemptBlocker(flags('CKF_USER_PIN_INITIALIZED'), null)).toBeUndefined();
    expect(loginAttemptBlocker(flags('CKF_USER_PIN_INITIALIZED', 'CKF_USER_PIN_COUNT_LOW'), null)).toBeUndefined();
  });

  it('never spends the last try, and never tries a locked kmsuser', () => {
    expect(loginAttemptBlocker(flags('CKF_USER_PIN_INITIALIZED', 'CKF_USER_PIN_FINAL_TRY'), null)).toMatch(/would lock kmsuser out/);
    expect(loginAttemptBlocker(flags('CKF_USER_PIN_INITIALIZED', 'CKF_USER_PIN_LOCKED'), null)).toMatch(/locked out/);
  });

  it('does not repeat a refused password on the other HSMs', () => {
    expect(loginAttemptBlocker(flags('CKF_USER_PIN_INITIALIZED'), 'hsm-abcdefghijk')).toMatch(/hsm-abcdefghijk refused this password/);
  });

  it('has nothing to log in to without a user PIN', () => {
    expect(loginAttemptBlocker(flags(), null)).toMatch(/no kmsuser PIN/);
  });
});
