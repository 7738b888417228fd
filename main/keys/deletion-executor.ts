import type { BackingKeyDeletionStatus } from '../../shared/contract/keys';
import { failureDetail } from '../key-stores/connection-errors';
import type { MemberSession } from '../key-stores/member-sessions';
import type { CmkRecord, CustomKeyStoreRecord, OrphanedMaterialRecord } from '../state/records';
import { deleteAliasesOf } from './aliases';
import { findBackingKeys, keyIdBytes } from './backing-key';
import type { KeysDeps } from './keys-deps';

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
      const hsmIds = [...new Set([...members, ...key.BackingKeys.map((b) => b.HsmId), ...(earlier?.HsmIds ?? [])])];
      const aliases = deleteAliasesOf(s, keyId);
      s.keys.delete(keyId);
      s.orphans.put({
        KeyId: key.KeyId,
        Arn: key.Arn,
        CustomKeyStoreId: key.CustomKeyStoreId,
        CloudHsmClusterId: key.CloudHsmClusterId,
        Reason: 'DELETED',
        Since: now.toISOString(),
        HsmIds: hsmIds,
        BackingKeys: key.BackingKeys,
      });
      return { deleted: true, aliases };
    });
  }

  /** Why a member has no session to destroy with, in plain words. */
  function unreachable(store: Readonly<CustomKeyStoreRecord> | undefined, hsmId: string, storeId: string): string {
    if (store === undefined) return `custom key store ${storeId} no longer exists: nothing logs in to its HSMs`;
    if (store.ConnectionState !== 'CONNECTED') {
      const member = store.MemberFailures?.[hsmId];
      const why = member !== undefined ? ` (${member.ConnectionErrorCode}: ${member.Detail})` : store.ConnectionErrorCode !== undefined ? ` (${store.ConnectionErrorCode})` : '';
      return `custom key store ${storeId} is ${store.ConnectionState}${why}: its HSMs are not logged in; the material stays until the store is connected and deletions run again`;
    }
    return `${hsmId} is not a logged-in member of custom key store ${storeId} (no longer in its cluster?)`;
  }

  /** Destroys the material on one member; SUCCESS once a search by label and CKA_ID finds none left (also when another run destroyed it). */
  async function destroyOn(session: MemberSession, orphan: Readonly<OrphanedMaterialRecord>): Promise<{ handle: string | null; detail?: string }> {
    const found = await findBackingKeys(session.host, session.ref, orphan, timeoutMs);
    let refusal: unknown;
    for (const object of found) {
      if (object.handle === undefined) continue;
      await session.host.destroyObject(session.ref, object.handle, { timeoutMs }).catch((error: unknown) => {
        refusal ??= error;
      });
    }
    const left = await findBackingKeys(session.host, session.ref, orphan, timeoutMs);
    const handle = found[0]?.handle ?? null;
    if (left.length === 0) return { handle };
    return { handle, detail: refusal !== undefined ? failureDetail(refusal) : `${left.length} object(s) still found after C_DestroyObject` };
  }

  async function destroyMaterial(orphan: Readonly<OrphanedMaterialRecord>, sessions: readonly MemberSession[], store: Readonly<CustomKeyStoreRecord> | undefined): Promise<BackingKeyDeletionStatus[]> {
    const statuses: BackingKeyDeletionStatus[] = [];
    for (const hsmId of orphan.HsmIds) {
      const recorded = orphan.BackingKeys?.find((b) => b.HsmId === hsmId) ?? orphan.BackingKeys?.[0];
      // Material a creation left without a record has no backing key id yet: its CKA_ID names it.
      const backingKeyId = recorded?.BackingKeyId ?? keyIdBytes(orphan.KeyId);
      const session = sessions.find((s) => s.hsmId === hsmId);
      if (session === undefined) {
        statuses.push({ HsmId: hsmId, KeyHandle: null, BackingKeyId: backingKeyId, DeletionStatus: 'FAILURE', Detail: unreachable(store, hsmId, orphan.CustomKeyStoreId) });
        continue;
      }
      try {
        const { handle, detail } = await destroyOn(session, orphan);
        statuses.push({ HsmId: hsmId, KeyHandle: handle, BackingKeyId: backingKeyId, DeletionStatus: detail === undefined ? 'SUCCESS' : 'FAILURE', ...(detail === undefined ? {} : { Detail: detail }) });
      } catch (error) {
        statuses.push({ HsmId: hsmId, KeyHandle: null, BackingKeyId: backingKeyId, DeletionStatus: 'FAILURE', Detail: failureDetail(error) });
      }
    }
    return statuses;
  }

  /** Members that confirmed leave the orphan record; it goes when none is left, else keeps the last failure for discovery. */
  async function settle(keyId: string, statuses: readonly BackingKeyDeletionStatus[]): Promise<void> {
    const gone = new Set(statuses.filter((s) => s.DeletionStatus === 'SUCCESS').map((s) => s.HsmId));
    const failures = statuses.filter((s) => s.DeletionStatus === 'FAILURE').map((s) => `${s.HsmId}: ${s.Detail ?? 'FAILURE'}`);
    await state.transact((s) => {
      const orphan = s.orphans.get(keyId);
      if (orphan === undefined) return;
      orphan.HsmIds = orphan.HsmIds.filter((h) => !gone.has(h));
      if (orphan.HsmIds.length === 0) {
        s.orphans.delete(keyId);
        return;
      }
      if (failures.length > 0) orphan.LastFailure = failures.join('; ');
      s.orphans.put(orphan);
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
      const statuses = await destroyMaterial(orphan, members.sessions, members.store);
      // Audited before the orphan record is settled: if the audit cannot be written, the next run tries again (and audits).
      await audit(orphan, statuses);
      await settle(orphan.KeyId, statuses);
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
