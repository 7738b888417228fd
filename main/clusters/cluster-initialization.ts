import type { ClusterHsm, ClusterInfo } from '../../shared/contract/clusters';
import type { ParsedRequestOf, ResponseOf } from '../../shared/contract/operations';
import { WorkbenchError } from '../../shared/errors';
import type { AuditStep } from '../core/dispatcher';
import { newHsmId } from '../core/ids';
import type { HsmHost, HsmHostPool } from '../hsm/hsm-host';
import { kmsuserPin } from '../kmsuser/kmsuser-pin';
import { noteKmsuserLogin, noteKmsuserRotation } from '../kmsuser/ledger';
import type { ClusterRecord, HsmMemberRecord } from '../state/records';
import type { WorkbenchState } from '../state/state-schema';
import type { StateStore } from '../state/state-store';
import { clusterKeyTemplates, memberKeyTemplates, memberPublicKeyQuery, objectId } from './cluster-objects';
import { buildClusterCsr, certificateDer, certifiesKey, parseCertificate, verifyClusterChain } from './cluster-pki';
import { resolveMember, refuseTokensInOtherClusters, toClusterInfo } from './cluster-service';
import { clusterState } from './cluster-trust';
import { issueWithDemoCa } from './demo-ca';
import { createHsmSigner, type RsaPublicKeyHex } from './hsm-signer';
import { asMember, inPublicSession, locateMembers, loginRefused, type MemberSlot } from './member-session';
import { describeMember } from './member-tokens';
import { destroyAll, ensureKeyPair, findKeyPair, findRsaPublicKey, storeCertificates, trustMemberKey } from './membership';
import { StepJournal } from './step-journal';

type Journal = (step: AuditStep) => Promise<void>;

export interface ClusterTrustService {
  initialize(request: ParsedRequestOf<'InitializeCluster'>, journal: Journal): Promise<ResponseOf<'InitializeCluster'>>;
  installCertificate(request: ParsedRequestOf<'InstallClusterCertificate'>, journal: Journal): Promise<ClusterInfo>;
  addHsm(request: ParsedRequestOf<'AddHsm'>, journal: Journal): Promise<ResponseOf<'AddHsm'>>;
  removeHsm(request: ParsedRequestOf<'RemoveHsm'>, journal: Journal): Promise<ResponseOf<'RemoveHsm'>>;
}

function notFound(clusterId: string): WorkbenchError {
  return new WorkbenchError('CloudHsmClusterNotFoundException', `There is no cluster ${clusterId}. List clusters with "hsm-workbench cluster list".`, { details: { ClusterId: clusterId } });
}

function invalidRequest(message: string, clusterId: string): WorkbenchError {
  return new WorkbenchError('CloudHsmInvalidRequestException', `${message} Nothing was changed.`, { details: { ClusterId: clusterId } });
}

/**
 * Cluster initialization (signing key pair, CSR signed inside the first HSM, certificates on every member)
 * and membership trust (a member key pair per HSM; every other member's SO holds its public key as a trusted
 * wrapping key). Each step is journalled first and is safe to run again, and the records follow each step,
 * so after a kill or a failure part-way the cluster shows what is done and the same command finishes it.
 * Secrets: the SO PIN and kmsuser password go to C_Login / C_InitPIN only; nothing here keeps them.
 */
export function createClusterTrustService(deps: { state: StateStore; hosts: HsmHostPool; stateDir: string }): ClusterTrustService {
  const { state, hosts, stateDir } = deps;

  async function record(clusterId: string): Promise<ClusterRecord> {
    const cluster = (await state.read()).clusters.find((c) => c.ClusterId === clusterId);
    if (!cluster) throw notFound(clusterId);
    return cluster;
  }

  /** Changes the cluster's record under the state lock, then settles its State from what the records now say. */
  function update(clusterId: string, mutate: (cluster: ClusterRecord, draft: WorkbenchState) => void): Promise<ClusterInfo> {
    return state.transact((draft) => {
      const cluster = draft.clusters.find((c) => c.ClusterId === clusterId);
      if (!cluster) throw notFound(clusterId);
      mutate(cluster, draft);
      cluster.State = clusterState(cluster);
      return toClusterInfo(cluster, draft.customKeyStores);
    });
  }

  function onMember(clusterId: string, hsmId: string, mutate: (member: HsmMemberRecord, cluster: ClusterRecord) => void): Promise<ClusterInfo> {
    return update(clusterId, (cluster) => {
      const member = cluster.Hsms.find((h) => h.HsmId === hsmId);
      if (member) mutate(member, cluster);
    });
  }

  function hostOf(cluster: ClusterRecord): HsmHost {
    return hosts.get({ ModulePath: cluster.ModulePath, ModuleEnvironment: cluster.ModuleEnvironment });
  }

  /** A kmsuser session on the member; each login the token accepts or refuses goes into the kmsuser ledger. */
  async function asKmsuser<T>(host: HsmHost, cluster: ClusterRecord, slot: MemberSlot, password: string, work: (ref: string) => Promise<T>): Promise<T> {
    return asMember(host, slot, 'USER', kmsuserPin(cluster.LoginFormat, password), work, (accepted) => onMember(cluster.ClusterId, slot.member.HsmId, (m) => noteKmsuserLogin(m, accepted)).then(() => undefined));
  }

  /** A member with no kmsuser yet gets the given password (C_InitPIN as SO), as `kmsuser create` would give it. */
  async function ensureKmsuser(steps: StepJournal, host: HsmHost, cluster: ClusterRecord, slot: MemberSlot, soPin: string, password: string): Promise<void> {
    if (slot.flags.has('CKF_USER_PIN_INITIALIZED')) return;
    const hsmId = slot.member.HsmId;
    await steps.run({ name: 'CreateKmsuser', hsmId, details: { TokenSerial: slot.member.TokenSerial } }, `kmsuser created on ${hsmId}`, async () => {
      await host.initUserPin(slot.slotId, soPin, kmsuserPin(cluster.LoginFormat, password)).catch((error: unknown) => {
        throw loginRefused(error, slot, 'SO');
      });
      await onMember(cluster.ClusterId, hsmId, (m) => noteKmsuserRotation(m));
    });
  }

  /** Makes (or finds) the member's key pair in a kmsuser session; the first member also makes the cluster key pair and signs the CSR. */
  async function makeMemberKeys(steps: StepJournal, host: HsmHost, cluster: ClusterRecord, slot: MemberSlot, password: string, signsCsr: boolean): Promise<RsaPublicKeyHex> {
    const hsmId = slot.member.HsmId;
    const step = signsCsr ? 'MakeClusterSigningKeyAndMemberKey' : 'MakeMemberKey';
    const made = await steps.run({ name: step, hsmId, details: { TokenSerial: slot.member.TokenSerial } }, `${signsCsr ? 'cluster signing key, CSR and ' : ''}member key pair on ${hsmId}`, () =>
      asKmsuser(host, cluster, slot, password, async (ref) => {
        let csr: string | undefined;
        if (signsCsr) {
          const clusterKey = await ensureKeyPair(host, ref, clusterKeyTemplates(cluster.ClusterId), slot.member);
          csr = await buildClusterCsr(await createHsmSigner(host, ref, clusterKey.privateKey, clusterKey.publicKey), cluster.ClusterId);
        }
        const memberKey = await ensureKeyPair(host, ref, memberKeyTemplates(hsmId), slot.member);
        return { csr, memberKey: memberKey.publicKey };
      }),
    );
    await onMember(cluster.ClusterId, hsmId, (m, c) => {
      m.Trust = { ...m.Trust, MemberKey: true };
      if (made.csr !== undefined) {
        c.SigningKeyHsmId = hsmId;
        c.Certificates = { ...c.Certificates, ClusterCsr: made.csr };
      }
    });
    return made.memberKey;
  }

  /** As `truster`'s SO, imports each of `trusted`'s public keys as a trusted wrapping key, and records it. */
  async function trustOn(steps: StepJournal, host: HsmHost, clusterId: string, truster: MemberSlot, trusted: ReadonlyMap<string, RsaPublicKeyHex>, soPin: string): Promise<void> {
    const hsmIds = [...trusted.keys()].filter((id) => id !== truster.member.HsmId);
    if (hsmIds.length === 0) return;
    const by = truster.member.HsmId;
    await steps.run({ name: 'ImportTrustedMemberKeys', hsmId: by, details: { TrustedHsmIds: hsmIds } }, `${by} trusts ${hsmIds.join(', ')}`, async () => {
      await asMember(host, truster, 'SO', soPin, async (ref) => {
        for (const id of hsmIds) await trustMemberKey(host, ref, id, trusted.get(id) as RsaPublicKeyHex);
      });
      await update(clusterId, (cluster) => {
        for (const member of cluster.Hsms.filter((h) => hsmIds.includes(h.HsmId))) {
          member.Trust = { ...member.Trust, TrustedBy: [...new Set([...(member.Trust?.TrustedBy ?? []), by])] };
        }
      });
    });
  }

  /**
   * The member public keys of members already made, each read in a kmsuser session on its own token and proven the
   * private half's (findKeyPair): a public object with the member's CKA_ID is no proof, anyone may create one.
   */
  async function memberPublicKeys(host: HsmHost, cluster: ClusterRecord, slots: readonly MemberSlot[], password: string): Promise<Map<string, RsaPublicKeyHex>> {
    const keys = new Map<string, RsaPublicKeyHex>();
    for (const slot of slots) {
      const pair = await asKmsuser(host, cluster, slot, password, (ref) => findKeyPair(host, ref, memberKeyTemplates(slot.member.HsmId), slot.member));
      if (pair === undefined) {
        throw new WorkbenchError('CloudHsmInvalidRequestException', `HSM ${slot.member.HsmId} (token ${describeMember(slot.member)}) has no member key pair. Run "hsm-workbench cluster initialize ${cluster.ClusterId}" again to make it; nothing was changed.`, {
          details: { HsmId: slot.member.HsmId },
        });
      }
      keys.set(slot.member.HsmId, pair.publicKey);
    }
    return keys;
  }

  async function copyCertificates(steps: StepJournal, host: HsmHost, clusterId: string, slot: MemberSlot, pems: { ClusterCertificate: string; TrustAnchorCertificate: string }, soPin: string): Promise<void> {
    const hsmId = slot.member.HsmId;
    const certificates = {
      'cluster certificate': certificateDer(parseCertificate(pems.ClusterCertificate, 'ClusterCertificate')),
      'trust anchor': certificateDer(parseCertificate(pems.TrustAnchorCertificate, 'TrustAnchorCertificate')),
    };
    await steps.run({ name: 'StoreCertificates', hsmId }, `certificates stored on ${hsmId}`, async () => {
      await asMember(host, slot, 'SO', soPin, (ref) => storeCertificates(host, ref, clusterId, certificates));
      await onMember(clusterId, hsmId, (m) => {
        m.Trust = { ...m.Trust, Certificates: true };
      });
    });
  }

  async function install(steps: StepJournal, clusterId: string, pems: { ClusterCertificate: string; TrustAnchorCertificate: string }, soPin: string, demoCa: boolean): Promise<ClusterInfo> {
    const cluster = await record(clusterId);
    if (cluster.SigningKeyHsmId === undefined || cluster.Certificates?.ClusterCsr === undefined) {
      throw invalidRequest(`Cluster ${clusterId} is not initialized: it has no signing key pair or CSR yet. Run "hsm-workbench cluster initialize ${clusterId}" first.`, clusterId);
    }
    const certificate = parseCertificate(pems.ClusterCertificate, 'ClusterCertificate');
    const anchor = parseCertificate(pems.TrustAnchorCertificate, 'TrustAnchorCertificate');
    await verifyClusterChain(certificate, anchor);
    const host = hostOf(cluster);
    const slots = await locateMembers(host, cluster.Hsms);
    const signer = slots.find((s) => s.member.HsmId === cluster.SigningKeyHsmId);
    const clusterKey = signer && (await inPublicSession(host, signer, (ref) => findRsaPublicKey(host, ref, { class: 'CKO_PUBLIC_KEY', id: objectId(clusterId), token: true })));
    if (!clusterKey) {
      throw invalidRequest(`The cluster signing key's public half is not on HSM ${cluster.SigningKeyHsmId ?? ''} any more. Run "hsm-workbench cluster initialize ${clusterId}" again to make a new key pair and CSR.`, clusterId);
    }
    if (!(await certifiesKey(certificate, clusterKey))) {
      throw new WorkbenchError('ValidationException', `The cluster certificate ("${certificate.subject}") certifies another key, not cluster ${clusterId}'s signing key on HSM ${cluster.SigningKeyHsmId ?? ''}. Nothing was changed. Have the CA sign the cluster's CSR (hsm-workbench cluster describe ${clusterId} --output json shows it).`, {
        details: { ClusterId: clusterId },
      });
    }
    const changed = cluster.Certificates.ClusterCertificate !== pems.ClusterCertificate || cluster.Certificates.TrustAnchorCertificate !== pems.TrustAnchorCertificate;
    // Recorded first, with every member marked as lacking them: a failure part-way then shows which members still do.
    await update(clusterId, (c) => {
      c.Certificates = { ...c.Certificates, ClusterCertificate: pems.ClusterCertificate, TrustAnchorCertificate: pems.TrustAnchorCertificate, DemoCa: demoCa };
      if (changed) for (const m of c.Hsms) m.Trust = { ...m.Trust, Certificates: false };
    });
    for (const slot of slots) await copyCertificates(steps, host, clusterId, slot, pems, soPin);
    return toClusterInfo(await record(clusterId), (await state.read()).customKeyStores);
  }

  return {
    async initialize(request, journal) {
      const cluster = await record(request.ClusterId);
      // Run again it finishes or repairs what is missing (keys, trust and CSR are found and reused). The demo CA never
      // replaces a certificate a real CA issued.
      if (request.DemoCa && cluster.Certificates?.ClusterCertificate !== undefined && cluster.Certificates.DemoCa !== true) {
        throw invalidRequest(`Cluster ${cluster.ClusterId} has a certificate from a real CA installed; the demo CA does not replace it. Run initialize without --demo-ca to repair trust.`, cluster.ClusterId);
      }
      const host = hostOf(cluster);
      const slots = await locateMembers(host, cluster.Hsms);
      const steps = new StepJournal(journal);
      try {
        const keys = new Map<string, RsaPublicKeyHex>();
        for (const [index, slot] of slots.entries()) {
          await ensureKmsuser(steps, host, cluster, slot, request.SoPin, request.KmsuserPassword);
          keys.set(slot.member.HsmId, await makeMemberKeys(steps, host, cluster, slot, request.KmsuserPassword, index === 0));
        }
        for (const slot of slots) await trustOn(steps, host, cluster.ClusterId, slot, keys, request.SoPin);
        const csr = (await record(cluster.ClusterId)).Certificates?.ClusterCsr ?? '';
        if (!request.DemoCa) return { Cluster: toClusterInfo(await record(cluster.ClusterId), (await state.read()).customKeyStores), ClusterCsr: csr, TrustAnchorCertificatePath: null };
        const issued = await steps.run({ name: 'IssueWithDemoCa' }, 'cluster certificate issued by the demo CA', () => issueWithDemoCa(stateDir, cluster.ClusterId, csr));
        const installed = await install(steps, cluster.ClusterId, issued, request.SoPin, true);
        return { Cluster: installed, ClusterCsr: csr, TrustAnchorCertificatePath: issued.TrustAnchorCertificatePath };
      } catch (error) {
        throw steps.failure(error);
      }
    },

    async installCertificate(request, journal) {
      const steps = new StepJournal(journal);
      try {
        return await install(steps, request.ClusterId, request, request.SoPin, false);
      } catch (error) {
        throw steps.failure(error);
      }
    },

    async addHsm(request, journal) {
      const cluster = await record(request.ClusterId);
      if ((cluster.State ?? 'UNINITIALIZED') === 'UNINITIALIZED') {
        throw invalidRequest(`Cluster ${cluster.ClusterId} is not initialized. Its initialization sets up trust for all its HSMs: initialize it first (hsm-workbench cluster initialize ${cluster.ClusterId}), then add HSMs.`, cluster.ClusterId);
      }
      const host = hostOf(cluster);
      const resolved = resolveMember(await host.listSlots(), request.Hsm, cluster.ModulePath);
      // This cluster counts too: a token is a member once.
      refuseTokensInOtherClusters((await state.read()).clusters, [resolved]);
      const existing = await locateMembers(host, cluster.Hsms);
      const steps = new StepJournal(journal);
      const newcomer: HsmMemberRecord = { HsmId: newHsmId(), TokenSerial: resolved.TokenSerial, TokenLabel: resolved.TokenLabel };
      try {
        // Recorded first: a failure or kill part-way leaves a member whose trust shows incomplete, not a stray token.
        await steps.run({ name: 'AddMember', hsmId: newcomer.HsmId, details: { TokenSerial: newcomer.TokenSerial } }, `${newcomer.HsmId} recorded as a member`, () =>
          update(cluster.ClusterId, (c, draft) => {
            refuseTokensInOtherClusters(draft.clusters, [newcomer]);
            c.Hsms.push(newcomer);
          }),
        );
        const [slot] = await locateMembers(host, [newcomer]);
        if (slot === undefined) throw new Error('the new member has no slot');
        await ensureKmsuser(steps, host, cluster, slot, request.SoPin, request.KmsuserPassword);
        const keys = await memberPublicKeys(host, cluster, existing, request.KmsuserPassword);
        keys.set(newcomer.HsmId, await makeMemberKeys(steps, host, cluster, slot, request.KmsuserPassword, false));
        await trustOn(steps, host, cluster.ClusterId, slot, keys, request.SoPin);
        const newcomerOnly = new Map([[newcomer.HsmId, keys.get(newcomer.HsmId) as RsaPublicKeyHex]]);
        for (const other of existing) await trustOn(steps, host, cluster.ClusterId, other, newcomerOnly, request.SoPin);
        const { ClusterCertificate, TrustAnchorCertificate } = (await record(cluster.ClusterId)).Certificates ?? {};
        if (ClusterCertificate !== undefined && TrustAnchorCertificate !== undefined) {
          await copyCertificates(steps, host, cluster.ClusterId, slot, { ClusterCertificate, TrustAnchorCertificate }, request.SoPin);
        }
      } catch (error) {
        throw steps.failure(error);
      }
      const info = toClusterInfo(await record(cluster.ClusterId), (await state.read()).customKeyStores);
      return { Cluster: info, Hsm: info.Hsms.find((h) => h.HsmId === newcomer.HsmId) as ClusterHsm };
    },

    async removeHsm(request, journal) {
      const cluster = await record(request.ClusterId);
      const leaving = cluster.Hsms.find((h) => h.HsmId === request.HsmId);
      if (!leaving) {
        throw new WorkbenchError('CloudHsmResourceNotFoundException', `Cluster ${cluster.ClusterId} has no HSM ${request.HsmId}. Its HSMs: ${cluster.Hsms.map((h) => h.HsmId).join(', ')}.`, {
          details: { ClusterId: cluster.ClusterId, HsmId: request.HsmId },
        });
      }
      if (cluster.Hsms.length === 1) throw invalidRequest(`HSM ${leaving.HsmId} is the only HSM of cluster ${cluster.ClusterId}. Delete the cluster instead.`, cluster.ClusterId);
      if (cluster.SigningKeyHsmId === leaving.HsmId) {
        throw invalidRequest(`HSM ${leaving.HsmId} holds the cluster signing key of ${cluster.ClusterId}, which a new certificate is checked against. Remove the other HSMs, or delete the cluster.`, cluster.ClusterId);
      }
      const host = hostOf(cluster);
      const others = await locateMembers(host, cluster.Hsms.filter((h) => h.HsmId !== leaving.HsmId));
      const steps = new StepJournal(journal);
      const notes: string[] = [];
      try {
        for (const other of others) {
          await steps.run({ name: 'RemoveTrustedMemberKey', hsmId: other.member.HsmId, details: { UntrustedHsmId: leaving.HsmId } }, `${other.member.HsmId} no longer trusts ${leaving.HsmId}`, async () => {
            await asMember(host, other, 'SO', request.SoPin, (ref) => destroyAll(host, ref, memberPublicKeyQuery(leaving.HsmId)));
            await update(cluster.ClusterId, (c) => {
              const m = c.Hsms.find((h) => h.HsmId === leaving.HsmId);
              if (m) m.Trust = { ...m.Trust, TrustedBy: (m.Trust?.TrustedBy ?? []).filter((id) => id !== other.member.HsmId) };
            });
          });
        }
        // Its own objects, if its token is still there: the trusted keys of the others, its public member key and
        // the certificates. The private half is a kmsuser object the SO cannot see; it is said so, not hidden.
        const [gone] = await locateMembers(host, [leaving]).catch(() => [undefined]);
        if (gone === undefined) {
          notes.push(`The token of ${leaving.HsmId} (${describeMember(leaving)}) is not present: its member key pair and the copies of the others' keys stay on it.`);
        } else {
          await steps.run({ name: 'ClearLeavingMember', hsmId: leaving.HsmId }, `cluster objects removed from ${leaving.HsmId}`, () =>
            asMember(host, gone, 'SO', request.SoPin, async (ref) => {
              for (const other of others) await destroyAll(host, ref, memberPublicKeyQuery(other.member.HsmId));
              await destroyAll(host, ref, memberPublicKeyQuery(leaving.HsmId));
              await destroyAll(host, ref, { class: 'CKO_CERTIFICATE', id: objectId(cluster.ClusterId), token: true });
            }),
          );
          notes.push(`The private half of ${leaving.HsmId}'s member key pair (label "${memberKeyTemplates(leaving.HsmId).privateKey.label ?? ''}") is a kmsuser object the SO cannot destroy; it can no longer receive key material, as no member trusts its public key. Remove it as kmsuser if the token is reused.`);
        }
        const info = await steps.run({ name: 'RemoveMember', hsmId: leaving.HsmId }, `${leaving.HsmId} removed from the records`, () =>
          update(cluster.ClusterId, (c) => {
            c.Hsms = c.Hsms.filter((h) => h.HsmId !== leaving.HsmId);
            for (const m of c.Hsms) if (m.Trust?.TrustedBy) m.Trust = { ...m.Trust, TrustedBy: m.Trust.TrustedBy.filter((id) => id !== leaving.HsmId) };
          }),
        );
        return { Cluster: info, HsmId: leaving.HsmId, Notes: notes };
      } catch (error) {
        throw steps.failure(error);
      }
    },
  };
}
