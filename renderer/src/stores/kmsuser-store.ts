import { defineStore } from 'pinia';
import { ref, shallowRef } from 'vue';
import { KmsuserPasswordResponse, type DescribeKmsuserResponse } from '../../../shared/contract/kmsuser';
import type { Result } from '../../../shared/index';
import { useCall } from '../composables/use-call';
import { workbench } from '../lib/workbench';

export type KmsuserAction = 'create' | 'change-password';

/**
 * The kmsuser of one cluster: its ledger (live PIN flags and what the workbench saw) and the setup calls.
 * The SO PIN and the password are parameters of `set`, handed to the request and dropped: never state here.
 */
export const useKmsuserStore = defineStore('kmsuser', () => {
  const status = shallowRef<DescribeKmsuserResponse | null>(null);
  const describe = useCall((clusterId: string) => workbench().kmsuser.describe({ ClusterId: clusterId }), { clearError: 'settled' });
  /** The last setup's per-HSM outcome (on success, or from a failure's details), so the admin knows each HSM's password. */
  const lastResult = shallowRef<KmsuserPasswordResponse | null>(null);
  const setting = ref(false);

  async function load(clusterId: string): Promise<void> {
    // A different cluster's ledger must not show while this one loads.
    if (status.value?.ClusterId !== clusterId) status.value = null;
    const value = await describe.run(clusterId);
    if (value !== undefined) status.value = value;
  }

  function reset(): void {
    status.value = null;
    lastResult.value = null;
    describe.error.value = null;
  }

  /** Creates kmsuser (C_InitPIN as SO on every member) or sets a new password the same way. */
  async function set(action: KmsuserAction, clusterId: string, soPin: string, password: string): Promise<Result<KmsuserPasswordResponse>> {
    setting.value = true;
    lastResult.value = null;
    try {
      const result =
        action === 'create'
          ? await workbench().kmsuser.create({ ClusterId: clusterId, SoPin: soPin, KmsuserPassword: password })
          : await workbench().kmsuser.changePassword({ ClusterId: clusterId, SoPin: soPin, NewKmsuserPassword: password });
      lastResult.value = result.ok ? result.value : partialOutcome(clusterId, result.error.details);
      await load(clusterId);
      return result;
    } finally {
      setting.value = false;
    }
  }

  return { status, loading: describe.loading, error: describe.error, lastResult, setting, load, reset, set };
});

/** A failure part-way carries the per-HSM outcome in `details.Hsms`, in the contract's own shape (checked, not trusted). */
function partialOutcome(clusterId: string, details: Record<string, unknown> | undefined): KmsuserPasswordResponse | null {
  const parsed = KmsuserPasswordResponse.shape.Hsms.safeParse(details?.['Hsms']);
  return parsed.success && parsed.data.length > 0 ? { ClusterId: clusterId, Hsms: parsed.data, CustomKeyStoreId: null } : null;
}
