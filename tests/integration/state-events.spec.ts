import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkbenchEvent } from '../../shared/contract/events';
import type { RequestOf } from '../../shared/contract/operations';
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

describe('a GUI core follows changes another process makes to the state file', () => {
  let hsm: SoftHsmCluster;
  let cli: TestWorkbench;
  let gui: TestWorkbench;
  const seen: WorkbenchEvent[] = [];

  beforeAll(async () => {
    hsm = await createSoftHsmCluster({ tokens: 2, labelPrefix: 'watch' });
    cli = await createTestWorkbench();
    // Its own core over the same directory, as the GUI beside a CLI run.
    gui = await createTestWorkbench({ stateDir: cli.stateDir, watchState: true });
    gui.core.onEvent((event) => seen.push(event));
  });
  afterAll(async () => {
    await gui?.dispose();
    await cli?.dispose();
    await hsm?.cleanup();
  });

  async function eventually(count: number): Promise<void> {
    for (let waited = 0; seen.length < count && waited < 5_000; waited += 25) await new Promise((r) => setTimeout(r, 25));
  }

  it("says StateChanged, without ids, for the other core's create; its own create is said once, with its id", async () => {
    const request = (name: string, serial: string): RequestOf<'CreateCluster'> => ({ ClusterName: name, ModulePath: hsm.modulePath, ModuleEnvironment: hsm.env, Hsms: [{ TokenSerial: serial }] });
    ok(await cli.call('CreateCluster', request('from-the-cli', hsm.tokens[0]?.serial ?? '')));
    await eventually(1);
    expect(seen).toEqual([{ name: 'StateChanged', payload: { Resource: 'clusters' } }]);

    const { Cluster } = ok(await gui.call('CreateCluster', request('from-the-gui', hsm.tokens[1]?.serial ?? '')));
    // Long enough for the watcher to have looked at its own write, which it must not report.
    await new Promise((r) => setTimeout(r, 500));
    expect(seen.slice(1)).toEqual([{ name: 'StateChanged', payload: { Resource: 'clusters', Ids: [Cluster.ClusterId] } }]);
  });
});
