import { z } from 'zod';
import { ModuleEnvironment, ModulePath } from './hsm';
import { KmsuserPassword, SoPin } from './credentials';
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

/** UNINITIALIZED → INITIALIZED (signing key pair made in the first HSM, CSR written) → ACTIVE (certificates on every member, trust complete). */
export const ClusterState = z.enum(['UNINITIALIZED', 'INITIALIZED', 'ACTIVE']);

/** Shown wherever the demo CA shows (its certificate's subject, the CLI, the GUI): it is a throwaway. */
export const DEMO_CA_LABEL = 'demo CA — not for production';

/**
 * One member's part in the cluster's trust mesh, as the workbench recorded it: its member key pair (RSA-3072,
 * unwrap only), the other members whose SO imported its public key as a trusted wrapping key, and the cluster
 * certificates on its token. `Status` is COMPLETE when all of that is there (certificates once the cluster has them).
 */
export const HsmTrust = z.object({
  MemberKey: z.boolean(),
  /** HsmIds of the members that hold this member's public key as a trusted wrapping key (CKA_TRUSTED, CKA_WRAP). */
  TrustedBy: z.array(z.string()),
  /** HsmIds of the members that should, and do not yet. */
  MissingTrustFrom: z.array(z.string()),
  /** The cluster and trust anchor certificates are stored on this member's token (CKO_CERTIFICATE). */
  Certificates: z.boolean(),
  Status: z.enum(['COMPLETE', 'INCOMPLETE']),
});

export const ClusterHsm = HsmMember.extend({ Trust: HsmTrust });

/** The cluster's PKI (PEM text); null until that step is done. */
export const ClusterCertificatesInfo = z.object({
  ClusterCsr: z.string().nullable(),
  ClusterCertificate: z.string().nullable(),
  TrustAnchorCertificate: z.string().nullable(),
  /** The trust anchor is the workbench's throwaway demo CA: label it DEMO_CA_LABEL wherever it shows. */
  DemoCa: z.boolean(),
});

export const ClusterInfo = z.object({
  ClusterId,
  ClusterName: z.string(),
  ModulePath: z.string(),
  ModuleEnvironment: z.record(z.string(), z.string()),
  LoginFormat,
  Hsms: z.array(ClusterHsm),
  CreateTimestamp: z.string(),
  /** Set when a custom key store uses this cluster (later issues). */
  CustomKeyStoreId: z.string().nullable(),
  State: ClusterState,
  Certificates: ClusterCertificatesInfo,
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

/*
 * Cluster initialization and membership. The SO PIN is asked for when needed and never stored, logged or
 * audited (secretFields); the kmsuser password logs in where SoftHSM allows private objects only to CKU_USER
 * (the cluster signing key, the member key pairs).
 */
/** A PEM certificate (or a file:// value's text), at most 5000 characters as CloudHSM's InitializeCluster takes it. Parsed by the service, which names what is wrong with it. */
export const PemCertificate = z.string().min(1, 'the certificate is empty').max(5000, 'a certificate is at most 5000 characters of PEM');
export const HsmId = z.string().min(1, 'HsmId is required').max(64, 'HsmId is at most 64 characters');

export const InitializeClusterRequest = z.object({
  ClusterId,
  /** Also issue and install the cluster certificate with a throwaway local CA kept under the state directory. */
  DemoCa: z.boolean().default(false),
  SoPin,
  KmsuserPassword,
});
export const InitializeClusterResponse = z.object({
  Cluster: ClusterInfo,
  /** PKCS#10, PEM, signed inside the first HSM by the cluster signing key. */
  ClusterCsr: z.string(),
  /** With DemoCa: where the demo CA's certificate is, for `kms create-custom-key-store --trust-anchor-certificate file://…`. */
  TrustAnchorCertificatePath: z.string().nullable(),
});

export const InstallClusterCertificateRequest = z.object({ ClusterId, ClusterCertificate: PemCertificate, TrustAnchorCertificate: PemCertificate, SoPin });

export const AddHsmRequest = z.object({
  ClusterId,
  Hsm: HsmMemberSelector,
  /** One SO PIN for every member (the newcomer's SO and each existing member's). */
  SoPin,
  /** The newcomer's kmsuser logs in to make its member key pair; where it has no kmsuser yet, this becomes its password. */
  KmsuserPassword,
});
export const AddHsmResponse = z.object({ Cluster: ClusterInfo, Hsm: ClusterHsm });

export const RemoveHsmRequest = z.object({ ClusterId, HsmId, SoPin });
export const RemoveHsmResponse = z.object({
  Cluster: ClusterInfo,
  HsmId,
  /** What stayed behind and why (an absent token, the member's private key the SO cannot see). */
  Notes: z.array(z.string()),
});

export type ClusterInfo = z.infer<typeof ClusterInfo>;
export type ClusterHsm = z.infer<typeof ClusterHsm>;
export type ClusterState = z.infer<typeof ClusterState>;
export type HsmTrust = z.infer<typeof HsmTrust>;
export type HsmMember = z.infer<typeof HsmMember>;
export type CreateClusterRequest = z.input<typeof CreateClusterRequest>;
export type LoginFormat = z.infer<typeof LoginFormat>;
