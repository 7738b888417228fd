import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWorkbenchApi, type ClusterInfo, type OperationName, type Result } from '../../../shared/index';
import { createPushRouter, type PushRouter } from '../../../shared/push-router';
import { useClustersStore } from './clusters-store';

const elsewhere: ClusterInfo = {
  ClusterId: 'cluster-abcdefghijk',
  ClusterName: 'made-by-the-cli',
  ModulePath: '/usr/lib/softhsm/libsofthsm2.so',
  ModuleEnvironment: {},
  LoginFormat: 'password',
  Hsms: [],
  CreateTimestamp: '2026-01-01T00:00:00Z',
  CustomKeyStoreId: null,
};

describe('the clusters store', () => {
  let router: PushRouter;
  let inMain: ClusterInfo[];
  const asked: OperationName[] = [];

  beforeEach(() => {
    setActivePinia(createPinia());
    router = createPushRouter();
    inMain = [];
    asked.length = 0;
    const invoke = async (operation: OperationName): Promise<Result<unknown>> => {
      asked.push(operation);
      return { ok: true, value: { Clusters: [...inMain] } };
    };
    Object.assign(globalThis, { window: { workbench: createWorkbenchApi({ invoke, onProgress: router.onProgress, onEvent: router.onEvent }) } });
  });

  afterEach(() => {
    Reflect.deleteProperty(globalThis, 'window');
  });

  it('reloads when main says clusters changed elsewhere, and only then', async () => {
    const store = useClustersStore();
    await store.load();
    expect(store.clusters).toEqual([]);

    inMain = [elsewhere];
    router.deliverEvent('StateChanged', { Resource: 'clusters', Ids: [elsewhere.ClusterId] });
    await expect.poll(() => store.clusters.map((c) => c.ClusterName)).toEqual(['made-by-the-cli']);
    expect(asked).toEqual(['DescribeClusters', 'DescribeClusters']);

    router.deliverEvent('StateChanged', { Resource: 'somewhere-else' });
    await Promise.resolve();
    expect(asked).toHaveLength(2);
  });
});
