import { describe, expect, it } from 'vitest';
import { newPasswordProblem } from './password-rules';

describe('a new kmsuser password typed twice', () => {
  it('takes 7 to 32 characters that match', () => {
    expect(newPasswordProblem('1234567', '1234567')).toBeNull();
    expect(newPasswordProblem('x'.repeat(32), 'x'.repeat(32))).toBeNull();
  });

  it('refuses 6 or 33 characters, naming the length and never the password', () => {
    expect(newPasswordProblem('secret', 'secret')).toBe('The password is 7 to 32 characters; this one has 6.');
    const long = 'y'.repeat(33);
    const problem = newPasswordProblem(long, long);
    expect(problem).toMatch(/has 33/);
    expect(problem).not.toContain(long);
  });

  it('refuses two different passwords', () => {
    expect(newPasswordProblem('Password1', 'password1')).toMatch(/differ/);
  });
});
