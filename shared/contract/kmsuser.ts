import { z } from 'zod';
import { ClusterId } from './clusters';
import { KmsuserPassword, SoPin } from './credentials';


/** One SO PIN for every member, as an admin who owns the cluster has; a member that refuses it is named. */
export const CreateKmsuserRequest = z.object({ ClusterId, SoPin, KmsuserPassword });
export const ChangeKmsuserPasswordRequest = z.object({ ClusterId, SoPin, NewKmsuserPassword: KmsuserPassword });
export const DescribeKmsuserRequest = z.object({ ClusterId });

/**
 * What a create or change-password did on one HSM. CHANGED: the HSM has the new password. NOT_CHANGED: it
 * still has what it had (the old password, or no kmsuser). UNKNOWN: the HSM stopped answering during its
 * C_InitPIN, so only a login can tell which password it has.
 */
export const KmsuserPasswordOutcome = z.enum(['CHANGED', 'NOT_CHANGED', 'UNKNOWN']);

export const KmsuserHsmResult = z.object({
  HsmId: z.string(),
  TokenSerial: z.string().nullable(),
  TokenLabel: z.string().nullable(),
  Outcome: KmsuserPasswordOutcome,
});

/**
 * Success: every HSM is CHANGED. A failure part-way is an error whose `details.Hsms` is this same list, so
 * the admin knows which password each HSM has (an unknown old password cannot be put back).
 */
export const KmsuserPasswordResponse = z.object({
  ClusterId,
  Hsms: z.array(KmsuserHsmResult),
  /** The key store that uses the cluster: changing the password on the HSMs does not tell it (kms update-custom-key-store does). */
  CustomKeyStoreId: z.string().nullable(),
});

/** The PIN flags about kmsuser that `kmsuser status` shows (CKF_ names). */
export const KMSUSER_PIN_FLAGS = ['CKF_USER_PIN_COUNT_LOW', 'CKF_USER_PIN_FINAL_TRY', 'CKF_USER_PIN_LOCKED', 'CKF_USER_PIN_TO_BE_CHANGED'] as const;

/** One member's kmsuser: read live from the token (no login: a status read spends no try), plus the workbench's ledger. */
export const KmsuserHsmStatus = z.object({
  HsmId: z.string(),
  TokenSerial: z.string().nullable(),
  TokenLabel: z.string().nullable(),
  Reachable: z.boolean(),
  /** Why the token could not be read, when it could not. */
  Problem: z.string().nullable(),
  /** CKF_USER_PIN_INITIALIZED; null when the token could not be read. */
  KmsuserPresent: z.boolean().nullable(),
  /** Which of KMSUSER_PIN_FLAGS the token reports. */
  PinFlags: z.array(z.enum(KMSUSER_PIN_FLAGS)),
  LastSuccessfulLogin: z.string().nullable(),
  LastRotation: z.string().nullable(),
  /** Logins the workbench tried that the token refused since the last accepted one. */
  FailedLoginsCaused: z.number(),
  LastFailedLogin: z.string().nullable(),
});

export const DescribeKmsuserResponse = z.object({
  ClusterId,
  ClusterName: z.string(),
  Hsms: z.array(KmsuserHsmStatus),
});

export type KmsuserPasswordOutcome = z.infer<typeof KmsuserPasswordOutcome>;
export type KmsuserHsmResult = z.infer<typeof KmsuserHsmResult>;
export type KmsuserPasswordResponse = z.infer<typeof KmsuserPasswordResponse>;
export type KmsuserHsmStatus = z.infer<typeof KmsuserHsmStatus>;
export type DescribeKmsuserResponse = z.infer<typeof DescribeKmsuserResponse>;
