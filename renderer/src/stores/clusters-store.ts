import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ClusterInfo, CreateClusterRequest, ErrorInfo, Result } from '../../../shared/index';
import { workbench } from '../lib/workbench';

/** Mirror of the clusters in main's state file; every change goes through an invoke, then reloads. */
export const useClustersStore = defineStore('clusters', () => {
  const clusters = ref<ClusterInfo[]>([]);
  const loaded = ref(false);
  const loading = ref(false);
  const error = ref<ErrorInfo | null>(null);

  async function load(): Promise<void> {
    loading.value = true;
    try {
      const result = await workbench().clusters.describe({});
      if (result.ok) {
        clusters.value = result.value.Clusters;
        error.value = null;
        loaded.value = true;
      } else {
        error.value = result.error;
      }
    } finally {
      loading.value = false;
    }
  }

  function byId(clusterId: string): ClusterInfo | undefined {
    return clusters.value.find((c) => c.ClusterId === clusterId);
  }

  async function create(request: CreateClusterRequest): Promise<Result<ClusterInfo>> {
    const result = await workbench().clusters.create(request);
    if (!result.ok) return result;
    clusters.value = [...clusters.value.filter((c) => c.ClusterId !== result.value.Cluster.ClusterId), result.value.Cluster];
    return { ok: true, value: result.value.Cluster };
  }

  /** Returns the refusal (e.g. CloudHsmClusterInUseException) for the caller to show; null when deleted. */
  async function remove(clusterId: string): Promise<ErrorInfo | null> {
    const result = await workbench().clusters.delete({ ClusterId: clusterId });
    if (!result.ok) return result.error;
    clusters.value = clusters.value.filter((c) => c.ClusterId !== clusterId);
    return null;
  }

  return { clusters, loaded, loading, error, load, byId, create, remove };
});
