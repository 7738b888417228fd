import { certificateQuery, memberPublicKeyQuery, type ClusterCertificateRole } from '../cluster-objects';
import { errorEvidence, isUnreachable } from '../check-result';
import { memberToken, stoppedAnswering, type MemberCheck } from './check-definition';

/**
 * Reads the member's token, not the records: its own member public key, every other member's public key held
 * as a trusted wrapping key (CKA_TRUSTED, CKA_WRAP), and once the cluster has them, its two certificates. All are
 * public objects, so no login (and no PIN) is needed. An uninitialized cluster has none of them yet by design.
 */
export const clusterMemberTrust: MemberCheck = {
  id: 'hsm.member-trust',
  title: 'Member trust and cluster certificates are on the HSM',
  scope: 'member',
  async run(ctx) {
    const { slot } = memberToken(ctx);
    const { cluster, member } = ctx;
    if (cluster.State === 'UNINITIALIZED') {
      return { status: 'skipped', evidence: [`The cluster is not initialized, so it has no member trust yet. Next: hsm-workbench cluster initialize ${cluster.ClusterId}.`] };
    }
    let session: string | undefined;
    try {
      session = await ctx.host.openSession(slot.SlotId, {}, ctx.timeout);
      const ref = session;
      const find = (template: Parameters<typeof ctx.host.findObjects>[1]['template']): ReturnType<typeof ctx.host.findObjects> =>
        ctx.host.findObjects(ref, { template, attributes: ['handle', 'trusted', 'wrap'] }, ctx.timeout);
      const problems: string[] = [];
      const ownKeyMissing = (await find(memberPublicKeyQuery(member.HsmId))).length === 0;
      if (ownKeyMissing) problems.push('its own member key pair is missing');
      const untrusted: string[] = [];
      for (const other of cluster.Hsms.filter((h) => h.HsmId !== member.HsmId)) {
        const held = await find(memberPublicKeyQuery(other.HsmId));
        if (!held.some((o) => o.trusted === true && o.wrap === true)) untrusted.push(other.HsmId);
      }
      if (untrusted.length > 0) problems.push(`it does not hold ${untrusted.join(', ')}'s member key as a trusted wrapping key`);
      const missingCertificates: ClusterCertificateRole[] = [];
      if (cluster.Certificates.ClusterCertificate !== null) {
        for (const role of ['cluster certificate', 'trust anchor'] as const) if ((await find(certificateQuery(cluster.ClusterId, role))).length === 0) missingCertificates.push(role);
      }
      if (missingCertificates.length > 0) problems.push(`its ${missingCertificates.join(' and ')} certificate is missing`);
      if (problems.length === 0) {
        const certificates = cluster.Certificates.ClusterCertificate === null ? ' (the cluster has no certificate yet)' : ' and both cluster certificates';
        return { status: 'pass', evidence: [`Holds its member key, the trusted keys of the ${cluster.Hsms.length - 1} other HSM(s)${certificates}.`] };
      }
      const remedies = [
        ...(ownKeyMissing || untrusted.length > 0 ? [`run "hsm-workbench cluster initialize ${cluster.ClusterId} --stdin" again: it finds what exists and makes the missing keys and trust`] : []),
        ...(missingCertificates.length > 0
          ? [`install the certificates again: "hsm-workbench cluster install-certificate ${cluster.ClusterId} --cluster-certificate file://cluster.crt --trust-anchor-certificate file://customerCA.crt --stdin"${cluster.Certificates.DemoCa ? ` (or "hsm-workbench cluster initialize ${cluster.ClusterId} --demo-ca --stdin")` : ''}`]
          : []),
      ];
      return { status: 'fail', evidence: [`HSM ${member.HsmId}: ${problems.join('; ')}.`], remedy: `To complete it, ${remedies.join('; and ')}.` };
    } catch (error) {
      if (isUnreachable(error)) return stoppedAnswering(error);
      return { status: 'fail', evidence: [errorEvidence(error)], remedy: 'The token could not be searched; run the check again, or check the vendor\'s logs.' };
    } finally {
      if (session !== undefined) await ctx.host.closeSession(session, ctx.timeout).catch(() => undefined);
    }
  },
};
