import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { AliasListEntry, KeyMetadata, Tag } from '../../../shared/contract/keys';
import type { ResponseOf, Result } from '../../../shared/index';
import { useCall } from '../composables/use-call';
import { workbench } from '../lib/workbench';

/** AWS's largest pages: a key has at most 50 aliases and 50 tags, so one page each holds them all. */
const ALIASES_PAGE = 100;
const TAGS_PAGE = 50;

type Empty = ResponseOf<'EnableKey'>;

/**
 * The key the detail page shows: its KeyMetadata, aliases, tags and the key material on each member. Each part loads
 * and fails on its own (aliases and tags are other operations: one refusing leaves the rest on the page). Holds no
 * plaintext: the encrypt/decrypt tool keeps its inputs in the component.
 */
export const useKeyDetailStore = defineStore('keyDetail', () => {
  const keyId = ref<string | null>(null);
  const key = ref<KeyMetadata | null>(null);
  const aliases = ref<AliasListEntry[]>([]);
  const tags = ref<Tag[]>([]);
  const material = ref<ResponseOf<'DescribeKeyMaterial'> | null>(null);

  const describe = useCall((id: string) => workbench().keys.describe({ KeyId: id }), { clearError: 'settled' });
  const listAliases = useCall((id: string) => workbench().aliases.list({ KeyId: id, Limit: ALIASES_PAGE }), { clearError: 'settled' });
  const listTags = useCall((id: string) => workbench().keys.listTags({ KeyId: id, Limit: TAGS_PAGE }), { clearError: 'settled' });
  const describeMaterial = useCall((id: string) => workbench().keys.describeMaterial({ KeyId: id }));
  // Each part's latest call wins (useCall): a slow answer about a key opened before never lands on this one.

  async function loadKey(): Promise<void> {
    const id = keyId.value;
    if (id === null) return;
    const value = await describe.run(id);
    if (value !== undefined) key.value = value.KeyMetadata;
  }

  async function loadAliases(): Promise<void> {
    const id = keyId.value;
    if (id === null) return;
    const value = await listAliases.run(id);
    if (value !== undefined) aliases.value = value.Aliases;
  }

  async function loadTags(): Promise<void> {
    const id = keyId.value;
    if (id === null) return;
    const value = await listTags.run(id);
    if (value !== undefined) tags.value = value.Tags;
  }

  /** Looks on the HSMs (when the store is connected): on opening and when asked, not on every state change. */
  async function loadMaterial(): Promise<void> {
    const id = keyId.value;
    if (id === null) return;
    const value = await describeMaterial.run(id);
    material.value = value ?? null;
  }

  async function open(id: string): Promise<void> {
    if (keyId.value !== id) {
      keyId.value = id;
      key.value = null;
      aliases.value = [];
      tags.value = [];
      material.value = null;
    }
    await Promise.all([loadKey(), loadAliases(), loadTags(), loadMaterial()]);
  }

  // Another window or the CLI (no ids), or this one, changed the key or an alias: read that part again.
  workbench().events.on('StateChanged', ({ Resource, Ids }) => {
    const id = keyId.value;
    if (id === null) return;
    const mine = Ids === undefined || Ids.includes(id);
    if (Resource === 'keys' && mine) void Promise.all([loadKey(), loadTags()]);
    if (Resource === 'aliases' || (Resource === 'keys' && Ids === undefined)) void loadAliases();
    if (Resource === 'customKeyStores') void loadKey();
  });

  async function after<T>(call: Promise<Result<T>>, reload: () => Promise<void>): Promise<Result<T>> {
    const result = await call;
    await reload();
    return result;
  }

  const target = (): string => keyId.value ?? '';

  return {
    keyId,
    key,
    aliases,
    tags,
    material,
    keyError: describe.error,
    aliasesError: listAliases.error,
    tagsError: listTags.error,
    materialError: describeMaterial.error,
    materialLoading: describeMaterial.loading,
    open,
    loadMaterial,
    enable: (): Promise<Result<Empty>> => after(workbench().keys.enable({ KeyId: target() }), loadKey),
    disable: (): Promise<Result<Empty>> => after(workbench().keys.disable({ KeyId: target() }), loadKey),
    scheduleDeletion: (days: number): Promise<Result<ResponseOf<'ScheduleKeyDeletion'>>> =>
      after(workbench().keys.scheduleDeletion({ KeyId: target(), PendingWindowInDays: days }), loadKey),
    cancelDeletion: (): Promise<Result<ResponseOf<'CancelKeyDeletion'>>> => after(workbench().keys.cancelDeletion({ KeyId: target() }), loadKey),
    createAlias: (aliasName: string): Promise<Result<Empty>> => after(workbench().aliases.create({ AliasName: aliasName, TargetKeyId: target() }), loadAliases),
    deleteAlias: (aliasName: string): Promise<Result<Empty>> => after(workbench().aliases.delete({ AliasName: aliasName }), loadAliases),
    tag: (tag: Tag): Promise<Result<Empty>> => after(workbench().keys.tag({ KeyId: target(), Tags: [tag] }), loadTags),
    untag: (tagKey: string): Promise<Result<Empty>> => after(workbench().keys.untag({ KeyId: target(), TagKeys: [tagKey] }), loadTags),
  };
});
