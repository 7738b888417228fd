import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ResponseOf } from '../../../shared/index';
import { useCall } from '../composables/use-call';
import { workbench } from '../lib/workbench';

export type WorkbenchInfo = ResponseOf<'DescribeWorkbench'>;

/** The workbench itself: version, state directory, PKCS#11 modules found on this machine. */
export const useWorkbenchStore = defineStore('workbench', () => {
  const info = ref<WorkbenchInfo | null>(null);
  const describe = useCall(() => workbench().system.describe({}), { clearError: 'settled' });

  async function load(): Promise<void> {
    const value = await describe.run();
    if (value !== undefined) info.value = value;
  }

  return { info, error: describe.error, load };
});
