import { z } from 'zod';
import { ClusterInfo } from './clusters';

const KmsuserPassword = z.string().min(7, 'the kmsuser password is 7 to 32 characters').max(32, 'the kmsuser password is 7 to 32 characters');

export const CreateDemoClusterRequest = z.object({
  /** Secret. When absent, a random one is generated and returned once. */
  KmsuserPassword: KmsuserPassword.optional(),
});

export const CreateDemoClusterResponse = z.object({
  Cluster: ClusterInfo,
  /** Where the demo's SoftHSM2 configuration and tokens live (under the state directory). */
  SoftHsmDirectory: z.string(),
  /**
   * Secrets of throwaway demo tokens, returned once to whoever asked and never stored.
   * KmsuserPassword is null when the caller chose it.
   */
  DemoCredentials: z.object({ KmsuserPassword: z.string().nullable(), SoPin: z.string() }),
});
