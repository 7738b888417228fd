import type { BackingKeyDeletionStatus } from '../../shared/contract/keys';
import type { MemberSession } from '../key-stores/member-sessions';
import type { CmkRecord, CustomKeyStoreRecord, OrphanedMaterialRecord } from '../state/records';
import { deleteAliasesOf } from './aliases';
import { reconcileAll } from './creation-reconciler';
import type { KeysDeps } from './keys-deps';
import { destroyOrphanedMaterial, orphanOf, settleOrphan } from './orphaned-material';

export interface DeletedKey {
  KeyId: string;
  BackingKeysDeletionStatus: BackingKeyDeletionStatus[];
}

export interface DeletionExecutor {
  /**
   * Deletes every CMK whose deletion is due, then destroys its material on every member it can reach, and
   * retries the material earlier runs left behind. Runs one at a time in this process: a call while one runs
   * waits for it, then runs (so it sees that run's outcome and anything due since).
   */
  runDueDeletions(): Promise<DeletedKey[]>;
}

const isDue = (key: Readonly<CmkRecord>, now: Date): boolean => key.KeyState === 'PendingDeletion' && key.DeletionDate !== undefined && Date.parse(key.DeletionDate) <= now.getTime();

/**
 * AWS's scheduled deletion (DeleteKey, an AwsServiceEvent): the CMK record is deleted first, with its aliases,
 * in the same transaction that records its material as orphaned on every member of its cluster; only then are
 * the HSMs asked to destroy it, found by label and CKA_ID (never a stale handle). A kill -9 anywhere leaves the
 * material either still named by the CMK or named by the orphan record; a member that confirms the material
 * gone leaves the orphan record, and what no one could reach stays in it for the next run and for discovery.
 *
 * Only the sessions of a CONNECTED store are used (connections.ensureSessions): behind a store the admin
 * disconnected the workbench does not log in, and the material there is a FAILURE, as AWS reports material
 * it cannot reach. Across processes the state lock and "record deleted first" keep it safe: a second
 * process finds no due key, and material another run destroyed meanwhile is "already gone", a SUCCESS.
 */
export function createDeletionExecutor(deps: KeysDeps): DeletionExecutor {
  const { state, connections, timeoutMs } = deps;
  let tail: Promise<unknown> = Promise.resolve();

  /** In one transaction: the CMK and its aliases go, an orphan record names every member that may hold its material. */
  async function deleteRecord(keyId: string, now: Date): Promise<{ deleted: boolean; aliases: string[] }> {
    return state.transact((s) => {
      const key = s.keys.get(keyId);
      if (key === undefined || !isDue(key, now)) return { deleted: false, aliases: [] };
      const members = s.clusters.find((c) => c.ClusterId === key.CloudHsmClusterId)?.Hsms.map((m) => m.HsmId) ?? [];
      const earlier = s.orphans.get(keyId);
      const aliases = deleteAliasesOf(s, keyId);
      s.keys.delete(keyId);
      s.orphans.put({ ...orphanOf(key, 'DELETED', now, [...members, ...key.BackingKeys.map((b) => b.HsmId), ...(earlier?.HsmIds ?? [])]), BackingKeys: key.BackingKeys });
      return { deleted: true, aliases };
    });
  }

  async function audit(orphan: Readonly<OrphanedMaterialRecord>, statuses: readonly BackingKeyDeletionStatus[]): Promise<void> {
    const backingKeys = statuses.map((s) => ({ hsmId: s.HsmId, keyHandle: s.KeyHandle, backingKeyId: s.BackingKeyId }));
    await deps.recordServiceEvent({
      eventName: 'DeleteKey',
      additionalEventData: {
        keyId: orphan.KeyId,
        customKeyStoreId: orphan.CustomKeyStoreId,
        clusterId: orphan.CloudHsmClusterId,
        // JSON strings, as AWS logs them (reference §4).
        backingKeys: JSON.stringify(backingKeys),
        backingKeysDeletionStatus: JSON.stringify(statuses.map((s, i) => ({ ...backingKeys[i], deletionStatus: s.DeletionStatus, ...(s.Detail === undefined ? {} : { detail: s.Detail }) }))),
      },
    });
  }

  async function run(): Promise<DeletedKey[]> {
    // Creations a kill -9 interrupted are finished or rolled back first: their material is named before deletions look at orphans.
    await reconcileAll(deps).catch((error: unknown) => deps.logger.error('creation reconciliation failed', { error: String(error) }));
    const now = deps.clock();
    const due = [...(await state.read()).keys.values()].filter((k) => isDue(k, now)).map((k) => k.KeyId);
    const deleted = new Set<string>();
    for (const keyId of due) {
      const { deleted: done, aliases } = await deleteRecord(keyId, now);
      if (!done) continue;
      deleted.add(keyId);
      deps.changed('keys', [keyId]);
      if (aliases.length > 0) deps.changed('aliases', aliases);
    }

    const s = await state.read();
    const connected = (storeId: string): boolean => s.customKeyStores.some((k) => k.CustomKeyStoreId === storeId && k.ConnectionState === 'CONNECTED');
    // Material left by earlier runs is retried only behind a connected store: a disconnected one would answer FAILURE each time.
    const work = [...s.orphans.values()].filter((o) => o.Reason === 'DELETED' && (deleted.has(o.KeyId) || connected(o.CustomKeyStoreId)));
    const reach = new Map<string, { sessions: readonly MemberSession[]; store: Readonly<CustomKeyStoreRecord> | undefined }>();
    const results: DeletedKey[] = [];
    for (const orphan of work) {
      let members = reach.get(orphan.CustomKeyStoreId);
      if (members === undefined) {
        // Logs in when this process holds no session (a CLI run); [] when the store is not CONNECTED or a member refuses.
        const sessions = await connections.ensureSessions(orphan.CustomKeyStoreId).catch((): readonly MemberSession[] => []);
        // Read after the login: a member that refused it has just failed the store, and its failure is the reason to give.
        const store = (await state.read()).customKeyStores.find((k) => k.CustomKeyStoreId === orphan.CustomKeyStoreId);
        members = { sessions, store };
        reach.set(orphan.CustomKeyStoreId, members);
      }
      const statuses = await destroyOrphanedMaterial(orphan, members.sessions, members.store, timeoutMs);
      // Audited before the orphan record is settled: if the audit cannot be written, the next run tries again (and audits).
      await audit(orphan, statuses);
      await settleOrphan(state, orphan.KeyId, statuses);
      results.push({ KeyId: orphan.KeyId, BackingKeysDeletionStatus: statuses });
    }
    return results;
  }

  return {
    runDueDeletions() {
      const next = tail.then(run, run);
      tail = next.catch(() => undefined);
      return next;
    },
  };
}
