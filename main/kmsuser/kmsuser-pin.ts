import type { LoginFormat } from '../../shared/contract/clusters';

/**
 * The PIN the token holds for kmsuser: the password itself, or `kmsuser:password` where the cluster's module
 * expects CloudHSM's user:password login format. Setting it (C_InitPIN) and logging in (C_Login) both go through
 * here, so a password set by the workbench is the one its logins present. Secret: the result is a PIN.
 */
export function kmsuserPin(loginFormat: LoginFormat, password: string): string {
  return loginFormat === 'user:password' ? `kmsuser:${password}` : password;
}
