import { WorkbenchError } from '../../shared/errors';
import { failureDetail } from '../key-stores/connection-errors';
import type { MemberSession } from '../key-stores/member-sessions';
import type { BackingKeyRecord, CmkRecord, CustomKeyStoreRecord, OrphanedMaterialRecord } from '../state/records';
import { deleteAliasesOf } from './aliases';
import { findBackingKeys, proveCopy, type CopyProof } from './backing-key';
import type { KeysDeps } from './keys-deps';
import { destroyOrphanedMaterial, orphanOf, settleOrphan } from './orphaned-material';

/**
 * How a creation ends, the same whoever ends it: CreateKey itself (main/keys/key-creation.ts) or the reconciler
 * after a kill -9 (creation-reconciler.ts). Each decision is committed only while the record is still the creation
 * that was inspected, so two processes never both decide, and neither undoes what the other finished.
 */

/** One member's copy, proved in its HSM. */
export interface Copy {
  hsmId: string;
  handle: string;
  proof: CopyProof;
}

/** Whether the record is still the creation `seen` was (no other process completed or rolled it back meanwhile). */
export function sameCreation(record: Readonly<CmkRecord> | undefined, seen: Readonly<CmkRecord>): record is CmkRecord {
  return record?.KeyState === 'Creating' && record.Creation?.StartedAt === seen.Creation?.StartedAt;
}

export function invalidConfiguration(clusterId: string, why: string, details: Record<string, unknown>): WorkbenchError {
  return new WorkbenchError('CloudHsmClusterInvalidConfigurationException', `Cluster ${clusterId} ${why}`, { details });
}

/**
 * The safe rule for copies: a MISMATCH fails; a copy its module cannot prove is UNVERIFIED (never VERIFIED), and the
 * key is enabled only when at least two copies are VERIFIED — the ≥2-HSM rule applied to proven material.
 */
export function judge(key: Pick<CmkRecord, 'KeyId' | 'CloudHsmClusterId'>, copies: readonly Copy[]): BackingKeyRecord[] {
  const proven = copies.flatMap((c) => ('checkValue' in c.proof ? [{ hsmId: c.hsmId, ...c.proof }] : []));
  const values = new Set(proven.map((p) => p.checkValue));
  if (values.size > 1) {
    throw invalidConfiguration(key.CloudHsmClusterId, `holds copies of ${key.KeyId} whose check values differ (${proven.map((p) => `${p.hsmId}: ${p.checkValue}`).join(', ')}); the key was not created.`, { mismatch: proven.map((p) => ({ hsmId: p.hsmId, checkValue: p.checkValue })) });
  }
  const unverified = copies.flatMap((c) => ('unverifiable' in c.proof ? [{ hsmId: c.hsmId, why: c.proof.unverifiable }] : []));
  if (proven.length < 2) {
    throw invalidConfiguration(
      key.CloudHsmClusterId,
      `could verify the key material on ${proven.length} HSM${proven.length === 1 ? '' : 's'}; CreateKey needs at least 2 verified copies. Could not verify: ${unverified.map((u) => `${u.hsmId}: ${u.why}`).join('; ')}.`,
      { verifiedHsms: proven.length, unverified },
    );
  }
  const backingKeyId = proven[0]?.backingKeyId ?? '';
  return copies.map((c) =>
    'checkValue' in c.proof
      ? { HsmId: c.hsmId, BackingKeyId: c.proof.backingKeyId, KeyHandle: c.handle, CheckValue: c.proof.checkValue, Verification: 'VERIFIED' }
      : { HsmId: c.hsmId, BackingKeyId: backingKeyId, KeyHandle: c.handle, Verification: 'UNVERIFIED' },
  );
}

/** A member to prove: its session, and the handle of its copy when the caller made it (else the copy is found by label and CKA_ID). */
export interface MemberCopy {
  hsmId: string;
  session: MemberSession | undefined;
  handle?: string;
}

/** Each member's copy proved, or why it has none that counts; the members run side by side, and every one has settled when this returns. */
export async function proveCopies(key: Pick<CmkRecord, 'KeyId' | 'Arn'>, members: readonly MemberCopy[], timeoutMs: number): Promise<Array<{ copy: Copy } | { hsmId: string; problem: string; error?: unknown }>> {
  return Promise.all(
    members.map(async ({ hsmId, session, handle }) => {
      if (session === undefined) return { hsmId, problem: 'no kmsuser session' };
      try {
        let found = handle;
        if (found === undefined) {
          const objects = await findBackingKeys(session.host, session.ref, key, timeoutMs);
          found = objects.length === 1 ? objects[0]?.handle : undefined;
          if (found === undefined) return { hsmId, problem: objects.length === 0 ? 'holds no copy' : `holds ${objects.length} objects with the key's label and CKA_ID` };
        }
        return { copy: { hsmId, handle: found, proof: await proveCopy(session.host, session, found, timeoutMs) } };
      } catch (error) {
        return { hsmId, problem: failureDetail(error), error };
      }
    }),
  );
}

/**
 * Enables the key with its judged copies (check values recorded), in one transaction, if the record is still the
 * creation `key` was; undefined when another process decided first.
 */
export async function enableCreation(deps: KeysDeps, key: Readonly<CmkRecord>, backingKeys: BackingKeyRecord[]): Promise<{ record: CmkRecord; store: CustomKeyStoreRecord | undefined } | undefined> {
  const enabled = await deps.state.transact((s) => {
    const record = s.keys.get(key.KeyId);
    if (!sameCreation(record, key)) return undefined;
    record.KeyState = 'Enabled';
    record.BackingKeys = backingKeys;
    delete record.Creation;
    s.keys.put(record);
    return { record, store: s.customKeyStores.find((k) => k.CustomKeyStoreId === key.CustomKeyStoreId) };
  });
  if (enabled !== undefined) deps.changed('keys', [key.KeyId]);
  return enabled;
}

async function abandonEvent(deps: KeysDeps, orphan: Readonly<OrphanedMaterialRecord>, data: Record<string, unknown>): Promise<void> {
  await deps.recordServiceEvent({ eventName: 'AbandonKeyCreation', additionalEventData: { keyId: orphan.KeyId, customKeyStoreId: orphan.CustomKeyStoreId, clusterId: orphan.CloudHsmClusterId, ...data } });
}

/**
 * Destroys what an orphan record of an abandoned creation names, audits it as AbandonKeyCreation (before the record
 * shrinks: a failed audit is retried with it), and shrinks the record; the members that may still hold material.
 */
export async function cleanUpAbandoned(deps: KeysDeps, orphan: Readonly<OrphanedMaterialRecord>, sessions: readonly MemberSession[], store: Readonly<CustomKeyStoreRecord> | undefined, reason: string): Promise<string[]> {
  try {
    const statuses = await destroyOrphanedMaterial(orphan, sessions, store, deps.timeoutMs);
    await abandonEvent(deps, orphan, {
      reason,
      backingKeysDeletionStatus: JSON.stringify(statuses.map((s) => ({ hsmId: s.HsmId, keyHandle: s.KeyHandle, backingKeyId: s.BackingKeyId, deletionStatus: s.DeletionStatus, ...(s.Detail === undefined ? {} : { detail: s.Detail }) }))),
    });
    await settleOrphan(deps.state, orphan.KeyId, statuses);
    return statuses.filter((x) => x.DeletionStatus === 'FAILURE').map((x) => x.HsmId);
  } catch (error) {
    // The rollback is recorded already: the orphan record still names every member, and a later run retries them.
    deps.logger.error('a rolled-back creation could not be cleaned up or audited; its orphan record keeps naming its HSMs', { keyId: orphan.KeyId, error: String(error) });
    return [...orphan.HsmIds];
  }
}

/**
 * Rolls a creation back, if the record is still the creation `key` was: one transaction replaces the CMK record by an
 * orphan record naming every member touched (so a kill -9 from here on leaves material an orphan record names), then
 * the material is destroyed and the orphan record shrunk. Undefined when another process decided first; else the
 * members that may still hold material.
 */
export async function abandonCreation(deps: KeysDeps, key: Readonly<CmkRecord>, sessions: readonly MemberSession[], reason: string): Promise<string[] | undefined> {
  const abandoned = await deps.state.transact((t) => {
    const record = t.keys.get(key.KeyId);
    if (!sameCreation(record, key)) return undefined;
    const members = record.Creation?.Touched ?? t.clusters.find((c) => c.ClusterId === key.CloudHsmClusterId)?.Hsms.map((m) => m.HsmId) ?? [];
    const orphan = orphanOf(key, 'CREATION_ABANDONED', deps.clock(), [...members, ...(t.orphans.get(key.KeyId)?.HsmIds ?? [])]);
    const aliases = deleteAliasesOf(t, key.KeyId);
    t.keys.delete(key.KeyId);
    t.orphans.put(orphan);
    return { orphan, aliases, store: t.customKeyStores.find((k) => k.CustomKeyStoreId === key.CustomKeyStoreId) };
  });
  if (abandoned === undefined) return undefined;
  deps.changed('keys', [key.KeyId]);
  if (abandoned.aliases.length > 0) deps.changed('aliases', abandoned.aliases);
  return cleanUpAbandoned(deps, abandoned.orphan, sessions, abandoned.store, reason);
}
