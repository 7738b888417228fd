import type { BackingKeyDeletionStatus } from '../../shared/contract/keys';
import { failureDetail } from '../key-stores/connection-errors';
import type { MemberSession } from '../key-stores/member-sessions';
import type { CmkRecord, CustomKeyStoreRecord, OrphanedMaterialRecord } from '../state/records';
import type { StateStore } from '../state/state-store';
import { findBackingKeys, keyIdBytes } from './backing-key';

/**
 * Material no CMK names any more (a deletion ran, a creation was abandoned), as an orphan record lists it: destroyed
 * member by member, found by label and CKA_ID, and the record shrunk to what is left. Shared by the deletion
 * executor and the creation reconciler.
 */

/** The orphan record for a CMK's material that no record will name any more: why, since when, and which members may hold it. */
export function orphanOf(
  key: Pick<CmkRecord, 'KeyId' | 'Arn' | 'CustomKeyStoreId' | 'CloudHsmClusterId'>,
  reason: OrphanedMaterialRecord['Reason'],
  since: Date,
  hsmIds: readonly string[],
): OrphanedMaterialRecord {
  return { KeyId: key.KeyId, Arn: key.Arn, CustomKeyStoreId: key.CustomKeyStoreId, CloudHsmClusterId: key.CloudHsmClusterId, Reason: reason, Since: since.toISOString(), HsmIds: [...new Set(hsmIds)] };
}

/** Why a member has no session to destroy with, in plain words. */
function unreachable(store: Readonly<CustomKeyStoreRecord> | undefined, hsmId: string, storeId: string): string {
  if (store === undefined) return `custom key store ${storeId} no longer exists: nothing logs in to its HSMs`;
  if (store.ConnectionState !== 'CONNECTED') {
    const member = store.MemberFailures?.[hsmId];
    const why = member !== undefined ? ` (${member.ConnectionErrorCode}: ${member.Detail})` : store.ConnectionErrorCode !== undefined ? ` (${store.ConnectionErrorCode})` : '';
    return `custom key store ${storeId} is ${store.ConnectionState}${why}: its HSMs are not logged in; the material stays until the store is connected and deletions run again`;
  }
  const lost = store.MemberFailures?.[hsmId];
  // A CONNECTED store keeps working on its other members while one is lost.
  if (lost !== undefined) return `${hsmId} of custom key store ${storeId} is not logged in (${lost.ConnectionErrorCode}: ${lost.Detail}): the material stays until it answers again and deletions run again`;
  return `${hsmId} is not a logged-in member of custom key store ${storeId} (no longer in its cluster?)`;
}

const LOGGED_IN: readonly string[] = ['CKS_RW_USER_FUNCTIONS', 'CKS_RO_USER_FUNCTIONS'];

/** Destroys the material on one member; SUCCESS once a search by label and CKA_ID, in a session still logged in, finds none left (also when another run destroyed it). */
async function destroyOn(session: MemberSession, orphan: Readonly<OrphanedMaterialRecord>, timeoutMs: number): Promise<{ handle: string | null; detail?: string }> {
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
  // The material is private: a session no longer logged in finds none of it, so its empty search proves nothing.
  const { State } = await session.host.getSessionInfo(session.ref, { timeoutMs });
  if (!LOGGED_IN.includes(State)) return { handle, detail: `the session is not logged in (${State}), so its search cannot see the material: it stays, recorded, for a later run` };
  if (left.length === 0) return { handle };
  return { handle, detail: refusal !== undefined ? failureDetail(refusal) : `${left.length} object(s) still found after C_DestroyObject` };
}

/** Tries every member the orphan record names, with the sessions of its store; one status per member, in the record's order. */
export async function destroyOrphanedMaterial(orphan: Readonly<OrphanedMaterialRecord>, sessions: readonly MemberSession[], store: Readonly<CustomKeyStoreRecord> | undefined, timeoutMs: number): Promise<BackingKeyDeletionStatus[]> {
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
      const { handle, detail } = await destroyOn(session, orphan, timeoutMs);
      statuses.push({ HsmId: hsmId, KeyHandle: handle, BackingKeyId: backingKeyId, DeletionStatus: detail === undefined ? 'SUCCESS' : 'FAILURE', ...(detail === undefined ? {} : { Detail: detail }) });
    } catch (error) {
      statuses.push({ HsmId: hsmId, KeyHandle: null, BackingKeyId: backingKeyId, DeletionStatus: 'FAILURE', Detail: failureDetail(error) });
    }
  }
  return statuses;
}

/** Members that confirmed leave the orphan record; it goes when none is left, else keeps the last failure for discovery. */
export async function settleOrphan(state: StateStore, keyId: string, statuses: readonly BackingKeyDeletionStatus[]): Promise<void> {
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
