import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ResponseOf } from '../../../shared/index';
import { useCall } from '../composables/use-call';
import { workbench } from '../lib/workbench';

export type WorkbenchInfo = ResponseOf<'DescribeWorkbench'>;
export type SecretStoreInfo = ResponseOf<'DescribeSecretStore'>;

/** The workbench itself: version, state directory, PKCS#11 modules found on this machine, where secrets are kept. */
export const useWorkbenchStore = defineStore('workbench', () => {
  const info = ref<WorkbenchInfo | null>(null);
  const describe = useCall(() => workbench().system.describe({}), { clearError: 'settled' });
  const secretStore = ref<SecretStoreInfo | null>(null);
  const describeSecretStore = useCall(() => workbench().system.describeSecretStore({}));

  async function load(): Promise<void> {
    const value = await describe.run();
    if (value !== undefined) info.value = value;
  }

  /** Asked once per window: the protector is chosen when the state directory's vault is made and then stays. */
  async function loadSecretStore(): Promise<void> {
    if (secretStore.value !== null || describeSecretStore.loading.value) return;
    const value = await describeSecretStore.run();
    if (value !== undefined) secretStore.value = value;
  }

  return { info, error: describe.error, load, secretStore, secretStoreError: describeSecretStore.error, loadSecretStore };
});
