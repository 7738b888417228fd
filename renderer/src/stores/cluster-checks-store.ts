import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { CheckClusterProgress, CheckResult, ClusterCheckReport } from '../../../shared/index';
import { useLongRun } from '../composables/use-long-run';
import { workbench } from '../lib/workbench';

/** One run of clusters.check: live progress, the finished checks as they arrive, then the report. */
export const useClusterChecksStore = defineStore('clusterChecks', () => {
  const checkRun = useLongRun<CheckClusterProgress>('checks');
  const completed = ref(0);
  const total = ref(0);
  const arrived = shallowRef<CheckResult[]>([]);
  const report = shallowRef<ClusterCheckReport | null>(null);
  /** Whether the last run had a kmsuser password (so its login tests ran). A yes/no, never the password. */
  const loginTested = ref(false);

  const latest = computed((): CheckResult | undefined => arrived.value[arrived.value.length - 1]);

  /** Forgets the current run, including one still going (see useLongRun's reset). */
  function reset(): void {
    checkRun.reset();
    loginTested.value = false;
    completed.value = 0;
    total.value = 0;
    arrived.value = [];
    report.value = null;
  }

  /**
   * The kmsuser password is a parameter, not state: it goes straight into the request and
   * is never kept in this store, logged or persisted.
   */
  async function run(clusterId: string, kmsuserPassword: string | undefined): Promise<boolean> {
    reset();
    loginTested.value = kmsuserPassword !== undefined;
    const request = kmsuserPassword === undefined ? { ClusterId: clusterId } : { ClusterId: clusterId, KmsuserPassword: kmsuserPassword };
    return checkRun.start((options) => workbench().clusters.check(request, options), {
      onProgress: (progress) => {
        completed.value = progress.Completed;
        total.value = progress.Total;
        arrived.value = [...arrived.value, progress.Check];
      },
      onValue: ({ Report }) => {
        report.value = Report;
        completed.value = Report.Checks.length;
        total.value = Report.Checks.length;
      },
    });
  }

  const { running, cancelling, cancelled, error, cancel } = checkRun;
  return { running, completed, total, arrived, latest, report, error, cancelling, cancelled, loginTested, reset, run, cancel };
});
