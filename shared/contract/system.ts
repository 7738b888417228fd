import { z } from 'zod';

export const DescribeWorkbenchRequest = z.object({});

export const DescribeWorkbenchResponse = z.object({
  Version: z.string(),
  StateDirectory: z.string(),
  /** PKCS#11 libraries found at well-known paths on this machine, offered as defaults. */
  SuggestedModules: z.array(z.object({ ModulePath: z.string(), Description: z.string() })),
});

export const CancelOperationRequest = z.object({ CallId: z.string().min(1).max(64) });
export const CancelOperationResponse = z.object({ Cancelled: z.boolean() });

export const DescribeSecretStoreRequest = z.object({});

/**
 * Where kmsuser passwords are kept at rest (main/secrets/): the GUI shows it beside every password field, and
 * says plainly when the protection is a key file anyone who can read the state directory can read too.
 * Protector and Protected are null before the first password is stored: the first store decides.
 */
export const DescribeSecretStoreResponse = z.object({
  Protector: z.enum(['os-keyring', 'electron-safe-storage', 'key-file']).nullable(),
  Protected: z.boolean().nullable(),
  Description: z.string(),
});
export type DescribeSecretStoreResponse = z.infer<typeof DescribeSecretStoreResponse>;
