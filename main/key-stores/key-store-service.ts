import { timingSafeEqual, type X509Certificate } from 'node:crypto';
import type { CustomKeyStoreInfo, KeyStoreConnectionInfo } from '../../shared/contract/key-stores';
import type { ParsedRequestOf } from '../../shared/contract/operations';
import { CONNECTION_ERROR_EXPLANATIONS } from '../../shared/connection-errors';
import { WorkbenchError } from '../../shared/errors';
import { newCustomKeyStoreId } from '../core/ids';
import type { AuditStep } from '../core/dispatcher';
import { keyStoreOfCluster, type ClusterRecord, type CustomKeyStoreRecord } from '../state/records';
import type { StateStore, WorkbenchState } from '../state/state-store';
import type { ConnectionManager } from './connection-manager';
import { effectiveState, findKeyStore, invalidState, keyStoreNotFound, kmsuserPasswordContext, ownerHere, toKeyStoreInfo } from './key-store-records';
import type { SecretVaultSource } from '../secrets/secret-vault';
import { issued, parseCertificate } from './trust-anchor';

export interface KeyStoreService {
  create(request: ParsedRequestOf<'CreateCustomKeyStore'>): Promise<string>;
  describe(request: ParsedRequestOf<'DescribeCustomKeyStores'>): Promise<{ CustomKeyStores: CustomKeyStoreInfo[]; NextMarker?: string; Truncated: boolean }>;
  connect(customKeyStoreId: string, journal: (step: AuditStep) => Promise<void>): Promise<void>;
  disconnect(customKeyStoreId: string): Promise<void>;
  update(request: ParsedRequestOf<'UpdateCustomKeyStore'>): Promise<void>;
  delete(customKeyStoreId: string): Promise<void>;
  describeConnection(customKeyStoreId: string): Promise<KeyStoreConnectionInfo>;
  /** The facts CloudTrail puts in additionalEventData of a key store operation; {} for an unknown id. */
  auditFacts(customKeyStoreId: string): Promise<Record<string, unknown>>;
}

export interface KeyStoreServiceDeps {
  state: StateStore;
  vault: SecretVaultSource;
  connections: ConnectionManager;
}

const DEFAULT_LIMIT = 1000;

function clusterNotFound(clusterId: string): WorkbenchError {
  return new WorkbenchError('CloudHsmClusterNotFoundException', `There is no cluster ${clusterId}. List clusters with "hsm-workbench cluster list".`, { details: { ClusterId: clusterId } });
}

/**
 * What a cluster must be for a key store: present, ACTIVE (certificates installed, trust complete: the
 * trust helper sets it), with HSMs and a cluster certificate. Returns the cluster certificate's PEM.
 */
function activeCluster(state: WorkbenchState, clusterId: string): { cluster: ClusterRecord; clusterCertificate: string } {
  const cluster = state.clusters.find((c) => c.ClusterId === clusterId);
  if (cluster === undefined) throw clusterNotFound(clusterId);
  const clusterState = cluster.State ?? 'UNINITIALIZED';
  if (clusterState !== 'ACTIVE') {
    throw new WorkbenchError(
      'CloudHsmClusterNotActiveException',
      `Cluster ${clusterId} ("${cluster.ClusterName}") is ${clusterState}, not ACTIVE. Initialize it and install its certificate (hsm-workbench cluster initialize ${clusterId}, then cluster install-certificate).`,
      { details: { ClusterId: clusterId, State: clusterState } },
    );
  }
  const clusterCertificate = cluster.Certificates?.ClusterCertificate;
  const reason = cluster.Hsms.length === 0 ? 'it has no HSMs' : clusterCertificate === undefined ? 'it has no cluster certificate' : undefined;
  if (reason !== undefined || clusterCertificate === undefined) {
    throw new WorkbenchError('CloudHsmClusterInvalidConfigurationException', `Cluster ${clusterId} ("${cluster.ClusterName}") cannot hold a key store: ${reason ?? ''}. Run the cluster checks (hsm-workbench cluster check ${clusterId}).`, {
      details: { ClusterId: clusterId },
    });
  }
  return { cluster, clusterCertificate };
}

function refuseClusterInUse(state: WorkbenchState, clusterId: string, except?: string): void {
  const user = keyStoreOfCluster(state.customKeyStores, clusterId);
  if (user !== undefined && user.CustomKeyStoreId !== except) {
    throw new WorkbenchError('CloudHsmClusterInUseException', `Cluster ${clusterId} is already used by custom key store ${user.CustomKeyStoreId} ("${user.CustomKeyStoreName}"). A cluster serves one key store.`, {
      details: { ClusterId: clusterId, CustomKeyStoreId: user.CustomKeyStoreId },
    });
  }
}

function refuseNameInUse(state: WorkbenchState, name: string, except?: string): void {
  // Exactly, as AWS and every other name lookup here (the identical-retry check, describe by name): no case or locale folding.
  const other = state.customKeyStores.find((k) => k.CustomKeyStoreId !== except && k.CustomKeyStoreName === name);
  if (other !== undefined) {
    throw new WorkbenchError('CustomKeyStoreNameInUseException', `A custom key store named "${other.CustomKeyStoreName}" already exists (${other.CustomKeyStoreId}). Choose another name.`, {
      details: { CustomKeyStoreId: other.CustomKeyStoreId },
    });
  }
}

/** The trust anchor parses and issued the cluster certificate; returns the certificate's fingerprint. */
function checkTrustAnchor(anchor: X509Certificate, clusterCertificatePem: string, clusterId: string): string {
  const clusterCertificate = parseCertificate(clusterCertificatePem, `the cluster certificate of ${clusterId}`);
  if (!issued(anchor, clusterCertificate)) {
    throw new WorkbenchError(
      'IncorrectTrustAnchorException',
      `The TrustAnchorCertificate (${anchor.subject.replace(/\n/g, ', ')}) did not issue the cluster certificate of ${clusterId} (issued by ${clusterCertificate.issuer.replace(/\n/g, ', ')}). Give the certificate of the CA that signed the cluster's CSR (customerCA.crt).`,
      { details: { ClusterId: clusterId } },
    );
  }
  return clusterCertificate.fingerprint256;
}

function samePassword(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function createKeyStoreService({ state, vault, connections }: KeyStoreServiceDeps): KeyStoreService {
  const stateOf = (store: CustomKeyStoreRecord): ReturnType<typeof effectiveState> => effectiveState(store, connections.inFlight);

  /** AWS: a retried create identical in name, cluster, trust anchor and password, of a store still DISCONNECTED, returns that store. */
  async function identicalRetry(s: WorkbenchState, request: ParsedRequestOf<'CreateCustomKeyStore'>): Promise<string | undefined> {
    const same = s.customKeyStores.find(
      (k) =>
        k.CustomKeyStoreName === request.CustomKeyStoreName &&
        k.CloudHsmClusterId === request.CloudHsmClusterId &&
        k.TrustAnchorCertificate === request.TrustAnchorCertificate &&
        stateOf(k).state === 'DISCONNECTED' &&
        k.KmsuserPassword !== undefined,
    );
    if (same?.KmsuserPassword === undefined) return undefined;
    const held = await (await vault()).open(same.KmsuserPassword, kmsuserPasswordContext(same.CustomKeyStoreId));
    return samePassword(held, request.KeyStorePassword) ? same.CustomKeyStoreId : undefined;
  }

  return {
    async create(request) {
      const before = await state.read();
      const retried = await identicalRetry(before, request);
      if (retried !== undefined) return retried;
      const check = (s: WorkbenchState): string => {
        refuseNameInUse(s, request.CustomKeyStoreName);
        if (!s.clusters.some((c) => c.ClusterId === request.CloudHsmClusterId)) throw clusterNotFound(request.CloudHsmClusterId);
        refuseClusterInUse(s, request.CloudHsmClusterId);
        const anchor = parseCertificate(request.TrustAnchorCertificate, 'TrustAnchorCertificate');
        const { clusterCertificate } = activeCluster(s, request.CloudHsmClusterId);
        return checkTrustAnchor(anchor, clusterCertificate, request.CloudHsmClusterId);
      };
      check(before);
      const id = newCustomKeyStoreId();
      // Secret: sealed before it reaches the state file; the plaintext goes no further.
      const sealed = await (await vault()).seal(request.KeyStorePassword, kmsuserPasswordContext(id));
      return state.transact((s) => {
        // Checked again under the lock: another process may have taken the name or the cluster meanwhile.
        const fingerprint = check(s);
        s.customKeyStores.push({
          CustomKeyStoreId: id,
          CloudHsmClusterId: request.CloudHsmClusterId,
          CustomKeyStoreName: request.CustomKeyStoreName,
          TrustAnchorCertificate: request.TrustAnchorCertificate,
          ConnectionState: 'DISCONNECTED',
          CreationDate: new Date().toISOString(),
          ClusterCertificateFingerprint: fingerprint,
          KmsuserPassword: sealed,
        });
        return id;
      });
    },

    async describe(request) {
      const { customKeyStores } = await state.read();
      let chosen = customKeyStores;
      if (request.CustomKeyStoreId !== undefined) {
        chosen = customKeyStores.filter((k) => k.CustomKeyStoreId === request.CustomKeyStoreId);
        if (chosen.length === 0) throw keyStoreNotFound(request.CustomKeyStoreId);
      } else if (request.CustomKeyStoreName !== undefined) {
        chosen = customKeyStores.filter((k) => k.CustomKeyStoreName === request.CustomKeyStoreName);
        if (chosen.length === 0) throw keyStoreNotFound(`named "${request.CustomKeyStoreName}"`);
      }
      // The marker is the id of the next store: opaque to the caller, stable while stores are added.
      let start = 0;
      if (request.Marker !== undefined) {
        start = chosen.findIndex((k) => k.CustomKeyStoreId === request.Marker);
        if (start < 0) throw new WorkbenchError('InvalidMarkerException', 'The Marker is not one a previous DescribeCustomKeyStores returned (or that store was deleted meanwhile). Start again without it.');
      }
      const limit = request.Limit ?? DEFAULT_LIMIT;
      const page = chosen.slice(start, start + limit);
      const next = chosen[start + limit];
      return {
        CustomKeyStores: page.map((k) => toKeyStoreInfo(k, connections.inFlight)),
        ...(next === undefined ? {} : { NextMarker: next.CustomKeyStoreId }),
        Truncated: next !== undefined,
      };
    },

    async connect(customKeyStoreId, journal) {
      await state.transact((s) => {
        const store = findKeyStore(s, customKeyStoreId);
        const current = stateOf(store).state;
        if (current === 'CONNECTED' || current === 'CONNECTING') throw invalidState(store, current, 'it is already connected or connecting');
        if (current === 'FAILED' || current === 'DISCONNECTING') throw invalidState(store, current, 'disconnect it first (disconnect-custom-key-store), then connect');
        if (store.KmsuserPassword === undefined || store.TrustAnchorCertificate === undefined) {
          // Only a store carried over from schema 2 lacks these (migration 002).
          throw invalidState(
            store,
            current,
            store.KmsuserPassword === undefined
              ? 'it has no kmsuser password yet: tell it with update-custom-key-store --key-store-password-stdin'
              : 'it has no trust anchor (a store from an older workbench): delete it and create it again with --trust-anchor-certificate',
          );
        }
        activeCluster(s, store.CloudHsmClusterId);
        store.ConnectionState = 'CONNECTING';
        store.Owner = ownerHere();
        delete store.ConnectionErrorCode;
        delete store.MemberFailures;
      });
      // Like AWS: connect answers at once; the state moves on, and describe shows it.
      connections.startConnect(customKeyStoreId, journal);
    },

    async disconnect(customKeyStoreId) {
      await state.transact((s) => {
        const store = findKeyStore(s, customKeyStoreId);
        const current = stateOf(store).state;
        if (current === 'DISCONNECTED' || current === 'DISCONNECTING') throw invalidState(store, current, 'there is nothing to disconnect');
        if (current === 'CONNECTING' && !connections.inFlight.has(customKeyStoreId)) throw invalidState(store, current, 'another workbench process is connecting it: wait until it is CONNECTED or FAILED');
      });
      await connections.release(customKeyStoreId);
      await state.transact((s) => {
        const store = findKeyStore(s, customKeyStoreId);
        store.ConnectionState = 'DISCONNECTED';
        delete store.ConnectionErrorCode;
        delete store.Owner;
        // A rotation journal stays: the next connect finishes it (the HSMs may have the pending password).
      });
    },

    async update(request) {
      // An unknown store is refused before sealing: a refused request must not create the state directory's secret store.
      findKeyStore(await state.read(), request.CustomKeyStoreId);
      const sealed = request.KeyStorePassword === undefined ? undefined : await (await vault()).seal(request.KeyStorePassword, kmsuserPasswordContext(request.CustomKeyStoreId));
      await state.transact((s) => {
        const store = findKeyStore(s, request.CustomKeyStoreId);
        const current = stateOf(store).state;
        const renameOnly = request.KeyStorePassword === undefined && request.CloudHsmClusterId === undefined;
        if (!(current === 'DISCONNECTED' || (renameOnly && current === 'CONNECTED'))) {
          throw invalidState(store, current, renameOnly ? 'a rename needs DISCONNECTED or CONNECTED' : 'a password or cluster change needs DISCONNECTED: disconnect it first');
        }
        if (request.NewCustomKeyStoreName !== undefined) refuseNameInUse(s, request.NewCustomKeyStoreName, store.CustomKeyStoreId);
        if (request.CloudHsmClusterId !== undefined && request.CloudHsmClusterId !== store.CloudHsmClusterId) {
          const { clusterCertificate } = activeCluster(s, request.CloudHsmClusterId);
          refuseClusterInUse(s, request.CloudHsmClusterId, store.CustomKeyStoreId);
          const fingerprint = parseCertificate(clusterCertificate, `the cluster certificate of ${request.CloudHsmClusterId}`).fingerprint256;
          if (fingerprint !== store.ClusterCertificateFingerprint) {
            throw new WorkbenchError(
              'CloudHsmClusterNotRelatedException',
              `Cluster ${request.CloudHsmClusterId} is not related to cluster ${store.CloudHsmClusterId}: its cluster certificate differs. A key store moves only to a cluster with the same cluster certificate (one restored from its backups).`,
              { details: { ClusterId: request.CloudHsmClusterId } },
            );
          }
          store.CloudHsmClusterId = request.CloudHsmClusterId;
        }
        if (request.NewCustomKeyStoreName !== undefined) store.CustomKeyStoreName = request.NewCustomKeyStoreName;
        if (sealed !== undefined) {
          // The admin set this password on the HSMs (kmsuser change-password), or believes they have it.
          store.KmsuserPassword = sealed;
          const journal = store.Rotation;
          // A rotation that moved no member leaves nothing to find. One that may have moved some keeps its pending
          // password as their other candidate (SETTING: either): told a wrong password, the next connect still finds them.
          if (journal === undefined || Object.values(journal.Hsms).every((v) => v === 'CURRENT')) delete store.Rotation;
          else for (const [hsmId, where] of Object.entries(journal.Hsms)) if (where !== 'CURRENT') journal.Hsms[hsmId] = 'SETTING';
        }
      });
    },

    async delete(customKeyStoreId) {
      await state.transact((s) => {
        const store = findKeyStore(s, customKeyStoreId);
        const current = stateOf(store).state;
        if (current !== 'DISCONNECTED') throw invalidState(store, current, 'delete needs DISCONNECTED: disconnect it first');
        const cmks = [...s.keys.values()].filter((k) => k.CustomKeyStoreId === customKeyStoreId).length;
        if (cmks > 0) {
          throw new WorkbenchError('CustomKeyStoreHasCMKsException', `Custom key store ${customKeyStoreId} holds ${cmks} KMS key(s). Schedule their deletion and wait until it is done, then delete the store.`, {
            details: { CustomKeyStoreId: customKeyStoreId, Keys: cmks },
          });
        }
        // The cluster and its HSMs are untouched.
        s.customKeyStores = s.customKeyStores.filter((k) => k.CustomKeyStoreId !== customKeyStoreId);
      });
    },

    async describeConnection(customKeyStoreId) {
      const s = await state.read();
      const store = findKeyStore(s, customKeyStoreId);
      const { state: current, code, interrupted } = stateOf(store);
      const cluster = s.clusters.find((c) => c.ClusterId === store.CloudHsmClusterId);
      const held = connections.held(customKeyStoreId);
      const explained = code === undefined ? undefined : CONNECTION_ERROR_EXPLANATIONS[code];
      return {
        CustomKeyStoreId: customKeyStoreId,
        ConnectionState: current,
        ...(code === undefined || explained === undefined
          ? {}
          : {
              ConnectionErrorCode: code,
              Explanation: interrupted ? `The workbench process that was ${store.ConnectionState === 'CONNECTING' ? 'connecting' : 'disconnecting'} this store (pid ${store.Owner?.Pid ?? '?'}) ended before it finished.` : explained.explanation,
              Remedy: interrupted ? 'Disconnect the store, then connect it: the connect finishes any interrupted password rotation.' : explained.remedy,
            }),
        Hsms: (cluster?.Hsms ?? []).map((m) => {
          const failure = store.MemberFailures?.[m.HsmId];
          return {
            HsmId: m.HsmId,
            TokenSerial: m.TokenSerial,
            TokenLabel: m.TokenLabel,
            SessionHeld: held.has(m.HsmId),
            ...(failure === undefined ? {} : { ConnectionErrorCode: failure.ConnectionErrorCode, Detail: failure.Detail }),
          };
        }),
        ...(store.LastRecovery === undefined ? {} : { LastRecovery: { RecoveredAt: store.LastRecovery.RecoveredAt, Step: store.LastRecovery.Step, Message: store.LastRecovery.Message } }),
      };
    },

    async auditFacts(customKeyStoreId) {
      const store = (await state.read()).customKeyStores.find((k) => k.CustomKeyStoreId === customKeyStoreId);
      return store === undefined ? {} : { customKeyStoreName: store.CustomKeyStoreName, clusterId: store.CloudHsmClusterId };
    },
  };
}
