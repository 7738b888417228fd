import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { ClusterInfo, CreateClusterRequest, RequestOf, ResponseOf, Result } from '../../../shared/index';
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

  /** A cluster main answered with replaces the mirrored one (or joins the list). */
  function put(cluster: ClusterInfo): void {
    const index = clusters.value.findIndex((c) => c.ClusterId === cluster.ClusterId);
    clusters.value = index === -1 ? [...clusters.value, cluster] : clusters.value.map((c, i) => (i === index ? cluster : c));
  }

  async function create(request: CreateClusterRequest): Promise<Result<ClusterInfo>> {
    const result = await workbench().clusters.create(request);
    if (!result.ok) return result;
    put(result.value.Cluster);
    return { ok: true, value: result.value.Cluster };
  }

  /** The SO PIN and kmsuser password go into the request and nowhere else. */
  async function initialize(request: RequestOf<'InitializeCluster'>): Promise<Result<ResponseOf<'InitializeCluster'>>> {
    const result = await workbench().clusters.initialize(request);
    if (result.ok) put(result.value.Cluster);
    return result;
  }

  /** The SO PIN goes into the request and nowhere else. */
  async function installCertificate(request: RequestOf<'InstallClusterCertificate'>): Promise<Result<ClusterInfo>> {
    const result = await workbench().clusters.installCertificate(request);
    if (!result.ok) return result;
    put(result.value.Cluster);
    return { ok: true, value: result.value.Cluster };
  }

  /** The refusal (e.g. CloudHsmClusterInUseException) comes back for the caller to show. */
  async function remove(clusterId: string): Promise<Result<ClusterInfo>> {
    const result = await workbench().clusters.delete({ ClusterId: clusterId });
    if (!result.ok) return result;
    clusters.value = clusters.value.filter((c) => c.ClusterId !== clusterId);
    return { ok: true, value: result.value.Cluster };
  }

  return { clusters, loaded, loading: describe.loading, error: describe.error, load, byId, create, initialize, installCertificate, remove };
});
