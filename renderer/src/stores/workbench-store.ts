import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ErrorInfo, ResponseOf } from '../../../shared/index';
import { workbench } from '../lib/workbench';

export type WorkbenchInfo = ResponseOf<'DescribeWorkbench'>;

/** The workbench itself: version, state directory, PKCS#11 modules found on this machine. */
export const useWorkbenchStore = defineStore('workbench', () => {
  const info = ref<WorkbenchInfo | null>(null);
  const error = ref<ErrorInfo | null>(null);

  async function load(): Promise<void> {
    const result = await workbench().system.describe({});
    if (result.ok) {
      info.value = result.value;
      error.value = null;
    } else {
      error.value = result.error;
    }
  }

  return { info, error, load };
});
