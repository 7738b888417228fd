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
  State: 'UNINITIALIZED',
  Certificates: { ClusterCsr: null, ClusterCertificate: null, TrustAnchorCertificate: null, DemoCa: false },
};

describe('the clusters store', () => {
  let router: PushRouter;
  let inMain: ClusterInfo[];
  const asked: OperationName[] = [];
  /** When set, each describe waits for the test to release it, newest first or last as the test chooses. */
  let held: Array<() => void> | undefined;

  beforeEach(() => {
    setActivePinia(createPinia());
    router = createPushRouter();
    inMain = [];
    asked.length = 0;
    held = undefined;
    const invoke = async (operation: OperationName): Promise<Result<unknown>> => {
      asked.push(operation);
      const snapshot = [...inMain];
      if (held) await new Promise<void>((release) => held?.push(release));
      return { ok: true, value: { Clusters: snapshot } };
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

  it('lets a load overtaken by an event’s reload resolve only with the fresher list (the Checks page looks its cluster up next)', async () => {
    held = [];
    const store = useClustersStore();
    // What the Checks page sees the moment its load resolves.
    const seenWhenOpened = store.load().then(() => ({ loaded: store.loaded, found: store.byId(elsewhere.ClusterId)?.ClusterName }));
    inMain = [elsewhere];
    router.deliverEvent('StateChanged', { Resource: 'clusters', Ids: [elsewhere.ClusterId] });
    await expect.poll(() => held?.length).toBe(2);
    const [releaseOpening, releaseReload] = held;
    releaseOpening?.();
    await new Promise((resolve) => setTimeout(resolve, 10));
    releaseReload?.();
    expect(await seenWhenOpened).toEqual({ loaded: true, found: 'made-by-the-cli' });
  });
});
