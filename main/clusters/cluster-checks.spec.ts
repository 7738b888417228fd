import { describe, expect, it } from 'vitest';
import { checkPinFlags, loginAttemptBlocker } from './cluster-checks';

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

// Likewise the verdicts for PIN flags SoftHSM never sets (it only ever reports CKF_USER_PIN_COUNT_LOW).
describe('checkPinFlags', () => {
  const verdict = (...flags: string[]): [string, string | null] => {
    const r = checkPinFlags('hsm-abcdefghijk', new Set(flags));
    return [r.Status, r.PredictedConnectionErrorCode];
  };

  it('passes a token with no PIN warning flags', () => {
    expect(verdict('CKF_TOKEN_INITIALIZED', 'CKF_USER_PIN_INITIALIZED')).toEqual(['pass', null]);
  });

  it('fails a locked kmsuser, and lets the most serious flag decide', () => {
    expect(verdict('CKF_USER_PIN_LOCKED')).toEqual(['fail', 'USER_LOCKED_OUT']);
    expect(verdict('CKF_USER_PIN_COUNT_LOW', 'CKF_USER_PIN_LOCKED')).toEqual(['fail', 'USER_LOCKED_OUT']);
  });

  it('warns before a lock-out, a forced PIN change, a recent failure, and a locked SO', () => {
    expect(verdict('CKF_USER_PIN_FINAL_TRY')).toEqual(['warn', 'USER_LOCKED_OUT']);
    expect(verdict('CKF_USER_PIN_TO_BE_CHANGED')).toEqual(['warn', 'INVALID_CREDENTIALS']);
    expect(verdict('CKF_USER_PIN_COUNT_LOW')).toEqual(['warn', null]);
    expect(verdict('CKF_SO_PIN_LOCKED')).toEqual(['warn', null]);
  });
});
