import { describe, expect, it } from 'vitest';
import { BackingKeyVerification } from '../../../shared/contract/keys';
import { deletionDateFrom, keyActions, pendingWindowProblem, VERIFICATION_TEXT } from './key-detail';

describe('the key detail page', () => {
  it('offers the lifecycle actions the key-state matrix allows', () => {
    expect(keyActions({ KeyState: 'Enabled', Enabled: true })).toEqual(['disable', 'schedule-deletion']);
    expect(keyActions({ KeyState: 'Disabled', Enabled: false })).toEqual(['enable', 'schedule-deletion']);
    // Unavailable (store disconnected): accepted now, effective when the store connects.
    expect(keyActions({ KeyState: 'Unavailable', Enabled: true })).toEqual(['disable', 'schedule-deletion']);
    expect(keyActions({ KeyState: 'Unavailable', Enabled: false })).toEqual(['enable', 'schedule-deletion']);
    expect(keyActions({ KeyState: 'PendingDeletion', Enabled: false })).toEqual(['cancel-deletion']);
    expect(keyActions({ KeyState: 'Creating', Enabled: false })).toEqual([]);
  });

  it('refuses a deletion window outside 7 to 30 whole days, as AWS words it', () => {
    for (const days of [7, 15, 30]) expect(pendingWindowProblem(days)).toBeNull();
    for (const days of [6, 31, 0, 7.5, Number.NaN]) expect(pendingWindowProblem(days)).toBe('PendingWindowInDays is 7 to 30 days');
  });

  it('names the deletion date the service will set: now plus the window', () => {
    expect(deletionDateFrom(new Date('2026-03-01T10:00:00.000Z'), 30).toISOString()).toBe('2026-03-31T10:00:00.000Z');
    expect(deletionDateFrom(new Date('2026-03-01T10:00:00.000Z'), 7).toISOString()).toBe('2026-03-08T10:00:00.000Z');
  });

  it('explains every verification, UNVERIFIED as a module that cannot compute the check value', () => {
    for (const verification of BackingKeyVerification.options) expect(VERIFICATION_TEXT[verification].meaning).not.toBe('');
    expect(VERIFICATION_TEXT.UNVERIFIED.meaning).toContain('cannot compute the check value');
    expect(VERIFICATION_TEXT.VERIFIED.tone).toBe('ok');
    expect(VERIFICATION_TEXT.MISMATCH.tone).toBe('bad');
  });
});
