import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkbenchEvent } from '../../shared/contract/events';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { ok } from '../fixtures/outcomes';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';

describe('the core says when the clusters change', () => {
  let hsm: SoftHsmCluster;
  let wb: TestWorkbench;
  const seen: WorkbenchEvent[] = [];

  beforeAll(async () => {
    hsm = await createSoftHsmCluster({ tokens: 1, labelPrefix: 'evt' });
    wb = await createTestWorkbench();
    wb.core.onEvent((event) => seen.push(event));
  });
  afterAll(async () => {
    await wb?.dispose();
    await hsm?.cleanup();
  });

  it('after a create and a delete, naming the cluster; not for reads or refusals', async () => {
    const serial = hsm.tokens[0]?.serial ?? '';
    const request = { ClusterName: 'evented', ModulePath: hsm.modulePath, ModuleEnvironment: hsm.env, Hsms: [{ TokenSerial: serial }] };
    const { Cluster } = ok(await wb.call('CreateCluster', request));
    expect(seen).toEqual([{ name: 'StateChanged', payload: { Resource: 'clusters', Ids: [Cluster.ClusterId] } }]);

    ok(await wb.call('DescribeClusters', {}));
    expect((await wb.call('CreateCluster', request)).ok, 'the name is taken').toBe(false);
    expect((await wb.call('DeleteCluster', { ClusterId: 'cluster-zzzzzzzzzzz' })).ok, 'no such cluster').toBe(false);
    expect(seen).toHaveLength(1);

    ok(await wb.call('DeleteCluster', { ClusterId: Cluster.ClusterId }));
    expect(seen.slice(1)).toEqual([{ name: 'StateChanged', payload: { Resource: 'clusters', Ids: [Cluster.ClusterId] } }]);
  });
});
