import type { ClusterHsm, ClusterInfo, HsmMember } from '../../shared/contract/clusters';
import type { ParsedRequestOf } from '../../shared/contract/operations';
import type { SlotInfo } from '../../shared/contract/hsm';
import { WorkbenchError } from '../../shared/errors';
import { newClusterId, newHsmId } from '../core/ids';
import type { HsmHostPool } from '../hsm/hsm-host';
import { keyStoreOfCluster, type ClusterRecord, type CustomKeyStoreRecord } from '../state/records';
import type { StateStore } from '../state/state-store';
import { memberTrust } from './cluster-trust';
import { findMemberSlot, membersInOtherClusters } from './member-tokens';

type ParsedCreateClusterRequest = ParsedRequestOf<'CreateCluster'>;

export interface ClusterService {
  create(request: ParsedCreateClusterRequest): Promise<ClusterInfo>;
  describe(clusterIds?: readonly string[]): Promise<ClusterInfo[]>;
  get(clusterId: string): Promise<ClusterInfo>;
  delete(clusterId: string): Promise<ClusterInfo>;
}

export function clusterNotFound(clusterId: string): WorkbenchError {
  return new WorkbenchError('CloudHsmClusterNotFoundException', `There is no cluster ${clusterId}. List clusters with "hsm-workbench cluster list".`, {
    details: { ClusterId: clusterId },
  });
}

/**
 * The API's view of a cluster record: fields the file holds but this build does not know stay in the
 * file, and the key store is derived from the key store records, which name their cluster.
 */
export function toClusterInfo(record: ClusterRecord, keyStores: readonly CustomKeyStoreRecord[]): ClusterInfo {
  return {
    ClusterId: record.ClusterId,
    ClusterName: record.ClusterName,
    ModulePath: record.ModulePath,
    ModuleEnvironment: { ...record.ModuleEnvironment },
    LoginFormat: record.LoginFormat,
    Hsms: record.Hsms.map((h): ClusterHsm => ({ HsmId: h.HsmId, TokenSerial: h.TokenSerial, TokenLabel: h.TokenLabel, Trust: memberTrust(record, h) })),
    CreateTimestamp: record.CreateTimestamp,
    CustomKeyStoreId: keyStoreOfCluster(keyStores, record.ClusterId)?.CustomKeyStoreId ?? null,
    State: record.State ?? 'UNINITIALIZED',
    Certificates: {
      ClusterCsr: record.Certificates?.ClusterCsr ?? null,
      ClusterCertificate: record.Certificates?.ClusterCertificate ?? null,
      TrustAnchorCertificate: record.Certificates?.TrustAnchorCertificate ?? null,
      DemoCa: record.Certificates?.DemoCa === true,
    },
  };
}

/** Cluster names are unique regardless of case: "Prod" and "prod" would be told apart by no one. */
export function sameName(a: string, b: string): boolean {
  return a.localeCompare(b, undefined, { sensitivity: 'accent' }) === 0;
}

/** Resolves one selector to a new member's token, or names what is wrong: no such token, or two alike. */
export function resolveMember(slots: readonly SlotInfo[], selector: { TokenSerial?: string; TokenLabel?: string }, modulePath: string): HsmMember {
  const slot = findMemberSlot(slots, { TokenSerial: selector.TokenSerial ?? null, TokenLabel: selector.TokenLabel ?? null });
  if (slot === 'ambiguous') {
    throw new WorkbenchError(
      'ValidationException',
      selector.TokenSerial !== undefined
        ? `More than one token has a serial number like "${selector.TokenSerial}", differing only in case. Type the serial exactly as the token reports it.`
        : `More than one token is labelled "${selector.TokenLabel ?? ''}". Choose the HSM by its serial number instead.`,
      { details: { ...selector } },
    );
  }
  if (slot === undefined || slot.Token === null) {
    // An uninitialised token has a blank label and serial: name it by its slot instead of "(serial )".
    const available = slots.flatMap((s) =>
      s.Token === null ? [] : [s.Token.Flags.includes('CKF_TOKEN_INITIALIZED') ? `${s.Token.Label} (serial ${s.Token.SerialNumber})` : `an uninitialised token (slot ${s.SlotId})`],
    );
    const wanted = selector.TokenSerial !== undefined ? `serial ${selector.TokenSerial}` : `label "${selector.TokenLabel ?? ''}"`;
    throw new WorkbenchError('TokenNotFoundException', `No token with ${wanted} is present in ${modulePath}. Tokens present: ${available.join(', ') || 'none'}.`, {
      details: { ...selector, TokensPresent: available },
    });
  }
  return { HsmId: newHsmId(), TokenSerial: slot.Token.SerialNumber, TokenLabel: slot.Token.Label };
}

/** A token belongs to one cluster: two key stores rotating one kmsuser password would lock each other out. */
export function refuseTokensInOtherClusters(clusters: readonly ClusterRecord[], members: readonly HsmMember[]): void {
  const [first] = membersInOtherClusters(null, members, clusters);
  if (first === undefined) return;
  const others = first.others.map((c) => `"${c.ClusterName}" (${c.ClusterId})`).join(', ');
  throw new WorkbenchError(
    'TokenInUseException',
    `Token ${first.member.TokenLabel ?? ''} (serial ${first.member.TokenSerial ?? ''}) is already an HSM of cluster ${others}. A token belongs to one cluster: two key stores rotating one kmsuser password would lock each other out. Choose another token, or delete that cluster first.`,
    { details: { TokenSerial: first.member.TokenSerial, ClusterIds: first.others.map((c) => c.ClusterId) } },
  );
}

export function createClusterService(deps: { state: StateStore; hosts: HsmHostPool }): ClusterService {
  const { state, hosts } = deps;

  /** Resolves each selector to one token now, so a typo is refused at creation rather than at connect time. */
  async function resolveMembers(request: ParsedCreateClusterRequest): Promise<HsmMember[]> {
    const slots: SlotInfo[] = await hosts.get({ ModulePath: request.ModulePath, ModuleEnvironment: request.ModuleEnvironment }).listSlots();
    const chosen = new Set<string>();
    return request.Hsms.map((selector) => {
      const member = resolveMember(slots, selector, request.ModulePath);
      if (member.TokenSerial !== null && chosen.has(member.TokenSerial)) {
        throw new WorkbenchError('ValidationException', `Token ${member.TokenLabel ?? ''} (serial ${member.TokenSerial}) is chosen twice. Each HSM joins a cluster once.`, {
          details: { TokenSerial: member.TokenSerial },
        });
      }
      if (member.TokenSerial !== null) chosen.add(member.TokenSerial);
      return member;
    });
  }

  function refuseDuplicateName(clusters: readonly ClusterRecord[], name: string): void {
    const existing = clusters.find((c) => sameName(c.ClusterName, name));
    if (existing) {
      throw new WorkbenchError('ClusterNameInUseException', `A cluster named "${existing.ClusterName}" already exists (${existing.ClusterId}). Choose another name.`, {
        details: { ClusterId: existing.ClusterId },
      });
    }
  }

  return {
    async create(request) {
      refuseDuplicateName((await state.read()).clusters, request.ClusterName);
      const members = await resolveMembers(request);
      return state.transact((draft) => {
        // Checked again under the lock: another process may have taken the name meanwhile.
        refuseDuplicateName(draft.clusters, request.ClusterName);
        refuseTokensInOtherClusters(draft.clusters, members);
        const cluster: ClusterRecord = {
          ClusterId: newClusterId(),
          ClusterName: request.ClusterName,
          ModulePath: request.ModulePath,
          ModuleEnvironment: request.ModuleEnvironment,
          LoginFormat: request.LoginFormat,
          Hsms: members,
          CreateTimestamp: new Date().toISOString(),
        };
        draft.clusters.push(cluster);
        return toClusterInfo(cluster, draft.customKeyStores);
      });
    },

    async describe(clusterIds) {
      const { clusters, customKeyStores } = await state.read();
      if (!clusterIds || clusterIds.length === 0) return clusters.map((c) => toClusterInfo(c, customKeyStores));
      return clusterIds.map((id) => {
        const cluster = clusters.find((c) => c.ClusterId === id);
        if (!cluster) throw clusterNotFound(id);
        return toClusterInfo(cluster, customKeyStores);
      });
    },

    async get(clusterId) {
      const { clusters, customKeyStores } = await state.read();
      const cluster = clusters.find((c) => c.ClusterId === clusterId);
      if (!cluster) throw clusterNotFound(clusterId);
      return toClusterInfo(cluster, customKeyStores);
    },

    async delete(clusterId) {
      return state.transact((draft) => {
        const index = draft.clusters.findIndex((c) => c.ClusterId === clusterId);
        const cluster = draft.clusters[index];
        if (!cluster) throw clusterNotFound(clusterId);
        const keyStore = keyStoreOfCluster(draft.customKeyStores, clusterId);
        if (keyStore !== undefined) {
          throw new WorkbenchError(
            'CloudHsmClusterInUseException',
            `Cluster ${clusterId} is used by custom key store ${keyStore.CustomKeyStoreId}. Delete that key store first; the cluster was not changed.`,
            { details: { ClusterId: clusterId, CustomKeyStoreId: keyStore.CustomKeyStoreId } },
          );
        }
        draft.clusters.splice(index, 1);
        return toClusterInfo(cluster, draft.customKeyStores);
      });
    },
  };
}
