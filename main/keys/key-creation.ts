import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import type { BackingKeyInfo, CreateKeyProgress, CreateKeyRequest, DescribeKeyMaterialResponse, KeyMetadata } from '../../shared/contract/keys';
import { WorkbenchError } from '../../shared/errors';
import { objectId, memberPublicKeyQuery } from '../clusters/cluster-objects';
import { memberTrust } from '../clusters/cluster-trust';
import type { HandlerContext } from '../core/dispatcher';
import { failureDetail } from '../key-stores/connection-errors';
import { findKeyStore, ownerHere } from '../key-stores/key-store-records';
import type { MemberSession } from '../key-stores/member-sessions';
import type { BackingKeyRecord, ClusterRecord, CmkRecord, CustomKeyStoreRecord } from '../state/records';
import { keyArn } from './arn';
import { BACKING_KEY_BYTES, backingKeyTemplate, findBackingKeys, MEMBER_WRAP, proveCopy } from './backing-key';
import { abandonCreation, enableCreation, invalidConfiguration, judge, proveCopies } from './key-creation-outcome';
import { toKeyMetadata } from './key-metadata';
import { resolveKey } from './key-resolution';
import type { KeysDeps } from './keys-deps';
import { checkTags } from './tags';

type Context = Pick<HandlerContext<CreateKeyProgress>, 'journal' | 'annotate' | 'emitProgress'>;

export interface KeyCreationService {
  create(request: z.output<typeof CreateKeyRequest>, context: Context): Promise<KeyMetadata>;
  describeMaterial(keyId: string): Promise<z.infer<typeof DescribeKeyMaterialResponse>>;
}

const unsupported = (why: string): WorkbenchError => new WorkbenchError('UnsupportedOperationException', why);

/** AWS's request rules that this workbench can only answer with a reason: checked before anything is read or touched. */
function checkRequest(request: z.output<typeof CreateKeyRequest>): string {
  const origin = request.Origin ?? 'AWS_KMS';
  if (origin !== 'AWS_CLOUDHSM') {
    throw unsupported(`Origin ${origin} is not supported: the workbench keeps keys only in AWS CloudHSM key stores (use --origin AWS_CLOUDHSM --custom-key-store-id <cks-…>).`);
  }
  if (request.CustomKeyStoreId === undefined) throw new WorkbenchError('ValidationException', 'CustomKeyStoreId is required when Origin is AWS_CLOUDHSM.');
  const spec = request.KeySpec ?? request.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT';
  if (spec !== 'SYMMETRIC_DEFAULT' || (request.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT') !== 'SYMMETRIC_DEFAULT') {
    throw unsupported(`KeySpec ${spec === 'SYMMETRIC_DEFAULT' ? request.CustomerMasterKeySpec : spec} is not supported: a custom key store holds only symmetric encryption keys (SYMMETRIC_DEFAULT).`);
  }
  if ((request.KeyUsage ?? 'ENCRYPT_DECRYPT') !== 'ENCRYPT_DECRYPT') throw unsupported(`KeyUsage ${request.KeyUsage} is not supported: a custom key store holds only symmetric encryption keys (ENCRYPT_DECRYPT).`);
  if (request.MultiRegion === true) throw unsupported('Multi-Region keys are not supported in a custom key store.');
  if (request.Policy !== undefined) throw unsupported('Key policies are not modelled: the workbench has one local administrator. Omit --policy.');
  checkTags(request.Tags ?? []);
  return request.CustomKeyStoreId;
}

/**
 * Why a member is not active for CreateKey, or undefined when it is: a logged-in kmsuser session (so its token is
 * present and kmsuser accepted), and its member key pair and trust mesh complete (so copies can reach it).
 */
function notActive(cluster: ClusterRecord, store: CustomKeyStoreRecord, member: ClusterRecord['Hsms'][number], sessions: readonly MemberSession[]): string | undefined {
  if (!sessions.some((s) => s.hsmId === member.HsmId)) {
    const failure = store.MemberFailures?.[member.HsmId];
    return `no kmsuser session${failure === undefined ? '' : ` (${failure.ConnectionErrorCode}: ${failure.Detail})`}`;
  }
  const trust = memberTrust(cluster, member);
  if (!trust.MemberKey) return 'its member key pair is not made';
  if (trust.MissingTrustFrom.length > 0) return `its member key is not trusted by ${trust.MissingTrustFrom.join(', ')}`;
  if (trust.Status !== 'COMPLETE') return 'its token lacks the cluster certificates';
  return undefined;
}

/**
 * The CreateKey calls this process is running. A Creating record owned by this process's pid and host but by none of
 * them was left by an earlier process that had the same pid (a container's CLI is pid 1 every run), or by a call of
 * this one whose rollback could not be recorded: either way no one will finish it, so the reconciler may.
 */
const creationsHere = new Set<string>();

export function creatingHere(keyId: string): boolean {
  return creationsHere.has(keyId);
}

/** Promise.all that rejects only once every promise has settled: a rollback must not start while an HSM call may still make material. */
async function settled<T extends readonly unknown[]>(promises: { readonly [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const outcomes = await Promise.allSettled(promises);
  const failed = outcomes.find((o) => o.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return outcomes.map((o) => (o.status === 'fulfilled' ? o.value : undefined)) as unknown as T;
}

export function createKeyCreationService(deps: KeysDeps): KeyCreationService {
  const { state, timeoutMs } = deps;

  /** The store's cluster and the members CreateKey may use, with the ≥2-HSM rule applied; reads, never writes. */
  async function activeMembers(storeId: string): Promise<{ store: CustomKeyStoreRecord; cluster: ClusterRecord; active: MemberSession[] }> {
    const before = await state.read();
    const store = findKeyStore(before, storeId);
    if (store.ConnectionState !== 'CONNECTED') {
      throw new WorkbenchError(
        'CustomKeyStoreInvalidStateException',
        `Custom key store ${storeId} ("${store.CustomKeyStoreName}") is not connected (state ${store.ConnectionState}); connect it with kms connect-custom-key-store.`,
        { details: { CustomKeyStoreId: storeId, ConnectionState: store.ConnectionState } },
      );
    }
    const sessions = await deps.connections.ensureSessions(storeId);
    // Re-read: a login that failed recorded why, per member.
    const after = await state.read();
    const current = after.customKeyStores.find((k) => k.CustomKeyStoreId === storeId) ?? store;
    const cluster = after.clusters.find((c) => c.ClusterId === store.CloudHsmClusterId);
    if (cluster === undefined) throw invalidConfiguration(store.CloudHsmClusterId, 'is not in the workbench.', { clusterId: store.CloudHsmClusterId });
    const reasons = cluster.Hsms.map((m) => ({ hsmId: m.HsmId, why: notActive(cluster, current, m, sessions) }));
    const active = sessions.filter((s) => reasons.some((r) => r.hsmId === s.hsmId && r.why === undefined));
    if (active.length < 2) {
      const inactive = reasons.filter((r) => r.why !== undefined);
      throw invalidConfiguration(
        cluster.ClusterId,
        `has ${active.length} active HSM${active.length === 1 ? '' : 's'}; CreateKey needs at least 2. Not active: ${inactive.map((r) => `${r.hsmId}: ${r.why ?? ''}`).join('; ')}.`,
        { clusterId: cluster.ClusterId, activeHsms: active.length, notActive: inactive },
      );
    }
    return { store: current, cluster, active };
  }

  /** What a copy to `target` needs, found before the material exists: its trusted member key on the source's token, its member private key on its own. */
  async function routeTo(key: CmkRecord, source: MemberSession, target: MemberSession): Promise<{ trusted: string; unwrapping: string }> {
    const [publicKeys, privateKeys] = await Promise.all([
      source.host.findObjects(source.ref, { template: memberPublicKeyQuery(target.hsmId), attributes: ['handle', 'trusted'] }, { timeoutMs }),
      target.host.findObjects(target.ref, { template: { class: 'CKO_PRIVATE_KEY', id: objectId(target.hsmId), token: true }, attributes: ['handle'] }, { timeoutMs }),
    ]);
    const trusted = publicKeys.find((o) => o.trusted === true)?.handle;
    if (trusted === undefined) throw invalidConfiguration(key.CloudHsmClusterId, `cannot copy key material to ${target.hsmId}: ${source.hsmId}'s token holds no trusted member key of it.`, { hsmId: target.hsmId });
    const unwrapping = privateKeys[0]?.handle;
    if (unwrapping === undefined) throw invalidConfiguration(key.CloudHsmClusterId, `cannot copy key material to ${target.hsmId}: its member private key is not on its token.`, { hsmId: target.hsmId });
    return { trusted, unwrapping };
  }

  /** Wraps the source's material for the target's trusted member key and unwraps it on the target (the step audited first). */
  async function copyTo(key: CmkRecord, source: MemberSession, sourceHandle: string, target: MemberSession, route: { trusted: string; unwrapping: string }, context: Context): Promise<string> {
    context.emitProgress({ Phase: 'CopyKey', HsmId: target.hsmId, Status: 'STARTED' });
    const wrapped = await source.host.wrapKey(source.ref, MEMBER_WRAP, route.trusted, sourceHandle, { timeoutMs });
    await context.journal({ name: 'CopyKey', hsmId: target.hsmId, details: { keyId: key.KeyId } });
    const handle = await target.host.unwrapKey(target.ref, MEMBER_WRAP, route.unwrapping, wrapped, backingKeyTemplate(key), { timeoutMs });
    context.emitProgress({ Phase: 'CopyKey', HsmId: target.hsmId, Status: 'DONE' });
    return handle;
  }

  return {
    async create(request, context) {
      const storeId = checkRequest(request);
      const { cluster, active } = await activeMembers(storeId);
      const keyId = randomUUID();
      const now = deps.clock().toISOString();
      const key: CmkRecord = {
        KeyId: keyId,
        Arn: keyArn(deps.partition, keyId),
        AWSAccountId: deps.partition.account,
        CustomKeyStoreId: storeId,
        CloudHsmClusterId: cluster.ClusterId,
        CreationDate: now,
        Description: request.Description ?? '',
        KeyState: 'Creating',
        Tags: (request.Tags ?? []).map((t) => ({ ...t })),
        BackingKeys: [],
        Creation: { StartedAt: now, Owner: ownerHere(), SourceHsmId: active[0]?.hsmId ?? '', Touched: active.map((m) => m.hsmId) },
      };
      const [source, ...targets] = active;
      if (source === undefined) throw new WorkbenchError('KMSInternalException', 'no active member');
      context.emitProgress({ Phase: 'RecordIntent', Status: 'STARTED' });
      // The intent, before any HSM is touched, naming every member that may get material (so no transaction per member):
      // from here on a kill -9 leaves a Creating record the reconciler explains, a member holding nothing included.
      creationsHere.add(keyId);
      await state
        .transact((s) => {
          const store = findKeyStore(s, storeId);
          if (store.ConnectionState !== 'CONNECTED') throw new WorkbenchError('CustomKeyStoreInvalidStateException', `Custom key store ${storeId} was disconnected while the key was being created.`);
          s.keys.put(key);
        })
        .catch((error: unknown) => {
          creationsHere.delete(keyId);
          throw error;
        });
      deps.changed('keys', [keyId]);
      context.emitProgress({ Phase: 'RecordIntent', Status: 'DONE' });
      try {
        // The member-key lookups need no material: they run beside the generate. Each HSM call that may make material
        // settles before a failure rolls back, so the rollback never races a copy still being made.
        context.emitProgress({ Phase: 'GenerateKey', HsmId: source.hsmId, Status: 'STARTED' });
        await context.journal({ name: 'GenerateKey', hsmId: source.hsmId, details: { keyId } });
        const [sourceHandle, routes] = await settled([
          source.host.generateKey(source.ref, { mechanism: 'CKM_AES_KEY_GEN' }, { ...backingKeyTemplate(key), valueLen: BACKING_KEY_BYTES }, { timeoutMs }),
          Promise.all(targets.map(async (target) => ({ target, route: await routeTo(key, source, target) }))),
        ] as const);
        context.emitProgress({ Phase: 'GenerateKey', HsmId: source.hsmId, Status: 'DONE' });
        const copies = await settled(routes.map(({ target, route }) => copyTo(key, source, sourceHandle, target, route, context)));
        // In the order of `active`: the source, then its targets.
        const handles = [sourceHandle, ...copies];
        for (const session of active) context.emitProgress({ Phase: 'VerifyCopy', HsmId: session.hsmId, Status: 'STARTED' });
        const proofs = await proveCopies(key, active.map((session, i) => ({ hsmId: session.hsmId, session, handle: handles[i] })), timeoutMs);
        const proven = proofs.map((p) => {
          if ('problem' in p) throw p.error ?? new WorkbenchError('KMSInternalException', `${p.hsmId}: ${p.problem}`);
          context.emitProgress({ Phase: 'VerifyCopy', HsmId: p.copy.hsmId, Status: 'DONE' });
          return p.copy;
        });
        const backingKeys = judge(key, proven);
        context.emitProgress({ Phase: 'EnableKey', Status: 'STARTED' });
        await context.journal({ name: 'EnableKey', details: { keyId } });
        const enabled = await enableCreation(deps, key, backingKeys);
        if (enabled === undefined) throw new WorkbenchError('KMSInternalException', `The creation record of ${keyId} is gone: another process reconciled it.`);
        context.emitProgress({ Phase: 'EnableKey', Status: 'DONE' });
        const [first] = backingKeys;
        context.annotate({
          keyId,
          customKeyStoreId: storeId,
          clusterId: cluster.ClusterId,
          // AWS's shape: a JSON-encoded string, of the material on the HSM that generated it.
          backingKey: JSON.stringify({ keyHandle: first?.KeyHandle, backingKeyId: first?.BackingKeyId }),
          backingKeys: JSON.stringify(backingKeys.map((b) => ({ hsmId: b.HsmId, keyHandle: b.KeyHandle, backingKeyId: b.BackingKeyId, verification: b.Verification }))),
        });
        return toKeyMetadata(enabled.record, enabled.store);
      } catch (error) {
        // The reconciler's rollback, with its AbandonKeyCreation event. Only a creation still ours is rolled back: a
        // record another process completed (Enabled) or abandoned is not this call's to destroy, and one whose
        // rollback cannot be recorded stays Creating for the reconciler.
        const left = await abandonCreation(deps, key, active, failureDetail(error)).catch((cleanup: unknown) => {
          deps.logger.error('a failed CreateKey could not record its rollback', { keyId, error: String(cleanup) });
          return undefined;
        });
        if (left !== undefined) context.annotate({ keyId, abandonedOn: key.Creation?.Touched ?? [], ...(left.length > 0 ? { left } : {}) });
        throw error;
      } finally {
        creationsHere.delete(keyId);
      }
    },

    async describeMaterial(keyIdentifier) {
      const s = await state.read();
      const key = resolveKey(s, keyIdentifier, deps.partition);
      const store = s.customKeyStores.find((k) => k.CustomKeyStoreId === key.CustomKeyStoreId);
      const cluster = s.clusters.find((c) => c.ClusterId === key.CloudHsmClusterId);
      const recorded = (hsmId: string): BackingKeyRecord | undefined => key.BackingKeys.find((b) => b.HsmId === hsmId);
      if (store?.ConnectionState !== 'CONNECTED' || cluster === undefined) {
        return {
          KeyId: key.KeyId,
          Live: false,
          BackingKeys: key.BackingKeys.map((b) => ({ HsmId: b.HsmId, KeyHandle: b.KeyHandle ?? null, BackingKeyId: b.BackingKeyId, CheckValue: b.CheckValue ?? null, Verification: b.Verification })),
        };
      }
      const sessions = await deps.connections.ensureSessions(store.CustomKeyStoreId);
      const expected = key.BackingKeys.find((b) => b.Verification === 'VERIFIED')?.CheckValue;
      const live: BackingKeyInfo[] = [];
      for (const member of cluster.Hsms) {
        const backingKeyId = recorded(member.HsmId)?.BackingKeyId ?? '';
        const session = sessions.find((x) => x.hsmId === member.HsmId);
        if (session === undefined) {
          live.push({ HsmId: member.HsmId, KeyHandle: null, BackingKeyId: backingKeyId, CheckValue: null, Verification: 'UNREACHABLE', Detail: 'no kmsuser session on this HSM' });
          continue;
        }
        try {
          const found = await findBackingKeys(session.host, session.ref, key, timeoutMs);
          const [object] = found;
          if (object?.handle === undefined) {
            live.push({ HsmId: member.HsmId, KeyHandle: null, BackingKeyId: backingKeyId, CheckValue: null, Verification: 'MISSING', Detail: 'no object with the key ARN as label and the key id as CKA_ID' });
            continue;
          }
          const proof = await proveCopy(session.host, session, object.handle, timeoutMs);
          const extra = found.length > 1 ? ` (${found.length} objects match; the first is shown)` : '';
          if ('unverifiable' in proof) {
            live.push({ HsmId: member.HsmId, KeyHandle: object.handle, BackingKeyId: backingKeyId, CheckValue: null, Verification: 'UNVERIFIED', Detail: `present, but ${proof.unverifiable}${extra}` });
          } else {
            const same = expected === undefined || proof.checkValue === expected;
            live.push({
              HsmId: member.HsmId,
              KeyHandle: object.handle,
              BackingKeyId: proof.backingKeyId,
              CheckValue: proof.checkValue,
              Verification: same ? 'VERIFIED' : 'MISMATCH',
              ...(same ? (extra === '' ? {} : { Detail: extra.trim() }) : { Detail: `check value ${proof.checkValue} differs from the recorded ${expected ?? ''}${extra}` }),
            });
          }
        } catch (error) {
          live.push({ HsmId: member.HsmId, KeyHandle: null, BackingKeyId: backingKeyId, CheckValue: null, Verification: 'UNREACHABLE', Detail: failureDetail(error) });
        }
      }
      return { KeyId: key.KeyId, Live: true, BackingKeys: live };
    },
  };
}
