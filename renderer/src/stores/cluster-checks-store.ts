import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { CheckResult, ClusterCheckReport, ErrorInfo } from '../../../shared/index';
import { newCallId, workbench } from '../lib/workbench';

/** One run of clusters.check: live progress, the finished checks as they arrive, then the report. */
export const useClusterChecksStore = defineStore('clusterChecks', () => {
  const running = ref(false);
  const callId = ref<string | null>(null);
  const completed = ref(0);
  const total = ref(0);
  const arrived = shallowRef<CheckResult[]>([]);
  const report = shallowRef<ClusterCheckReport | null>(null);
  const error = ref<ErrorInfo | null>(null);
  const cancelling = ref(false);

  const latest = computed((): CheckResult | undefined => arrived.value[arrived.value.length - 1]);

  function reset(): void {
    completed.value = 0;
    total.value = 0;
    arrived.value = [];
    report.value = null;
    error.value = null;
  }

  /**
   * The kmsuser password is a parameter, not state: it goes straight into the request and
   * is never kept in this store, logged or persisted.
   */
  async function run(clusterId: string, kmsuserPassword: string | undefined): Promise<boolean> {
    reset();
    running.value = true;
    cancelling.value = false;
    const id = newCallId('checks');
    callId.value = id;
    try {
      const request = kmsuserPassword === undefined ? { ClusterId: clusterId } : { ClusterId: clusterId, KmsuserPassword: kmsuserPassword };
      const result = await workbench().clusters.check(request, {
        callId: id,
        onProgress: (progress) => {
          completed.value = progress.Completed;
          total.value = progress.Total;
          arrived.value = [...arrived.value, progress.Check];
        },
      });
      if (!result.ok) {
        error.value = result.error;
        return false;
      }
      report.value = result.value.Report;
      completed.value = result.value.Report.Checks.length;
      total.value = result.value.Report.Checks.length;
      return true;
    } finally {
      running.value = false;
      callId.value = null;
    }
  }

  async function cancel(): Promise<void> {
    if (callId.value === null) return;
    cancelling.value = true;
    const result = await workbench().system.cancel({ CallId: callId.value });
    if (!result.ok) error.value = result.error;
  }

  return { running, callId, completed, total, arrived, latest, report, error, cancelling, reset, run, cancel };
});
