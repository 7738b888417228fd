import { hostname } from 'node:os';
import type { BackingKeyDeletionStatus } from '../../shared/contract/keys';
import { failureDetail } from '../key-stores/connection-errors';
import { processAlive } from '../key-stores/key-store-records';
import type { MemberSession } from '../key-stores/member-sessions';
import type { BackingKeyRecord, CmkRecord, OrphanedMaterialRecord } from '../state/records';
import type { StateStore } from '../state/state-store';
import { findBackingKeys, proveCopy } from './backing-key';
import { creatingHere, judge, sameCreation, type Copy } from './key-creation';
import type { KeysDeps } from './keys-deps';
import { deleteAliasesOf } from './aliases';
import { destroyOrphanedMaterial, orphanOf, settleOrphan } from './orphaned-material';

/** What the reconciler did with one key: finished its creation, rolled it back, or retried material an earlier rollback left. */
export interface ReconciledKey {
  KeyId: string;
  Outcome: 'COMPLETED' | 'ABANDONED' | 'ORPHAN_RETRIED';
  /** ABANDONED: why the creation could not be completed. */
  Reason?: string;
  /** Members that may still hold material no CMK names (their orphan record stays, with LastFailure). */
  Left: string[];
}

/** Reconciliations of one state directory run one at a time in a process (a connect and RunDeletions may ask at once). */
const tails = new WeakMap<StateStore, Promise<unknown>>();

function serialized<T>(state: StateStore, work: () => Promise<T>): Promise<T> {
  const next = (tails.get(state) ?? Promise.resolve()).then(work, work);
  tails.set(state, next.catch(() => undefined));
  return next;
}

/** A creation no live process runs: its owner is gone (kill -9, a crash). A creation a live process runs is never touched. */
function interrupted(key: Readonly<CmkRecord>): boolean {
  if (key.KeyState !== 'Creating') return false;
  const owner = key.Creation?.Owner;
  if (owner === undefined) return true;
  if (owner.Host === hostname() && owner.Pid === process.pid) return !creatingHere(key.KeyId);
  return !processAlive(owner);
}

/**
 * Finishes or rolls back the creations of `storeId` that a dead process left in 'Creating' (main/keys/key-creation.ts
 * journals them: the intent record first, each member added to Touched before material is sent to it), and retries
 * the material earlier rollbacks could not destroy. Only behind a CONNECTED store (it needs kmsuser sessions).
 *
 * A creation is COMPLETED, as CreateKey would have enabled it, when every member touched holds exactly one copy and
 * the copies pass CreateKey's rule (no mismatch, at least two VERIFIED). Otherwise it is ABANDONED: one transaction
 * deletes the CMK record and puts an orphan record naming every member touched, and only then is the material
 * destroyed (found by label and CKA_ID) and the orphan record shrunk; an unreachable member stays in it. Each
 * outcome is audited as an AwsServiceEvent. Safe to run in several processes at once: each decision is committed
 * only if the record is still the creation that was inspected.
 */
export function reconcileKeyStore(deps: KeysDeps, storeId: string): Promise<ReconciledKey[]> {
  return serialized(deps.state, () => reconcile(deps, storeId));
}

/** reconcileKeyStore for every CONNECTED store (the start of RunDeletions). */
export async function reconcileAll(deps: KeysDeps): Promise<ReconciledKey[]> {
  const stores = (await deps.state.read()).customKeyStores.filter((k) => k.ConnectionState === 'CONNECTED').map((k) => k.CustomKeyStoreId);
  const results: ReconciledKey[] = [];
  for (const storeId of stores) results.push(...(await reconcileKeyStore(deps, storeId)));
  return results;
}

async function reconcile(deps: KeysDeps, storeId: string): Promise<ReconciledKey[]> {
  const { state, timeoutMs } = deps;
  const s = await state.read();
  const store = s.customKeyStores.find((k) => k.CustomKeyStoreId === storeId);
  if (store?.ConnectionState !== 'CONNECTED') return [];
  const creations = [...s.keys.values()].filter((k) => k.CustomKeyStoreId === storeId && interrupted(k));
  const pending = [...s.orphans.values()].filter((o) => o.CustomKeyStoreId === storeId && o.Reason === 'CREATION_ABANDONED');
  // Nothing to do: no login (a CLI run would otherwise log in to every member for nothing).
  if (creations.length === 0 && pending.length === 0) return [];
  const members = (clusterId: string): string[] => s.clusters.find((c) => c.ClusterId === clusterId)?.Hsms.map((m) => m.HsmId) ?? [];

  const sessions = await deps.connections.ensureSessions(storeId).catch((): readonly MemberSession[] => []);
  // Read after the login: a member that refused it has just recorded why, the reason an orphan entry gives.
  const current = (await state.read()).customKeyStores.find((k) => k.CustomKeyStoreId === storeId);

  /** Destroys what an orphan record names, audits it, and shrinks the record (audited first: a failed audit is retried with it). */
  async function cleanUp(orphan: Readonly<OrphanedMaterialRecord>, reason: string): Promise<string[]> {
    const statuses = await destroyOrphanedMaterial(orphan, sessions, current, timeoutMs);
    await audit('AbandonKeyCreation', orphan, { reason, backingKeysDeletionStatus: JSON.stringify(statuses.map(statusOf)) });
    await settleOrphan(state, orphan.KeyId, statuses);
    return statuses.filter((x) => x.DeletionStatus === 'FAILURE').map((x) => x.HsmId);
  }

  async function audit(eventName: string, key: Pick<CmkRecord, 'KeyId' | 'CustomKeyStoreId' | 'CloudHsmClusterId'>, data: Record<string, unknown>): Promise<void> {
    await deps.recordServiceEvent({ eventName, additionalEventData: { keyId: key.KeyId, customKeyStoreId: key.CustomKeyStoreId, clusterId: key.CloudHsmClusterId, ...data } });
  }

  /** Each member touched: its one copy, proved in the HSM, or why it has none that counts. */
  async function inspect(key: Readonly<CmkRecord>): Promise<{ copies: Copy[]; problems: string[] }> {
    const copies: Copy[] = [];
    const problems: string[] = [];
    for (const hsmId of key.Creation?.Touched ?? members(key.CloudHsmClusterId)) {
      const session = sessions.find((x) => x.hsmId === hsmId);
      if (session === undefined) {
        problems.push(`${hsmId}: no kmsuser session`);
        continue;
      }
      try {
        const found = await findBackingKeys(session.host, session.ref, key, timeoutMs);
        const [object] = found;
        if (found.length !== 1 || object?.handle === undefined) {
          problems.push(`${hsmId}: ${found.length === 0 ? 'holds no copy' : `holds ${found.length} objects with the key's label and CKA_ID`}`);
          continue;
        }
        copies.push({ hsmId, handle: object.handle, proof: await proveCopy(session.host, session, object.handle, timeoutMs) });
      } catch (error) {
        problems.push(`${hsmId}: ${failureDetail(error)}`);
      }
    }
    return { copies, problems };
  }

  async function complete(key: Readonly<CmkRecord>, backingKeys: BackingKeyRecord[]): Promise<boolean> {
    const done = await state.transact((t) => {
      const record = t.keys.get(key.KeyId);
      if (!sameCreation(record, key)) return false;
      record.KeyState = 'Enabled';
      record.BackingKeys = backingKeys;
      delete record.Creation;
      t.keys.put(record);
      return true;
    });
    if (!done) return false;
    deps.changed('keys', [key.KeyId]);
    await audit('CompleteKeyCreation', key, {
      backingKeys: JSON.stringify(backingKeys.map((b) => ({ hsmId: b.HsmId, keyHandle: b.KeyHandle, backingKeyId: b.BackingKeyId, verification: b.Verification }))),
    });
    return true;
  }

  /** The CMK record goes and the orphan record naming every member touched comes, in one transaction; undefined when another process decided first. */
  async function abandon(key: Readonly<CmkRecord>): Promise<OrphanedMaterialRecord | undefined> {
    const orphan = await state.transact((t) => {
      const record = t.keys.get(key.KeyId);
      if (!sameCreation(record, key)) return undefined;
      const earlier = t.orphans.get(key.KeyId);
      const made = orphanOf(key, 'CREATION_ABANDONED', deps.clock(), [...(record.Creation?.Touched ?? members(key.CloudHsmClusterId)), ...(earlier?.HsmIds ?? [])]);
      const aliases = deleteAliasesOf(t, key.KeyId);
      t.keys.delete(key.KeyId);
      t.orphans.put(made);
      return { made, aliases };
    });
    if (orphan === undefined) return undefined;
    deps.changed('keys', [key.KeyId]);
    if (orphan.aliases.length > 0) deps.changed('aliases', orphan.aliases);
    return orphan.made;
  }

  const results: ReconciledKey[] = [];
  for (const key of creations) {
    const { copies, problems } = await inspect(key);
    let reason = problems.join('; ');
    if (problems.length === 0) {
      try {
        if (await complete(key, judge(key, copies))) results.push({ KeyId: key.KeyId, Outcome: 'COMPLETED', Left: [] });
        continue;
      } catch (error) {
        // The copies fail CreateKey's rule (a mismatch, fewer than two verified): the creation is rolled back.
        reason = failureDetail(error);
      }
    }
    const orphan = await abandon(key);
    if (orphan === undefined) continue;
    results.push({ KeyId: key.KeyId, Outcome: 'ABANDONED', Reason: reason, Left: await cleanUp(orphan, reason) });
  }
  for (const orphan of pending) {
    if (results.some((r) => r.KeyId === orphan.KeyId)) continue;
    results.push({ KeyId: orphan.KeyId, Outcome: 'ORPHAN_RETRIED', Left: await cleanUp(orphan, `a retry: an earlier rollback could not destroy it (${orphan.LastFailure ?? 'no reason recorded'})`) });
  }
  return results;
}

function statusOf(s: BackingKeyDeletionStatus): Record<string, unknown> {
  return { hsmId: s.HsmId, keyHandle: s.KeyHandle, backingKeyId: s.BackingKeyId, deletionStatus: s.DeletionStatus, ...(s.Detail === undefined ? {} : { detail: s.Detail }) };
}

