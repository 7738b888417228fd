import { z } from 'zod';
import { ClusterId } from './clusters';
import { KmsuserPassword } from './credentials';

/** AWS KMS ConnectionErrorCode values a check can predict, each mapped to its local meaning in the remedy. */
export const ConnectionErrorCode = z.enum([
  'INVALID_CREDENTIALS',
  'CLUSTER_NOT_FOUND',
  'INSUFFICIENT_CLOUDHSM_HSMS',
  'USER_LOCKED_OUT',
  'USER_LOGGED_IN',
  'USER_NOT_FOUND',
  'NETWORK_ERRORS',
  'INTERNAL_ERROR',
  'SUBNET_NOT_FOUND',
  'INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET',
]);

export const CheckStatus = z.enum(['pass', 'warn', 'fail', 'skipped']);

export const CheckResult = z.object({
  /** Stable id, e.g. `module.loads`, `hsm.token-present`. */
  CheckId: z.string(),
  Title: z.string(),
  Status: CheckStatus,
  /** The HSM member this result is about, when it is about one. */
  HsmId: z.string().nullable(),
  /** What the check saw, in plain words (values, flags, counts). Never a secret. */
  Evidence: z.array(z.string()),
  /** What to do about a warn or fail, in plain words. */
  Remedy: z.string().nullable(),
  /** The connection error a key store would report because of this failure. */
  PredictedConnectionErrorCode: ConnectionErrorCode.nullable(),
});

export const CheckClusterRequest = z.object({
  ClusterId,
  /** kmsuser password for the optional login test. Secret: never stored, logged or audited. */
  KmsuserPassword: KmsuserPassword.optional(),
});

export const ClusterCheckReport = z.object({
  ClusterId,
  ClusterName: z.string(),
  StartedAt: z.string(),
  CompletedAt: z.string(),
  Checks: z.array(CheckResult),
  Summary: z.object({ Pass: z.number(), Warn: z.number(), Fail: z.number(), Skipped: z.number() }),
  ActiveHsmCount: z.number(),
  /** True when no check failed. */
  Passed: z.boolean(),
});

export const CheckClusterResponse = z.object({ Report: ClusterCheckReport });

/** Pushed while checks run: one event per finished check. */
export const CheckClusterProgress = z.object({
  Completed: z.number(),
  /** Best estimate; grows when member-specific checks are discovered. */
  Total: z.number(),
  Check: CheckResult,
});

export type ConnectionErrorCode = z.infer<typeof ConnectionErrorCode>;
export type CheckStatus = z.infer<typeof CheckStatus>;
export type CheckResult = z.infer<typeof CheckResult>;
export type ClusterCheckReport = z.infer<typeof ClusterCheckReport>;
export type CheckClusterProgress = z.infer<typeof CheckClusterProgress>;
