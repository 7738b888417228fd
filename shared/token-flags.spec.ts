import { describe, expect, it } from 'vitest';
import { tokenFlagBadges } from './token-flags';

describe('tokenFlagBadges', () => {
  it('names the flags an admin cares about, most telling first, and hides capability noise', () => {
    const badges = tokenFlagBadges(['CKF_RNG', 'CKF_LOGIN_REQUIRED', 'CKF_USER_PIN_COUNT_LOW', 'CKF_USER_PIN_INITIALIZED', 'CKF_TOKEN_INITIALIZED']);
    expect(badges.map((b) => b.text)).toEqual(['initialized', 'user PIN set', 'PIN count low', 'login required']);
  });

  it('says when kmsuser has no PIN or the token is not initialised', () => {
    expect(tokenFlagBadges(['CKF_TOKEN_INITIALIZED']).map((b) => [b.text, b.tone])).toContainEqual(['no user PIN', 'warn']);
    expect(tokenFlagBadges(['CKF_SO_PIN_LOCKED', 'CKF_LOGIN_REQUIRED']).map((b) => [b.text, b.tone])).toEqual([['not initialized', 'bad']]);
  });
});
