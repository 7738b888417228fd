import type { ClusterState, HsmTrust } from '../../shared/contract/clusters';
import type { ClusterRecord, HsmMemberRecord } from '../state/records';

/**
 * A member's trust as the records say it: every other member's SO must hold its public key as a trusted
 * wrapping key, and once the cluster has its certificate, its token must hold that and the trust anchor.
 */
export function memberTrust(cluster: Pick<ClusterRecord, 'Hsms' | 'Certificates'>, member: HsmMemberRecord): HsmTrust {
  const trust = member.Trust ?? {};
  const trustedBy = trust.TrustedBy ?? [];
  const missing = cluster.Hsms.filter((h) => h.HsmId !== member.HsmId && !trustedBy.includes(h.HsmId)).map((h) => h.HsmId);
  const memberKey = trust.MemberKey === true;
  const certificates = trust.Certificates === true;
  const certificatesDue = cluster.Certificates?.ClusterCertificate !== undefined;
  const complete = memberKey && missing.length === 0 && (certificates || !certificatesDue);
  return { MemberKey: memberKey, TrustedBy: [...trustedBy], MissingTrustFrom: missing, Certificates: certificates, Status: complete ? 'COMPLETE' : 'INCOMPLETE' };
}

/**
 * The state the records imply: INITIALIZED once the signing key pair and CSR exist, ACTIVE once the
 * certificate is installed and every member's trust is complete. Recomputed on every change, so a member
 * added later without the certificates takes the cluster back to INITIALIZED.
 */
export function clusterState(cluster: Pick<ClusterRecord, 'Hsms' | 'Certificates' | 'SigningKeyHsmId'>): ClusterState {
  if (cluster.SigningKeyHsmId === undefined || cluster.Certificates?.ClusterCsr === undefined) return 'UNINITIALIZED';
  const certified = cluster.Certificates.ClusterCertificate !== undefined;
  return certified && cluster.Hsms.every((h) => memberTrust(cluster, h).Status === 'COMPLETE') ? 'ACTIVE' : 'INITIALIZED';
}
