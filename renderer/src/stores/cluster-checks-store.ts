import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import { newCallId, type CheckResult, type ClusterCheckReport, type ErrorInfo } from '../../../shared/index';
import { workbench } from '../lib/workbench';

/** One run of clusters.check: live progress, the finished checks as they arrive, then the report. */
export const useClusterChecksStore = defineStore('clusterChecks', () => {
  const running = ref(false);
  // Private (not returned): only cancel() needs it, and run() uses it to tell its own call from a newer one.
  const callId = ref<string | null>(null);
  const completed = ref(0);
  const total = ref(0);
  const arrived = shallowRef<CheckResult[]>([]);
  const report = shallowRef<ClusterCheckReport | null>(null);
  const error = ref<ErrorInfo | null>(null);
  const cancelling = ref(false);
  /** The admin's own Cancel stopped the last run: a notice, not an error. */
  const cancelled = ref(false);
  /** Whether the last run had a kmsuser password (so its login tests ran). A yes/no, never the password. */
  const loginTested = ref(false);

  const latest = computed((): CheckResult | undefined => arrived.value[arrived.value.length - 1]);

  /**
   * Forgets the current run, including one still going: its late progress and result are then ignored
   * (run() checks the call id). Whoever leaves a running call behind cancels it first.
   */
  function reset(): void {
    running.value = false;
    callId.value = null;
    cancelling.value = false;
    cancelled.value = false;
    loginTested.value = false;
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
    const id = newCallId('checks');
    running.value = true;
    callId.value = id;
    loginTested.value = kmsuserPassword !== undefined;
    // A run the store no longer tracks (reset, or another cluster's page opened) must not write into it.
    const current = (): boolean => callId.value === id;
    try {
      const request = kmsuserPassword === undefined ? { ClusterId: clusterId } : { ClusterId: clusterId, KmsuserPassword: kmsuserPassword };
      const result = await workbench().clusters.check(request, {
        callId: id,
        onProgress: (progress) => {
          if (!current()) return;
          completed.value = progress.Completed;
          total.value = progress.Total;
          arrived.value = [...arrived.value, progress.Check];
        },
      });
      if (!current()) return false;
      if (!result.ok) {
        if (result.error.name === 'OperationCancelledException' && cancelling.value) cancelled.value = true;
        else error.value = result.error;
        return false;
      }
      report.value = result.value.Report;
      completed.value = result.value.Report.Checks.length;
      total.value = result.value.Report.Checks.length;
      return true;
    } finally {
      if (current()) {
        running.value = false;
        callId.value = null;
        cancelling.value = false;
      }
    }
  }

  async function cancel(): Promise<void> {
    const id = callId.value;
    if (id === null) return;
    cancelling.value = true;
    const result = await workbench().system.cancel({ CallId: id });
    if (!result.ok && callId.value === id) error.value = result.error;
  }

  return { running, completed, total, arrived, latest, report, error, cancelling, cancelled, loginTested, reset, run, cancel };
});
