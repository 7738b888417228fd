import { describe, expect, it } from 'vitest';
import { pinFlagsVerdict } from './hsm-pin-flags';

// The verdicts for PIN flags SoftHSM never sets (it only ever reports CKF_USER_PIN_COUNT_LOW).
describe('pinFlagsVerdict', () => {
  const verdict = (...flags: string[]): [string, string | null] => {
    const r = pinFlagsVerdict(new Set(flags));
    return [r.status, r.predicted ?? null];
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
