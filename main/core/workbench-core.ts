import { fileURLToPath } from 'node:url';
import type { ErrorInfo, Result } from '../../shared/errors';
import { expectationFromState, openAuditLog } from '../audit/audit-log';
import { runClusterChecks } from '../clusters/cluster-checks';
import { createClusterTrustService } from '../clusters/cluster-initialization';
import { createClusterService } from '../clusters/cluster-service';
import { confirmDemoCredentialsShown, createDemoCluster } from '../demo/demo-cluster';
import { DEFAULT_HSM_TIMEOUT_MS } from '../hsm/hsm-host';
import { createHsmHostPool } from '../hsm/hsm-host-client';
import { createKmsuserService, type KmsuserLogin } from '../kmsuser/kmsuser-service';
import { cryptoHandlers } from '../crypto/crypto-handlers';
import { createConnectionManager } from '../key-stores/connection-manager';
import { createKeyStoreService } from '../key-stores/key-store-service';
import { aliasTagHandlers } from '../keys/alias-tag-handlers';
import { LOCAL_PARTITION, type KmsPartition } from '../keys/arn';
import { reconcileKeyStore } from '../keys/creation-reconciler';
import { keyCreationHandlers } from '../keys/key-creation-handlers';
import { createDeletionExecutor } from '../keys/deletion-executor';
import { keyLifecycleHandlers } from '../keys/key-lifecycle-handlers';
import type { KeysDeps } from '../keys/keys-deps';
import { existingVaultProtection, secretVaultSource, type SecretVaultOptions, type SecretVaultSource } from '../secrets/secret-vault';
import { openStateStore, type StateStoreOptions } from '../state/state-store';
import { createDispatcher, type CallContext, type OperationHandlers } from './dispatcher';
import { createEventHub, type WorkbenchEventListener } from './event-hub';
import { createLogger, workbenchLogPath, type Logger } from './logger';
import { suggestedModules } from './known-modules';
import { WORKBENCH_VERSION } from './version';

export type { CallContext } from './dispatcher';

export interface WorkbenchCore {
  readonly stateDir: string;
  /** Validates, runs and audits one operation. Never throws for operation errors: they come back as Result data. */
  dispatch(operation: string, request: unknown, context: CallContext): Promise<Result<unknown>>;
  /** Audits a call a front door refused before dispatching it (untrusted sender, malformed envelope). */
  recordRefusal(operation: string, error: ErrorInfo): Promise<void>;
  /** Events the core emits after it changed state (shared/contract/events.ts); returns the unsubscribe function. */
  onEvent(listener: WorkbenchEventListener): () => void;
  /** The secret store of the state directory (kmsuser passwords), opened on first use. */
  readonly secrets: SecretVaultSource;
  dispose(): Promise<void>;
}

export interface WorkbenchCoreOptions {
  stateDir: string;
  program: 'gui' | 'cli' | 'test';
  /** The bundled HSM host child; defaults to the file beside this bundle (dist/main). */
  hostChildEntry?: string;
  /** Per-PKCS#11-call limit before a silent HSM counts as unreachable. */
  hsmTimeoutMs?: number;
  /** How long a writer waits for another process's state lock. */
  lockWaitMs?: number;
  /**
   * Say StateChanged also when another process changes the state file (a CLI run beside the GUI), so an
   * open window follows. For the long-lived GUI; a CLI run ends before it could matter.
   */
  watchState?: boolean;
  /** Told once when a writer has waited a while for another process's state lock. */
  onStateLockWait?: StateStoreOptions['onLockWait'];
  /** Who may hold a new secret store's key, best first (main/secrets/); default: the OS keyring, then a key file. */
  secretProtectors?: SecretVaultOptions['protectors'];
  /** Told once when the secret store in force is not protected (the key-file fallback): the CLI says so on stderr. */
  onSecretsUnprotected?: SecretVaultOptions['onUnprotected'];
  logger?: Logger;
  /**
   * GUI only: how often (ms) held kmsuser sessions are probed, so a store whose HSM stops answering turns
   * FAILED/NETWORK_ERRORS without any user action. Also makes the core log in for CONNECTED stores at start.
   */
  healthProbeMs?: number;
  /** The time now; tests inject a clock to run scheduled deletions when they choose. */
  clock?: () => Date;
  /** With healthProbeMs (the GUI): how often (ms) due key deletions run, after a first run at start-up (default 60 s). */
  deletionCheckMs?: number;
  /** Region and account of the local ARNs (default LOCAL_PARTITION). */
  partition?: KmsPartition;
}

const DEFAULT_DELETION_CHECK_MS = 60_000;

const NO_VAULT_YET =
  'No kmsuser password is stored yet: the first key store decides where the secret store keeps its key (the OS keyring when one answers, else a file readable only by you).';

/**
 * The composition root: wires the state file, audit log and HSM hosts to the operation handlers.
 * Imports nothing from Electron, so the CLI, the Electron shell and the tests share it unchanged.
 */
export async function createWorkbenchCore(options: WorkbenchCoreOptions): Promise<WorkbenchCore> {
  const logger = options.logger ?? createLogger({ file: workbenchLogPath(options.stateDir) });
  // Each holds the other to account: the state anchors the log's last record, the log is checked against that anchor.
  const state = await openStateStore({
    stateDir: options.stateDir,
    program: options.program,
    lockWaitMs: options.lockWaitMs,
    onLockWait: options.onStateLockWait,
    auditAnchor: () => audit.anchor(),
  });
  const audit = await openAuditLog({
    stateDir: options.stateDir,
    userAgent: `hsm-workbench-${options.program}/${WORKBENCH_VERSION}`,
    region: (options.partition ?? LOCAL_PARTITION).region,
    expectation: expectationFromState(state),
  });
  const hosts = createHsmHostPool({
    childEntry: options.hostChildEntry ?? fileURLToPath(new URL('./hsm-host-child.js', import.meta.url)),
    defaultTimeoutMs: options.hsmTimeoutMs ?? DEFAULT_HSM_TIMEOUT_MS,
  });
  const secrets = secretVaultSource({ stateDir: options.stateDir, protectors: options.secretProtectors, onUnprotected: options.onSecretsUnprotected });
  const clusters = createClusterService({ state, hosts });
  const trust = createClusterTrustService({ state, hosts, stateDir: options.stateDir });
  const kmsuser = createKmsuserService({ state, hosts });
  const demoDeps = { stateDir: options.stateDir, program: options.program, state, hosts, clusters, trust, kmsuser };
  const events = createEventHub(logger);
  // Said once the state file holds the change, so a window that reloads on it reads the new records.
  const clustersChanged = (clusterId: string): void => events.emit('StateChanged', { Resource: 'clusters', Ids: [clusterId] });
  // Another process's change could be to any record: no Ids.
  const stopWatching = options.watchState ? state.onExternalChange(() => events.emit('StateChanged', { Resource: 'clusters' })) : undefined;

  const keyStoresChanged = (id: string): void => events.emit('StateChanged', { Resource: 'customKeyStores', Ids: [id] });
  const connections = createConnectionManager({
    state,
    hosts,
    vault: secrets,
    logger,
    timeoutMs: options.hsmTimeoutMs ?? DEFAULT_HSM_TIMEOUT_MS,
    healthProbeMs: options.healthProbeMs,
    changed: (_resource, id) => keyStoresChanged(id),
    recordServiceEvent: (event) => dispatcher.recordServiceEvent(event),
    // Creations a kill -9 interrupted are finished or rolled back as soon as their HSMs can be reached.
    afterConnected: (storeId) => reconcileKeyStore(keysDeps, storeId),
  });
  const keyStores = createKeyStoreService({ state, vault: secrets, connections });
  /** CloudTrail's additionalEventData of a key store call: its name and cluster, never the password or certificate. */
  const annotated = async (id: string, context: { annotate(data: Record<string, unknown>): void }): Promise<void> => context.annotate(await keyStores.auditFacts(id));

  const keysDeps: KeysDeps = {
    state,
    hosts,
    connections,
    partition: options.partition ?? LOCAL_PARTITION,
    clock: options.clock ?? ((): Date => new Date()),
    timeoutMs: options.hsmTimeoutMs ?? DEFAULT_HSM_TIMEOUT_MS,
    logger,
    changed: (resource, ids) => events.emit('StateChanged', { Resource: resource, Ids: [...ids] }),
    recordServiceEvent: (event) => dispatcher.recordServiceEvent(event),
  };
  const deletions = createDeletionExecutor(keysDeps);

  const handlers: OperationHandlers = {
    DescribeWorkbench: async () => ({ Version: WORKBENCH_VERSION, StateDirectory: options.stateDir, SuggestedModules: suggestedModules() }),
    DescribeSecretStore: async () => {
      // Read only: before the first password is stored there is no vault, and asking would make one.
      const protection = await existingVaultProtection({ stateDir: options.stateDir, protectors: options.secretProtectors });
      if (protection === null) return { Protector: null, Protected: null, Description: NO_VAULT_YET };
      return { Protector: protection.kind, Protected: protection.protected, Description: protection.description };
    },
    CancelOperation: async (request) => ({ Cancelled: dispatcher.cancel(request.CallId) }),
    ListSlots: async (request) => {
      const host = hosts.get(request);
      const [Module, Slots] = await Promise.all([host.getModuleInfo(), host.listSlots()]);
      // No slots at all: nothing behind the module (p11-kit's client whose server was down at C_Initialize), and a
      // module never finds slots it did not see there. The next call starts afresh, as the cluster checks do.
      if (Slots.length === 0) host.retire();
      return { Module, Slots };
    },
    CreateCluster: async (request) => {
      const cluster = await clusters.create(request);
      clustersChanged(cluster.ClusterId);
      return { Cluster: cluster };
    },
    DescribeClusters: async (request) => ({ Clusters: await clusters.describe(request.ClusterIds) }),
    DeleteCluster: async (request) => {
      const cluster = await clusters.delete(request.ClusterId);
      clustersChanged(cluster.ClusterId);
      return { Cluster: cluster };
    },
    CreateDemoCluster: async (request, context) => {
      const demo = await createDemoCluster(demoDeps, request.KmsuserPassword, context);
      clustersChanged(demo.cluster.ClusterId);
      return {
        Cluster: demo.cluster,
        SoftHsmDirectory: demo.dir,
        TrustAnchorCertificatePath: demo.trustAnchorCertificatePath,
        // Secrets of throwaway tokens, returned once; the audit record redacts them (secretFields).
        DemoCredentials: { KmsuserPassword: request.KmsuserPassword === undefined ? demo.kmsuserPassword : null, SoPin: demo.soPin },
        Recovery: demo.recovery,
      };
    },
    ConfirmDemoCredentials: async (request) => ({ Cluster: await confirmDemoCredentialsShown(demoDeps, request.ClusterId) }),
    InitializeCluster: async (request, context) => {
      // The records change step by step: say so also when a step fails part-way.
      try {
        return await trust.initialize(request, (step) => context.journal(step));
      } finally {
        clustersChanged(request.ClusterId);
      }
    },
    InstallClusterCertificate: async (request, context) => {
      try {
        return { Cluster: await trust.installCertificate(request, (step) => context.journal(step)) };
      } finally {
        clustersChanged(request.ClusterId);
      }
    },
    AddHsm: async (request, context) => {
      try {
        return await trust.addHsm(request, (step) => context.journal(step));
      } finally {
        clustersChanged(request.ClusterId);
      }
    },
    RemoveHsm: async (request, context) => {
      try {
        return await trust.removeHsm(request, (step) => context.journal(step));
      } finally {
        clustersChanged(request.ClusterId);
      }
    },
    CheckCluster: async (request, context) => {
      const cluster = await clusters.get(request.ClusterId);
      // A read-only operation that writes: each login test is a real login on the HSM, and a refused one spends a try,
      // so the ledger records it (also when the run fails or is cancelled after it) or it would under-count the tries spent.
      const logins: KmsuserLogin[] = [];
      try {
        const report = await runClusterChecks(cluster, hosts, {
          clusters: await clusters.describe(),
          kmsuserPassword: request.KmsuserPassword,
          signal: context.signal,
          onProgress: (progress) => context.emitProgress(progress),
          onKmsuserLogin: (hsmId, accepted) => logins.push({ hsmId, accepted, at: new Date() }),
          timeoutMs: options.hsmTimeoutMs,
        });
        return { Report: report };
      } finally {
        await kmsuser.noteLogins(cluster.ClusterId, logins);
      }
    },
    CreateKmsuser: async (request, context) => {
      const result = await kmsuser.create(request, context);
      clustersChanged(request.ClusterId);
      return result;
    },
    DescribeKmsuser: async (request) => kmsuser.describe(request.ClusterId),
    ChangeKmsuserPassword: async (request, context) => {
      const result = await kmsuser.changePassword(request, context);
      clustersChanged(request.ClusterId);
      return result;
    },
    CreateCustomKeyStore: async (request, context) => {
      const id = await keyStores.create(request);
      await annotated(id, context);
      keyStoresChanged(id);
      return { CustomKeyStoreId: id };
    },
    DescribeCustomKeyStores: async (request) => keyStores.describe(request),
    ConnectCustomKeyStore: async (request, context) => {
      await annotated(request.CustomKeyStoreId, context);
      await keyStores.connect(request.CustomKeyStoreId, context.journal);
      keyStoresChanged(request.CustomKeyStoreId);
      return {};
    },
    DisconnectCustomKeyStore: async (request, context) => {
      await annotated(request.CustomKeyStoreId, context);
      await keyStores.disconnect(request.CustomKeyStoreId);
      keyStoresChanged(request.CustomKeyStoreId);
      return {};
    },
    UpdateCustomKeyStore: async (request, context) => {
      await annotated(request.CustomKeyStoreId, context);
      await keyStores.update(request);
      keyStoresChanged(request.CustomKeyStoreId);
      return {};
    },
    DeleteCustomKeyStore: async (request, context) => {
      await annotated(request.CustomKeyStoreId, context);
      await keyStores.delete(request.CustomKeyStoreId);
      keyStoresChanged(request.CustomKeyStoreId);
      return {};
    },
    DescribeKeyStoreConnection: async (request) => ({ Connection: await keyStores.describeConnection(request.CustomKeyStoreId) }),
    ...keyCreationHandlers(keysDeps),
    ...keyLifecycleHandlers(keysDeps, deletions),
    ...aliasTagHandlers(keysDeps),
    ...cryptoHandlers(keysDeps),
  };
  const dispatcher = createDispatcher({ handlers, audit, logger });
  let deletionTimer: NodeJS.Timeout | undefined;
  let deletionRun: Promise<void> | undefined;
  let disposing = false;
  if (options.healthProbeMs !== undefined) {
    // The GUI needs the HSMs of every CONNECTED store (connected by this or an earlier process): it logs in and keeps the sessions.
    const logins: Promise<unknown>[] = [];
    for (const store of (await state.read()).customKeyStores) {
      if (store.ConnectionState === 'CONNECTED') logins.push(connections.ensureSessions(store.CustomKeyStoreId).catch((error: unknown) => logger.error('could not log in for a connected key store', { customKeyStoreId: store.CustomKeyStoreId, error: String(error) })));
    }
    // Due deletions (and first the creation reconciler) run once the start-up logins settle (so they use those sessions rather than log in beside them), then periodically.
    const runDeletions = (): void => {
      // One periodic run at a time (a slow HSM must not pile them up), and none once dispose() began stopping the hosts.
      if (disposing || deletionRun !== undefined) return;
      deletionRun = deletions
        .runDueDeletions()
        .then(() => undefined)
        .catch((error: unknown) => logger.error('scheduled key deletions failed', { error: String(error) }))
        .finally(() => {
          deletionRun = undefined;
        });
    };
    void Promise.allSettled(logins).then(runDeletions);
    deletionTimer = setInterval(runDeletions, options.deletionCheckMs ?? DEFAULT_DELETION_CHECK_MS);
    deletionTimer.unref();
  }

  return {
    stateDir: options.stateDir,
    dispatch: (operation, request, context) => dispatcher.dispatch(operation, request, context),
    recordRefusal: (operation, error) => dispatcher.recordRefusal(operation, error),
    onEvent: (listener) => events.subscribe(listener),
    secrets,
    dispose: async () => {
      stopWatching?.();
      disposing = true;
      clearInterval(deletionTimer);
      await deletionRun;
      // Waits for a connect in flight, then logs out and closes every held session before the hosts stop.
      await connections.dispose();
      await hosts.disposeAll();
    },
  };
}
