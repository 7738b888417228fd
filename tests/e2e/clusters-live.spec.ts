import { expect, test } from './fixtures';

test.describe('the clusters page stays current', () => {
  test('shows a cluster created, then deleted, through another path (the node-side core, as the CLI would) without a reload', async ({
    app,
    page,
    clustersPage,
    softHsm,
    workbench,
  }) => {
    const hsm = await softHsm({ tokens: 1, labelPrefix: 'e2e-live' });
    const token = hsm.tokens[0];
    if (!token) throw new Error('the SoftHSM fixture made no token');
    await expect(app.main.getByRole('heading', { name: 'No clusters yet' })).toBeVisible();
    // A reload (or a navigation) would wipe this: the page must change in place.
    await page.evaluate('globalThis.__sameDocument = true');

    const created = await workbench.call('CreateCluster', { ClusterName: 'made-elsewhere', ModulePath: hsm.modulePath, ModuleEnvironment: hsm.env, Hsms: [{ TokenSerial: token.serial }] });
    if (!created.ok) throw new Error(`CreateCluster failed: ${created.error.message}`);
    await expect(clustersPage.row('made-elsewhere')).toContainText(created.value.Cluster.ClusterId);

    const deleted = await workbench.call('DeleteCluster', { ClusterId: created.value.Cluster.ClusterId });
    expect(deleted.ok).toBe(true);
    await expect(clustersPage.row('made-elsewhere')).toHaveCount(0);
    await expect(app.main.getByRole('heading', { name: 'No clusters yet' })).toBeVisible();

    expect(await page.evaluate('globalThis.__sameDocument'), 'the page was not reloaded').toBe(true);
  });
});
