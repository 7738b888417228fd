import type { ParsedRequestOf, ResponseOf } from '../../shared/contract/operations';
import type { KeyMetadata, KeySummary } from '../../shared/contract/keys';
import { WorkbenchError } from '../../shared/errors';
import { findKeyStore } from '../key-stores/key-store-records';
import type { CmkRecord, CustomKeyStoreRecord } from '../state/records';
import type { WorkbenchState } from '../state/state-schema';
import { toKeyMetadata } from './key-metadata';
import { resolveKey } from './key-resolution';
import { byName, markerAfter, pageAfter } from './pagination';
import type { KeysDeps } from './keys-deps';

const DAY_MS = 24 * 60 * 60 * 1000;
const LIST_KEYS_DEFAULT_LIMIT = 100;
const DESCRIBE_KEYS_DEFAULT_LIMIT = 1000;

/** The facts CloudTrail records of a call on a CMK in a CloudHSM key store (reference §4). */
export interface KeyAuditFacts {
  customKeyStoreId: string;
  clusterId: string;
  backingKeys: string;
}

export interface KeyLifecycleService {
  describe(keyId: string): Promise<KeyMetadata>;
  list(request: ParsedRequestOf<'ListKeys'>): Promise<ResponseOf<'ListKeys'>>;
  describeAll(request: ParsedRequestOf<'DescribeKeys'>): Promise<ResponseOf<'DescribeKeys'>>;
  /** Each returns the key as it now is, for the handler's audit facts and StateChanged. */
  enable(keyId: string): Promise<CmkRecord>;
  disable(keyId: string): Promise<CmkRecord>;
  scheduleDeletion(request: ParsedRequestOf<'ScheduleKeyDeletion'>): Promise<{ key: CmkRecord; response: ResponseOf<'ScheduleKeyDeletion'> }>;
  cancelDeletion(keyId: string): Promise<CmkRecord>;
  /** Resolves the key (NotFoundException first, as AWS answers), then refuses what a custom key store cannot do. */
  refuseUnsupported(keyId: string, why: string): Promise<never>;
}

/** CloudTrail's additionalEventData for a CMK: its store, cluster and backing key per HSM (a JSON string, as AWS logs it). */
export function keyAuditFacts(key: Pick<CmkRecord, 'CustomKeyStoreId' | 'CloudHsmClusterId' | 'BackingKeys'>): KeyAuditFacts {
  return {
    customKeyStoreId: key.CustomKeyStoreId,
    clusterId: key.CloudHsmClusterId,
    backingKeys: JSON.stringify(key.BackingKeys.map((b) => ({ hsmId: b.HsmId, backingKeyId: b.BackingKeyId, ...(b.KeyHandle === undefined ? {} : { keyHandle: b.KeyHandle }) }))),
  };
}

const KEY_ID = /^[0-9a-f-]{36}$/;
const keyIdOf = (key: { KeyId: string }): string => key.KeyId;

function storesById(state: Pick<WorkbenchState, 'customKeyStores'>): Map<string, CustomKeyStoreRecord> {
  return new Map(state.customKeyStores.map((s) => [s.CustomKeyStoreId, s]));
}

const storeOf = (state: Pick<WorkbenchState, 'customKeyStores'>, key: Pick<CmkRecord, 'CustomKeyStoreId'>): CustomKeyStoreRecord | undefined =>
  state.customKeyStores.find((s) => s.CustomKeyStoreId === key.CustomKeyStoreId);

/**
 * AWS's KMSInvalidStateException for a key pending deletion or still being created: Enable, Disable,
 * ScheduleKeyDeletion, CreateAlias, UpdateAlias, TagResource and UntagResource refuse both.
 */
export function refuseSettling(key: Pick<CmkRecord, 'Arn' | 'KeyState'>): WorkbenchError | undefined {
  if (key.KeyState === 'PendingDeletion') return new WorkbenchError('KMSInvalidStateException', `${key.Arn} is pending deletion.`, { details: { keyId: key.Arn, keyState: key.KeyState } });
  if (key.KeyState === 'Creating') return new WorkbenchError('KMSInvalidStateException', `${key.Arn} is being created: its key material is not yet on every HSM.`, { details: { keyId: key.Arn, keyState: key.KeyState } });
  return undefined;
}

/** CancelKeyDeletion's refusal in every state but PendingDeletion (AWS's message, without a full stop). */
function refuseNotPending(key: Pick<CmkRecord, 'Arn' | 'KeyState'>): WorkbenchError | undefined {
  if (key.KeyState === 'PendingDeletion') return undefined;
  return new WorkbenchError('KMSInvalidStateException', `${key.Arn} is not pending deletion`, { details: { keyId: key.Arn, keyState: key.KeyState } });
}

/**
 * DescribeKey, ListKeys, DescribeKeys and the state changes of AWS's key-state matrix (reference §1). The
 * stored state is what changes: a key whose store is not CONNECTED shows Unavailable (key-metadata.ts) yet
 * accepts Enable/Disable, which take effect when it is connected again, and its deletion stays schedulable
 * and cancellable. Each change is one short transaction, no HSM call: scheduling and cancelling touch no material.
 */
export function createKeyLifecycleService(deps: KeysDeps): KeyLifecycleService {
  const { state, partition } = deps;

  /** Resolves the key in one transaction, lets `refuse` judge its stored state, and applies `change` to it. */
  function transition(keyId: string, refuse: (key: CmkRecord) => WorkbenchError | undefined, change: (key: CmkRecord) => void): Promise<CmkRecord> {
    return state.transact((s) => {
      const key = resolveKey(s, keyId, partition);
      const refusal = refuse(key);
      if (refusal !== undefined) throw refusal;
      change(key);
      s.keys.put(key);
      return key;
    });
  }

  return {
    async describe(keyId) {
      const s = await state.read();
      const key = resolveKey(s, keyId, partition);
      return toKeyMetadata(key, storeOf(s, key));
    },

    async list(request) {
      const after = markerAfter(request.Marker, 'ListKeys', KEY_ID);
      const s = await state.read();
      const keys = [...s.keys.values()].map((k) => ({ KeyId: k.KeyId, KeyArn: k.Arn })).sort(byName(keyIdOf));
      const { page: chosen, ...rest } = pageAfter(keys, keyIdOf, after, request.Limit ?? LIST_KEYS_DEFAULT_LIMIT);
      return { Keys: chosen, ...rest };
    },

    async describeAll(request) {
      const after = markerAfter(request.Marker, 'DescribeKeys', KEY_ID);
      const s = await state.read();
      if (request.CustomKeyStoreId !== undefined) findKeyStore(s, request.CustomKeyStoreId);
      // One pass over the aliases and one over the keys: no per-key scan, so 10,000 keys cost one sort.
      const aliasNames = new Map<string, string[]>();
      for (const alias of s.aliases.values()) {
        const names = aliasNames.get(alias.TargetKeyId);
        if (names === undefined) aliasNames.set(alias.TargetKeyId, [alias.AliasName]);
        else names.push(alias.AliasName);
      }
      const stores = storesById(s);
      const keys = [...s.keys.values()].filter((k) => request.CustomKeyStoreId === undefined || k.CustomKeyStoreId === request.CustomKeyStoreId).sort(byName(keyIdOf));
      const { page: chosen, ...rest } = pageAfter(keys, keyIdOf, after, request.Limit ?? DESCRIBE_KEYS_DEFAULT_LIMIT);
      const summaries: KeySummary[] = chosen.map((k) => ({ ...toKeyMetadata(k, stores.get(k.CustomKeyStoreId)), AliasNames: (aliasNames.get(k.KeyId) ?? []).sort() }));
      return { Keys: summaries, ...rest };
    },

    enable: (keyId) =>
      transition(keyId, refuseSettling, (key) => {
        key.KeyState = 'Enabled';
      }),

    disable: (keyId) =>
      transition(keyId, refuseSettling, (key) => {
        key.KeyState = 'Disabled';
      }),

    async scheduleDeletion(request) {
      const days = request.PendingWindowInDays;
      const deletionDate = new Date(deps.clock().getTime() + days * DAY_MS).toISOString();
      const key = await transition(request.KeyId, refuseSettling, (k) => {
        k.KeyState = 'PendingDeletion';
        k.DeletionDate = deletionDate;
        k.PendingDeletionWindowInDays = days;
      });
      return { key, response: { KeyId: key.Arn, DeletionDate: deletionDate, KeyState: 'PendingDeletion', PendingWindowInDays: days } };
    },

    cancelDeletion: (keyId) =>
      transition(keyId, refuseNotPending, (key) => {
        // AWS leaves a key whose deletion is cancelled Disabled: the admin enables it on purpose.
        key.KeyState = 'Disabled';
        delete key.DeletionDate;
        delete key.PendingDeletionWindowInDays;
      }),

    async refuseUnsupported(keyId, why) {
      resolveKey(await state.read(), keyId, partition);
      throw new WorkbenchError('UnsupportedOperationException', why);
    },
  };
}
