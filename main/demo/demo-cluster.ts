import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ClusterInfo } from '../../shared/contract/clusters';
import type { ModuleRef } from '../../shared/contract/hsm';
import { WorkbenchError } from '../../shared/errors';
import type { ClusterTrustService } from '../clusters/cluster-initialization';
import { sameName, type ClusterService } from '../clusters/cluster-service';
import { demoCaCertificatePath } from '../clusters/demo-ca';
import type { HsmHost, HsmHostPool } from '../hsm/hsm-host';
import type { KmsuserCallContext, KmsuserService } from '../kmsuser/kmsuser-service';
import { createSoftHsmConfig, locateSoftHsm, softHsmConfPath } from '../softhsm/softhsm-config';
import { syncDirectory } from '../state/durable-json-file';
import { withLock } from '../state/lock-file';
import { withFileSystemErrors } from '../state/safe-files';
import { keyStoreOfCluster, type ClusterRecord } from '../state/records';
import type { StateStore, WorkbenchState } from '../state/state-store';
import { inspectDemoDir, isOwnJournal, removeDemoDir, startedJournal, writeDemoJournal, type DemoDirState } from './demo-journal';

export const DEMO_CLUSTER_NAME = 'demo-cluster';
const DEMO_TOKEN_LABELS = ['demo-hsm-1', 'demo-hsm-2'];

export interface DemoDependencies {
  stateDir: string;
  /** Who runs it ('gui', 'cli', …): shown to another demo init that finds the demo lock taken. */
  program: string;
  state: StateStore;
  hosts: HsmHostPool;
  clusters: ClusterService;
  trust: ClusterTrustService;
  kmsuser: KmsuserService;
}

export interface DemoCluster {
  /** ACTIVE. */
  cluster: ClusterInfo;
  dir: string;
  /** The demo CA's certificate, the trust anchor a key store over this cluster names. */
  trustAnchorCertificatePath: string;
  /** Secrets, returned once to whoever asked; never stored. */
  kmsuserPassword: string;
  soPin: string;
  /** What this run did about a previous, interrupted demo init; null when there was none. */
  recovery: string | null;
}

function demoDir(stateDir: string): string {
  return join(stateDir, 'demo-softhsm');
}

/**
 * One demo init (or confirmation) at a time per state directory. It is held while tokens are made, so
 * it is not the state lock (which guards short transactions only); a holder killed by kill -9 leaves a
 * stale lock that the next run takes over.
 */
function withDemoLock<T>(deps: DemoDependencies, fn: () => Promise<T>): Promise<T> {
  const dir = demoDir(deps.stateDir);
  return withLock({ path: `${dir}.lock`, program: deps.program, resource: `The demo in ${dir}` }, fn);
}

function alreadyExists(dir: string): WorkbenchError {
  return new WorkbenchError(
    'ValidationException',
    `A demo SoftHSM2 configuration already exists in ${dir}. List clusters with "hsm-workbench cluster list"; to start over, delete the demo cluster and that directory first.`,
  );
}

/**
 * Everything that can refuse a demo, checked before a token is touched. It runs as a state transaction,
 * so the state file has been read and written and its lock taken, exactly as the final record will need.
 * For an interrupted demo it removes that demo's cluster record (its credentials were never shown)
 * and returns it.
 */
function refuseOrRecover(draft: WorkbenchState, found: DemoDirState, dir: string): ClusterRecord | null {
  const conf = softHsmConfPath(dir);
  const recorded = draft.clusters.find((c) => c.ModuleEnvironment.SOFTHSM2_CONF === conf && sameName(c.ClusterName, DEMO_CLUSTER_NAME));
  // A key store over it would be broken by a start over: whoever connected it knows its credentials.
  if (found.kind === 'complete' || (recorded !== undefined && keyStoreOfCluster(draft.customKeyStores, recorded.ClusterId) !== undefined)) throw alreadyExists(dir);
  if (found.kind === 'in-progress') {
    const { Pid, Hostname } = found.journal.Owner;
    throw new WorkbenchError(
      'StateLockedException',
      `The demo in ${dir} is being made by hsm-workbench pid ${Pid} on host ${Hostname} (since ${found.journal.StartedAt}). Nothing was changed. ` +
        `Wait for it to finish; if pid ${Pid} is not a workbench process, delete ${dir} and run demo init again.`,
      { details: { Owner: found.journal.Owner } },
    );
  }
  const holder = draft.clusters.find((c) => sameName(c.ClusterName, DEMO_CLUSTER_NAME));
  if (holder !== undefined && !(found.kind === 'interrupted' && holder === recorded)) {
    throw new WorkbenchError(
      'ClusterNameInUseException',
      `A cluster named "${holder.ClusterName}" already exists (${holder.ClusterId}), and demo init always uses that name. ` +
        `Nothing was changed. Delete that cluster first ("hsm-workbench cluster delete ${holder.ClusterId} --yes"), then run demo init again.`,
      { details: { ClusterId: holder.ClusterId } },
    );
  }
  if (found.kind !== 'interrupted' || recorded === undefined) return null;
  draft.clusters.splice(draft.clusters.indexOf(recorded), 1);
  return recorded;
}

function describeRecovery(found: DemoDirState, dir: string, removed: ClusterRecord | null): string | null {
  if (found.kind === 'leftover') return `A previous demo init was interrupted before it touched any token; its empty directory ${dir} was removed and the demo made afresh.`;
  if (found.kind !== 'interrupted') return null;
  const record = removed ? `its cluster record ${removed.ClusterId} was deleted and ` : '';
  return (
    `A previous demo init (started ${found.journal.StartedAt}) was interrupted before its credentials were confirmed shown; ` +
    `${record}its half-made tokens in ${dir} were removed and made again.`
  );
}

/**
 * The demo CA of a demo being started over. It lives under the state directory, beside and not inside the
 * demo directory (the trust service keeps every cluster's demo CA in its own directory), so it is removed
 * by name, before the demo directory and so before its journal, which names it.
 */
async function removeDemoCa(stateDir: string, clusterId: string): Promise<void> {
  const caDir = dirname(demoCaCertificatePath(stateDir, clusterId));
  await withFileSystemErrors('remove the demo CA of an interrupted demo', caDir, () => rm(caDir, { recursive: true, force: true }));
}

/** A failure after the journal was written: say how the half-made demo gets cleaned up. */
function withRestartHint(error: unknown): unknown {
  if (!(error instanceof WorkbenchError)) return error;
  return new WorkbenchError(error.name, `${error.message} The demo is half-made: run "hsm-workbench demo init" again to remove it and start over.`, {
    code: error.code,
    details: error.details,
    cause: error,
  });
}

/**
 * A throwaway SoftHSM2 configuration with two initialised tokens under the state directory, and an ACTIVE
 * cluster over them, ready for `kms create-custom-key-store`. The tokens are initialised through the HSM
 * host (C_InitToken), so the PINs never appear on a command line; then the normal services take over, as an
 * admin's commands would: the cluster is created, kmsuser set on every member (kmsuser create), and the
 * cluster initialized with the demo CA (cluster initialize --demo-ca: signing key, certificates on every
 * member, member key pairs and the trust mesh). Their steps go into this call's audit record.
 *
 * Crash safety: nothing touches a token before every refusal has been checked and the journal says a
 * demo is being made; the journal names the cluster once it is recorded, before its demo CA exists. A
 * re-run after any interruption finds that journal and starts over (tokens, cluster record, demo CA), and says so.
 * The demo is complete only once the front end confirms the credentials were shown
 * (confirmDemoCredentialsShown); until then a re-run makes it again.
 */
export async function createDemoCluster(deps: DemoDependencies, kmsuserPassword: string | undefined, context: KmsuserCallContext): Promise<DemoCluster> {
  const dir = demoDir(deps.stateDir);
  const { modulePath } = locateSoftHsm();
  const module: ModuleRef = { ModulePath: modulePath, ModuleEnvironment: { SOFTHSM2_CONF: softHsmConfPath(dir) } };
  return withDemoLock(deps, async () => {
    const found = await inspectDemoDir(dir);
    const removed = await deps.state.transact((draft) => refuseOrRecover(draft, found, dir));
    if (found.kind === 'leftover' || found.kind === 'interrupted') {
      // A host child of this process may still have the old tokens open (the GUI runs for days).
      await deps.hosts.get(module).dispose();
      if (found.kind === 'interrupted' && found.journal.ClusterId !== undefined) await removeDemoCa(deps.stateDir, found.journal.ClusterId);
      await removeDemoDir(dir);
    }
    await mkdir(dir, { mode: 0o700 });
    await syncDirectory(deps.stateDir);
    const journal = startedJournal();
    await writeDemoJournal(dir, journal);
    try {
      await createSoftHsmConfig(dir);
      const password = kmsuserPassword ?? randomBytes(12).toString('base64url');
      const soPin = randomBytes(9).toString('base64url');
      const host = deps.hosts.get(module);
      const serials: string[] = [];
      for (const label of DEMO_TOKEN_LABELS) serials.push(await initDemoToken(host, label, soPin));
      const { ClusterId } = await deps.clusters.create({
        ClusterName: DEMO_CLUSTER_NAME,
        ...module,
        LoginFormat: 'password',
        Hsms: serials.map((TokenSerial) => ({ TokenSerial })),
      });
      await writeDemoJournal(dir, { ...journal, ClusterId });
      await deps.kmsuser.create({ ClusterId, SoPin: soPin, KmsuserPassword: password }, context);
      const { Cluster } = await deps.trust.initialize({ ClusterId, DemoCa: true, SoPin: soPin, KmsuserPassword: password }, (step) => context.journal(step));
      return { cluster: Cluster, dir, trustAnchorCertificatePath: demoCaCertificatePath(deps.stateDir, ClusterId), kmsuserPassword: password, soPin, recovery: describeRecovery(found, dir, removed) };
    } catch (error) {
      throw withRestartHint(error);
    }
  });
}

/**
 * Marks the demo complete once its credentials reached the user: from then on demo init refuses with
 * "already exists" instead of starting over. Repeating it is harmless.
 */
export async function confirmDemoCredentialsShown(deps: DemoDependencies, clusterId: string): Promise<ClusterInfo> {
  const dir = demoDir(deps.stateDir);
  return withDemoLock(deps, async () => {
    const cluster = await deps.clusters.get(clusterId);
    const found = await inspectDemoDir(dir);
    const ours = found.kind === 'interrupted' && isOwnJournal(found.journal);
    if (cluster.ModuleEnvironment.SOFTHSM2_CONF !== softHsmConfPath(dir) || !(ours || found.kind === 'complete')) {
      throw new WorkbenchError('ValidationException', `Cluster ${clusterId} is not a demo cluster this process made in ${dir}, so there is nothing to confirm. Nothing was changed.`, {
        details: { ClusterId: clusterId },
      });
    }
    if (found.kind === 'interrupted') await writeDemoJournal(dir, { ...found.journal, Phase: 'shown' });
    return cluster;
  });
}

/** Initialises the next free SoftHSM slot as `label` (no user PIN yet: kmsuser create sets it); returns the token's serial. */
async function initDemoToken(host: HsmHost, label: string, soPin: string): Promise<string> {
  const free = (await host.listSlots()).find((s) => s.Token !== null && !s.Token.Flags.includes('CKF_TOKEN_INITIALIZED'));
  if (!free) throw new WorkbenchError('TokenNotFoundException', 'SoftHSM2 offers no free slot for a demo token.');
  await host.initToken(free.SlotId, soPin, label);
  // SoftHSM moves an initialised token to a slot id derived from its serial: find it again by label.
  const slot = (await host.listSlots()).find((s) => s.Token?.Label === label);
  if (!slot?.Token) throw new WorkbenchError('TokenNotFoundException', `Demo token "${label}" was initialised but is not listed.`);
  return slot.Token.SerialNumber;
}
