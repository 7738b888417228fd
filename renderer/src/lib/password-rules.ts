/** AWS's KeyStorePassword rule, which is also the kmsuser password's: 7 to 32 characters, case-sensitive. */
export const PASSWORD_MIN = 7;
export const PASSWORD_MAX = 32;

/**
 * What is wrong with a new password typed twice, before it is sent; null when nothing is. Never echoes the
 * password: only its length and whether the two match.
 */
export function newPasswordProblem(password: string, confirmation: string): string | null {
  if (password.length < PASSWORD_MIN || password.length > PASSWORD_MAX) return `The password is ${PASSWORD_MIN} to ${PASSWORD_MAX} characters; this one has ${password.length}.`;
  if (password !== confirmation) return 'The two passwords differ: type the same password in both fields.';
  return null;
}
