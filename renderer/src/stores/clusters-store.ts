import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ClusterInfo, CreateClusterRequest, Result } from '../../../shared/index';
import { useCall } from '../composables/use-call';
import { workbench } from '../lib/workbench';

/**
 * Mirror of the clusters in main's state file; every change goes through an invoke, and main's StateChanged
 * events reload it when clusters change elsewhere (another window, the node-side core).
 */
export const useClustersStore = defineStore('clusters', () => {
  const clusters = ref<ClusterInfo[]>([]);
  const loaded = ref(false);
  // A reload keeps the last refusal on screen until it answers: the list is refreshed behind the admin's back.
  const describe = useCall(() => workbench().clusters.describe({}), { clearError: 'settled' });

  async function load(): Promise<void> {
    const value = await describe.run();
    if (value === undefined) return;
    clusters.value = value.Clusters;
    loaded.value = true;
  }

  workbench().events.on('StateChanged', ({ Resource }) => {
    if (Resource === 'clusters') void load();
  });

  function byId(clusterId: string): ClusterInfo | undefined {
    return clusters.value.find((c) => c.ClusterId === clusterId);
  }

  async function create(request: CreateClusterRequest): Promise<Result<ClusterInfo>> {
    const result = await workbench().clusters.create(request);
    if (!result.ok) return result;
    clusters.value = [...clusters.value.filter((c) => c.ClusterId !== result.value.Cluster.ClusterId), result.value.Cluster];
    return { ok: true, value: result.value.Cluster };
  }

  /** The refusal (e.g. CloudHsmClusterInUseException) comes back for the caller to show. */
  async function remove(clusterId: string): Promise<Result<ClusterInfo>> {
    const result = await workbench().clusters.delete({ ClusterId: clusterId });
    if (!result.ok) return result;
    clusters.value = clusters.value.filter((c) => c.ClusterId !== clusterId);
    return { ok: true, value: result.value.Cluster };
  }

  return { clusters, loaded, loading: describe.loading, error: describe.error, load, byId, create, remove };
});
