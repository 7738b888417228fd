import { z } from 'zod';
import { ModuleEnvironment, ModulePath } from './hsm';
import { printableName } from './names';

export const CLUSTER_ID_PATTERN = /^cluster-[2-7a-zA-Z]{11}$/;

export const ClusterId = z.string().regex(CLUSTER_ID_PATTERN, 'ClusterId looks like cluster-xxxxxxxxxxx (11 characters of 2-7, a-z, A-Z)');

export const ClusterName = printableName('ClusterName', z.string().trim().min(1, 'ClusterName is required').max(256, 'ClusterName is at most 256 characters'));

/**
 * Serials compare without regard to case: they are usually hex, and an admin may type them in upper
 * case while the token reports lower case (SoftHSM) or the other way round.
 */
export function tokenSerialKey(serial: string): string {
  return serial.toUpperCase();
}

/** How the kmsuser PIN is presented at C_Login: plain, or `kmsuser:password` as CloudHSM's library expects. */
export const LoginFormat = z.enum(['password', 'user:password']);

/** An HSM member, chosen as a token by serial number or by label (serial is preferred: labels need not be unique). */
export const HsmMemberSelector = z
  .object({
    TokenSerial: printableName('TokenSerial', z.string().min(1).max(16)).optional(),
    // A token whose own label holds control characters can still be chosen, by its serial.
    TokenLabel: printableName('TokenLabel', z.string().min(1).max(32), 'choose that token by its TokenSerial instead').optional(),
  })
  .refine((m) => (m.TokenSerial === undefined) !== (m.TokenLabel === undefined), 'each HSM is chosen by exactly one of TokenSerial or TokenLabel');

export const HsmMember = z.object({
  HsmId: z.string(),
  TokenSerial: z.string().nullable(),
  TokenLabel: z.string().nullable(),
});

export const ClusterInfo = z.object({
  ClusterId,
  ClusterName: z.string(),
  ModulePath: z.string(),
  ModuleEnvironment: z.record(z.string(), z.string()),
  LoginFormat,
  Hsms: z.array(HsmMember),
  CreateTimestamp: z.string(),
  /** Set when a custom key store uses this cluster (later issues). */
  CustomKeyStoreId: z.string().nullable(),
});

export const CreateClusterRequest = z
  .object({
    ClusterName,
    ModulePath,
    ModuleEnvironment: ModuleEnvironment.default({}),
    LoginFormat: LoginFormat.default('password'),
    Hsms: z.array(HsmMemberSelector).min(1, 'a cluster has at least one HSM').max(32),
  })
  .superRefine((req, ctx) => {
    const seen = new Set<string>();
    req.Hsms.forEach((m, i) => {
      const chosen = m.TokenSerial !== undefined ? `serial ${m.TokenSerial}` : `label ${m.TokenLabel ?? ''}`;
      const key = m.TokenSerial !== undefined ? `serial ${tokenSerialKey(m.TokenSerial)}` : chosen;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['Hsms', i], message: `token ${chosen} is chosen twice` });
      seen.add(key);
    });
  });

export const ClusterResponse = z.object({ Cluster: ClusterInfo });
export const DescribeClustersRequest = z.object({ ClusterIds: z.array(ClusterId).max(100).optional() });
export const DescribeClustersResponse = z.object({ Clusters: z.array(ClusterInfo) });
export const ClusterIdRequest = z.object({ ClusterId });

export type ClusterInfo = z.infer<typeof ClusterInfo>;
export type HsmMember = z.infer<typeof HsmMember>;
export type CreateClusterRequest = z.input<typeof CreateClusterRequest>;
export type LoginFormat = z.infer<typeof LoginFormat>;
