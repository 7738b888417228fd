import { defineStore } from 'pinia';
import { markRaw, ref, shallowRef } from 'vue';
import type { KeySummary } from '../../../shared/contract/keys';
import type { ErrorInfo } from '../../../shared/index';
import { workbench } from '../lib/workbench';

/** DescribeKeys' largest page: 10,000 keys come in one call. */
export const DESCRIBE_KEYS_PAGE = 10_000;

/**
 * Mirror of the CMKs for the Keys page. The rows are raw (shallowRef + markRaw): 10,000 deep-reactive KeyMetadata
 * objects would cost proxies on every read while scrolling, and a reload replaces the whole list anyway.
 */
export const useKeysStore = defineStore('keys', () => {
  const keys = shallowRef<readonly KeySummary[]>(markRaw([]));
  const loaded = ref(false);
  const loading = ref(false);
  const error = ref<ErrorInfo | null>(null);
  let generation = 0;

  /** Follows NextMarker to the end; only the latest load's answer lands, so a slow earlier one never overwrites it. */
  async function load(): Promise<void> {
    const mine = ++generation;
    loading.value = true;
    const all: KeySummary[] = [];
    let marker: string | undefined;
    for (;;) {
      const result = await workbench().keys.describeAll(marker === undefined ? { Limit: DESCRIBE_KEYS_PAGE } : { Limit: DESCRIBE_KEYS_PAGE, Marker: marker });
      if (mine !== generation) return;
      if (!result.ok) {
        error.value = result.error;
        loading.value = false;
        return;
      }
      all.push(...result.value.Keys.map((key) => markRaw(key)));
      if (!result.value.Truncated || result.value.NextMarker === undefined) break;
      marker = result.value.NextMarker;
    }
    keys.value = markRaw(all);
    error.value = null;
    loaded.value = true;
    loading.value = false;
  }

  // A key's state, alias or tag changed here or (no ids) in another process: the list is read again.
  workbench().events.on('StateChanged', ({ Resource, Ids }) => {
    if (Resource === 'keys' || Resource === 'aliases' || Resource === 'customKeyStores' || Ids === undefined) void load();
  });

  return { keys, loaded, loading, error, load };
});
