import { hostname } from 'node:os';
import { failureDetail } from '../key-stores/connection-errors';
import { processAlive } from '../key-stores/key-store-records';
import type { MemberSession } from '../key-stores/member-sessions';
import type { CmkRecord } from '../state/records';
import type { StateStore } from '../state/state-store';
import { creatingHere } from './key-creation';
import { abandonCreation, cleanUpAbandoned, enableCreation, judge, proveCopies } from './key-creation-outcome';
import type { KeysDeps } from './keys-deps';

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
 * journals them: the intent record first, naming in Touched every member it will put material on), and retries
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

  const results: ReconciledKey[] = [];
  for (const key of creations) {
    const proofs = await proveCopies(key, (key.Creation?.Touched ?? members(key.CloudHsmClusterId)).map((hsmId) => ({ hsmId, session: sessions.find((x) => x.hsmId === hsmId) })), timeoutMs);
    const problems = proofs.flatMap((p) => ('problem' in p ? [`${p.hsmId}: ${p.problem}`] : []));
    let reason = problems.join('; ');
    if (problems.length === 0) {
      try {
        const backingKeys = judge(key, proofs.flatMap((p) => ('copy' in p ? [p.copy] : [])));
        if ((await enableCreation(deps, key, backingKeys)) !== undefined) {
          await deps.recordServiceEvent({
            eventName: 'CompleteKeyCreation',
            additionalEventData: {
              keyId: key.KeyId,
              customKeyStoreId: key.CustomKeyStoreId,
              clusterId: key.CloudHsmClusterId,
              backingKeys: JSON.stringify(backingKeys.map((b) => ({ hsmId: b.HsmId, keyHandle: b.KeyHandle, backingKeyId: b.BackingKeyId, verification: b.Verification }))),
            },
          });
          results.push({ KeyId: key.KeyId, Outcome: 'COMPLETED', Left: [] });
        }
        continue;
      } catch (error) {
        // The copies fail CreateKey's rule (a mismatch, fewer than two verified): the creation is rolled back.
        reason = failureDetail(error);
      }
    }
    const left = await abandonCreation(deps, key, sessions, reason);
    if (left !== undefined) results.push({ KeyId: key.KeyId, Outcome: 'ABANDONED', Reason: reason, Left: left });
  }
  for (const orphan of pending) {
    if (results.some((r) => r.KeyId === orphan.KeyId)) continue;
    results.push({ KeyId: orphan.KeyId, Outcome: 'ORPHAN_RETRIED', Left: await cleanUpAbandoned(deps, orphan, sessions, current, `a retry: an earlier rollback could not destroy it (${orphan.LastFailure ?? 'no reason recorded'})`) });
  }
  return results;
}
