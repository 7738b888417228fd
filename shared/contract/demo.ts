import { z } from 'zod';
import { ClusterInfo } from './clusters';
import { KmsuserPassword } from './credentials';


export const CreateDemoClusterRequest = z.object({
  /** Secret. When absent, a random one is generated and returned once. */
  KmsuserPassword: KmsuserPassword.optional(),
});

/**
 * A demo is complete once the front end has shown its credentials and said so with
 * ConfirmDemoCredentials; until then the next CreateDemoCluster starts it over, because the
 * credentials are stored nowhere and a demo without them cannot be used.
 */
export const CreateDemoClusterResponse = z.object({
  /** ACTIVE: kmsuser set, certificates from the demo CA on every member, trust complete. */
  Cluster: ClusterInfo,
  /** Where the demo's SoftHSM2 configuration and tokens live (under the state directory). */
  SoftHsmDirectory: z.string(),
  /** The demo CA's certificate (DEMO_CA_LABEL), for `kms create-custom-key-store --trust-anchor-certificate file://…`. */
  TrustAnchorCertificatePath: z.string(),
  /**
   * Secrets of throwaway demo tokens, returned once to whoever asked and never stored.
   * KmsuserPassword is null when the caller chose it.
   */
  DemoCredentials: z.object({ KmsuserPassword: z.string().nullable(), SoPin: z.string() }),
  /**
   * What this call did about a previous demo init that was interrupted (its half-made tokens, and its
   * cluster record if it had one, removed and made again); null when there was none.
   */
  Recovery: z.string().nullable(),
});
