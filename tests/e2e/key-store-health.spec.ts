import { activateCluster, makeClusterPki } from '../fixtures/cluster-pki';
import { P11KIT_CLIENT_MODULE, startP11KitServer, type P11KitServer } from '../fixtures/p11kit-server';
import { expect, saveScreenshot, test } from './fixtures';

// Test-only kmsuser password of a throwaway SoftHSM token.
const PASSWORD = 'kmsuser-e2e-Health3';

// The GUI's core: it probes the held kmsuser sessions every second (the Electron shell every 2 s).
test.use({ workbenchOptions: { healthProbeMs: 1_000, hsmTimeoutMs: 3_000 } });

test.describe('a connected key store whose network HSM goes away', () => {
  let server: P11KitServer | undefined;
  test.afterEach(async () => {
    await server?.stop();
  });

  test('the Key stores row and the wizard turn FAILED / NETWORK_ERRORS with the explanation, without a click', async ({ app, page, softHsm, workbench, axe }, testInfo) => {
    test.setTimeout(120_000);
    const net = await softHsm({ tokens: 1, userPin: PASSWORD, labelPrefix: 'e2e-net' });
    server = await startP11KitServer({ providerModule: net.modulePath, env: net.env });
    const pki = await makeClusterPki();
    const created = await workbench.call('CreateCluster', {
      ClusterName: 'network-e2e',
      ModulePath: P11KIT_CLIENT_MODULE,
      ModuleEnvironment: server.env,
      Hsms: [{ TokenLabel: 'e2e-net-1' }],
    });
    if (!created.ok) throw new Error(`CreateCluster failed: ${created.error.message}`);
    const clusterId = created.value.Cluster.ClusterId;
    // Initialization has its own E2E (key-store-lifecycle.spec.ts): here the cluster is made ACTIVE in the state file.
    await workbench.editState((s) => activateCluster(s, clusterId, pki));
    const store = await workbench.call('CreateCustomKeyStore', {
      CustomKeyStoreName: 'NetworkKeyStore',
      CloudHsmClusterId: clusterId,
      TrustAnchorCertificate: pki.trustAnchor,
      KeyStorePassword: PASSWORD,
    });
    if (!store.ok) throw new Error(`CreateCustomKeyStore failed: ${store.error.message}`);

    // Connect from the row, as an admin would.
    await app.open('#/key-stores');
    const row = page.getByRole('table', { name: 'Key stores' }).getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'NetworkKeyStore' }) });
    await row.getByRole('button', { name: 'Connect NetworkKeyStore', exact: true }).click();
    await expect(row).toContainText('Connected', { timeout: 30_000 });
    const notice = page.getByRole('status').filter({ hasText: 'Key store “NetworkKeyStore”' });
    await expect(notice).toHaveText('Key store “NetworkKeyStore” is connected.');

    // The server host goes down; nobody touches the page.
    server.kill('SIGKILL');
    await expect(row).toContainText('Failed', { timeout: 10_000 });
    await expect(row).toContainText('NETWORK_ERRORS');
    await expect(row).toContainText('An HSM stopped answering');
    // The page's notice follows too: it does not keep saying the store is connected.
    await expect(notice).toHaveText('Key store “NetworkKeyStore” failed: NETWORK_ERRORS — An HSM stopped answering.');
    await saveScreenshot(page, testInfo, 'key-stores-network-failed');
    await axe.expectClean('the key stores page with a store FAILED by the health probe');

    // Its fix opens the wizard on the failure: the code, what it means and what to do.
    await row.getByRole('button', { name: 'Fix NetworkKeyStore' }).click();
    await expect(page.getByRole('heading', { level: 3, name: /NETWORK_ERRORS/ })).toBeVisible();
    await expect(page.getByRole('status').filter({ hasText: 'NetworkKeyStore FAILED to connect: NETWORK_ERRORS.' })).toBeVisible();
    await saveScreenshot(page, testInfo, 'wizard-network-failed');
    await axe.expectClean('the connection wizard on a store FAILED by the health probe');
  });

  test('the wizard showing a connected store follows it to FAILED on its own', async ({ app, page, softHsm, workbench }, testInfo) => {
    test.setTimeout(120_000);
    const net = await softHsm({ tokens: 1, userPin: PASSWORD, labelPrefix: 'e2e-wiz' });
    server = await startP11KitServer({ providerModule: net.modulePath, env: net.env });
    const pki = await makeClusterPki();
    const created = await workbench.call('CreateCluster', { ClusterName: 'wizard-net-e2e', ModulePath: P11KIT_CLIENT_MODULE, ModuleEnvironment: server.env, Hsms: [{ TokenLabel: 'e2e-wiz-1' }] });
    if (!created.ok) throw new Error(`CreateCluster failed: ${created.error.message}`);
    const clusterId = created.value.Cluster.ClusterId;
    await workbench.editState((s) => activateCluster(s, clusterId, pki));
    const store = await workbench.call('CreateCustomKeyStore', { CustomKeyStoreName: 'WizardKeyStore', CloudHsmClusterId: clusterId, TrustAnchorCertificate: pki.trustAnchor, KeyStorePassword: PASSWORD });
    if (!store.ok) throw new Error(`CreateCustomKeyStore failed: ${store.error.message}`);
    const id = store.value.CustomKeyStoreId;

    await app.open(`#/key-stores/${id}/connect`);
    await page.getByRole('button', { name: 'Connect without the pre-flight' }).click();
    await expect(page.getByText(/^Connected: the workbench holds a kmsuser session/)).toBeVisible({ timeout: 30_000 });
    const members = page.getByRole('table', { name: "Each HSM's part in the connection" });
    await expect(members).toContainText('held by this window');

    server.kill('SIGKILL');
    await expect(page.getByRole('status').filter({ hasText: 'WizardKeyStore FAILED to connect: NETWORK_ERRORS.' })).toBeVisible({ timeout: 10_000 });
    // Each member's part is read again: the session the window held is gone.
    await expect(members).not.toContainText('held by this window');
    await saveScreenshot(page, testInfo, 'wizard-followed-to-failed');
  });
});
