import { z } from 'zod';
import { ClusterId, ClusterName, LoginFormat } from '../../shared/contract/clusters';
import { ModuleEnvironment, ModulePath } from '../../shared/contract/hsm';
import { printableName } from '../../shared/contract/names';

/*
 * What the state file holds, in its own vocabulary (the PascalCase field names it has had since
 * schema 1). These are not the API's DTOs: a service maps records to `*Info` shapes, so the API can
 * show derived fields (a cluster's key store) and the file can change only through a migration.
 *
 * What a request sets is held to the request's own rules (the contract's schemas, so a rule
 * tightened there applies to the file too): a record no request could have made was edited by hand
 * or damaged, and is refused on load rather than reaching an HSM as a "module crashed". Loose
 * objects: fields this build does not know (written by a later same-version build, or by hand) are
 * kept on the next write instead of silently dropped.
 */

/**
 * What the workbench itself saw of one member's kmsuser (CKU_USER): the ledger `kmsuser status` shows. Only
 * the workbench's own logins count; the token's PIN flags, read live, tell the rest. Absent: nothing seen yet.
 */
export const KmsuserLedgerRecord = z.looseObject({
  /** ISO time of the last kmsuser login the workbench made that the token accepted. */
  LastSuccessfulLogin: z.string().optional(),
  /** ISO time the kmsuser password last changed on this HSM (kmsuser create / change-password / a connect's rotation). */
  LastRotation: z.string().optional(),
  /** Logins the workbench tried that the token refused since the last accepted one (a real HSM locks kmsuser after 5). */
  FailedLoginsCaused: z.number().int().min(0).optional(),
  LastFailedLogin: z.string().optional(),
});

/** A member's part in the cluster's trust mesh, as the workbench made it. Absent: none of it yet. */
export const MemberTrustRecord = z.looseObject({
  /** The member key pair (RSA-3072, unwrap only) is on this member's token, under CKA_ID memberKeyId(HsmId). */
  MemberKey: z.boolean().optional(),
  /** HsmIds of the members whose SO imported this member's public key as a trusted wrapping key. */
  TrustedBy: z.array(z.string()).optional(),
  /** The cluster and trust anchor certificates are on this member's token. */
  Certificates: z.boolean().optional(),
});

export const HsmMemberRecord = z.looseObject({
  HsmId: z.string(),
  TokenSerial: z.string().nullable(),
  TokenLabel: z.string().nullable(),
  Kmsuser: KmsuserLedgerRecord.optional(),
  Trust: MemberTrustRecord.optional(),
});

/** UNINITIALIZED → INITIALIZED (signing key pair made, CSR written) → ACTIVE (certificates installed, trust complete). Absent: UNINITIALIZED. */
export const ClusterStateRecord = z.enum(['UNINITIALIZED', 'INITIALIZED', 'ACTIVE']);

/** The cluster's PKI, PEM text. Absent: not initialized. */
export const ClusterCertificatesRecord = z.looseObject({
  ClusterCsr: z.string().optional(),
  ClusterCertificate: z.string().optional(),
  TrustAnchorCertificate: z.string().optional(),
  /** The trust anchor is the workbench's throwaway demo CA ("demo CA — not for production" wherever it shows). */
  DemoCa: z.boolean().optional(),
});

export const ClusterRecord = z
  .looseObject({
    ClusterId,
    ClusterName,
    ModulePath,
    ModuleEnvironment,
    LoginFormat,
    Hsms: z.array(HsmMemberRecord),
    CreateTimestamp: z.string(),
    State: ClusterStateRecord.optional(),
    Certificates: ClusterCertificatesRecord.optional(),
    /** The member whose token holds the cluster signing key pair (made by InitializeCluster). Absent: not made yet. */
    SigningKeyHsmId: z.string().optional(),
  })
  .superRefine((cluster, ctx) => {
    // Schema 1 stored the key store here, a back-pointer that could disagree with the key store itself.
    // Found in a later file it is an edit in the old vocabulary that this build would silently ignore
    // (and then let a cluster in use be deleted), so it is refused, not kept as an unknown field.
    if ('CustomKeyStoreId' in cluster) {
      ctx.addIssue({
        code: 'custom',
        path: ['CustomKeyStoreId'],
        message: 'a cluster does not name its key store since schema version 2: the key store names its cluster (customKeyStores[].CloudHsmClusterId)',
      });
    }
  });

/**
 * A custom key store, as far as this build knows one: its id and the cluster it uses, the
 * association from which a cluster's `CustomKeyStoreId` is derived. The key-store issue adds the
 * rest of its fields; until then whatever else such a record holds is kept as it is.
 */
export const CustomKeyStoreRecord = z.looseObject({
  CustomKeyStoreId: printableName('CustomKeyStoreId', z.string().min(1, 'CustomKeyStoreId is required').max(64, 'CustomKeyStoreId is at most 64 characters')),
  CloudHsmClusterId: ClusterId,
});

/**
 * A loose object's type without its `[field: string]: unknown`: code then sees only the fields this
 * build knows, and reading one that is gone (schema 1's CustomKeyStoreId) is a compile error rather
 * than an `unknown` that is always undefined. Unknown fields are still kept: they are in the value.
 */
export type Known<T> = { [K in keyof T as string extends K ? never : K]: T[K] };

export type KmsuserLedgerRecord = Known<z.infer<typeof KmsuserLedgerRecord>>;
export type MemberTrustRecord = Known<z.infer<typeof MemberTrustRecord>>;
export type HsmMemberRecord = Omit<Known<z.infer<typeof HsmMemberRecord>>, 'Kmsuser' | 'Trust'> & { Kmsuser?: KmsuserLedgerRecord; Trust?: MemberTrustRecord };
export type ClusterCertificatesRecord = Known<z.infer<typeof ClusterCertificatesRecord>>;
export type ClusterRecord = Omit<Known<z.infer<typeof ClusterRecord>>, 'Hsms' | 'Certificates'> & { Hsms: HsmMemberRecord[]; Certificates?: ClusterCertificatesRecord };
export type CustomKeyStoreRecord = Known<z.infer<typeof CustomKeyStoreRecord>>;

/** The key store that uses a cluster. At most one: the state schema refuses two key stores on one cluster. */
export function keyStoreOfCluster(keyStores: readonly CustomKeyStoreRecord[], clusterId: string): CustomKeyStoreRecord | undefined {
  return keyStores.find((k) => k.CloudHsmClusterId === clusterId);
}
