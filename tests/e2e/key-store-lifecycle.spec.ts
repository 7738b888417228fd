import { expect, saveScreenshot, test } from './fixtures';

// Test-only token PINs for throwaway SoftHSM tokens made per test.
const SO_PIN = 'so-e2e-lifecycle-1234';
const FIRST_PASSWORD = 'kmsuser-e2e-First1';
const STORE_PASSWORD = 'kmsuser-e2e-Store2';

test.describe('the key-store lifecycle in the GUI', () => {
  test('cluster → initialize with the demo CA → kmsuser setup → create store → pre-flight → connect → disconnect, on real SoftHSM tokens', async (
    { app, page, softHsm, workbench, axe },
    testInfo,
  ) => {
    test.setTimeout(300_000);
    const hsm = await softHsm({ tokens: 2, userPin: FIRST_PASSWORD, soPin: SO_PIN, labelPrefix: 'e2e-cks' });
    const created = await workbench.call('CreateCluster', {
      ClusterName: 'lifecycle-e2e',
      ModulePath: hsm.modulePath,
      ModuleEnvironment: hsm.env,
      Hsms: hsm.tokens.map((t) => ({ TokenSerial: t.serial })),
    });
    if (!created.ok) throw new Error(`CreateCluster failed: ${created.error.message}`);
    const clusterId = created.value.Cluster.ClusterId;

    // Initialization, with the demo CA labelled as such.
    await app.open(`#/clusters/${clusterId}`);
    await page.getByRole('button', { name: 'Initialize the cluster' }).click();
    await expect(page.getByRole('heading', { level: 2, name: '1. Initialize' })).toBeFocused();
    await page.getByRole('radio', { name: /throwaway local CA/ }).check();
    await expect(page.getByRole('note')).toContainText('demo CA — not for production');
    await page.getByLabel('SO PIN').fill(SO_PIN);
    await page.getByLabel('kmsuser password').fill(FIRST_PASSWORD);
    await saveScreenshot(page, testInfo, 'initialize-demo-ca');
    await axe.expectClean('cluster initialization, step 1 (demo CA chosen)');
    await page.getByRole('button', { name: 'Initialize with the demo CA' }).click();
    await expect(page.getByRole('heading', { level: 2, name: '3. Active' })).toBeVisible({ timeout: 60_000 });
    await expect(page.getByText('demo CA — not for production').first()).toBeVisible();
    await saveScreenshot(page, testInfo, 'initialize-active');

    // kmsuser: a new password on both HSMs, as the SO.
    await app.open(`#/clusters/${clusterId}/kmsuser`);
    await expect(page.getByRole('radio', { name: /Set a new kmsuser password/ })).toBeChecked();
    await page.getByLabel('SO PIN').fill(SO_PIN);
    await page.getByLabel('New kmsuser password', { exact: true }).fill(STORE_PASSWORD);
    await page.getByLabel('The same password again').fill(STORE_PASSWORD);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await expect(page.getByText('Every HSM has the new kmsuser password.')).toBeVisible({ timeout: 30_000 });

    // Create the store in the connection wizard; the pre-flight runs with the password typed once.
    const described = await workbench.call('DescribeClusters', { ClusterIds: [clusterId] });
    if (!described.ok) throw new Error(described.error.message);
    const trustAnchor = described.value.Clusters[0]?.Certificates.TrustAnchorCertificate;
    if (!trustAnchor) throw new Error('the initialized cluster has no trust anchor');
    await app.open('#/key-stores');
    await expect(page.getByRole('heading', { name: 'No key stores yet' })).toBeVisible();
    await saveScreenshot(page, testInfo, 'key-stores-empty');
    await page.getByRole('button', { name: 'Create and connect a key store' }).click();
    await page.getByLabel('Key store name').fill('ExampleKeyStore');
    await page.getByLabel('Cluster').selectOption(clusterId);
    await page.getByLabel('Trust anchor certificate').fill(trustAnchor);
    await page.getByLabel('kmsuser password', { exact: true }).fill(STORE_PASSWORD);
    await page.getByLabel('The same password again').fill(STORE_PASSWORD);
    // No password is stored yet, so no secret store exists: the field says the first one decides where its key goes.
    await expect(page.getByText('Where it will be kept:')).toBeVisible();
    await expect(page.getByLabel('kmsuser password', { exact: true })).toHaveAccessibleDescription(/Where it will be kept: No kmsuser password is stored yet/);
    await saveScreenshot(page, testInfo, 'create-store');
    await axe.expectClean('connection wizard, new key store filled in (secret store not made yet)');
    await page.getByRole('button', { name: 'Create key store and run the pre-flight' }).click();
    await expect(page.getByRole('heading', { level: 2, name: '2. Pre-flight' })).toBeVisible({ timeout: 30_000 });
    const connect = page.getByRole('button', { name: /^Connect( anyway)?$/ });
    await expect(connect).toBeVisible({ timeout: 60_000 });
    await saveScreenshot(page, testInfo, 'preflight');
    await axe.expectClean('connection wizard, pre-flight done');
    expect(await app.piniaState()).not.toContain(STORE_PASSWORD);

    await connect.click();
    await expect(page.getByText(/^Connected: the workbench holds a kmsuser session/)).toBeVisible({ timeout: 60_000 });
    await expect(page.getByRole('list', { name: 'States since Connect' })).toContainText('Connected');
    await saveScreenshot(page, testInfo, 'connected');
    await axe.expectClean('connection wizard, connected');

    await page.getByRole('button', { name: 'Disconnect', exact: true }).click();
    await expect(page.getByRole('status').filter({ hasText: 'is DISCONNECTED' })).toBeVisible({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Back to key stores' }).click();
    const row = page.getByRole('table', { name: 'Key stores' }).getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'ExampleKeyStore' }) });
    await expect(row).toContainText('Disconnected');
    await saveScreenshot(page, testInfo, 'key-stores-disconnected');
    await axe.expectClean('the key stores page with a disconnected store');

    // Telling the store a new password says the same about where it will be kept.
    await row.getByRole('button', { name: 'Update password ExampleKeyStore' }).click();
    const dialog = page.getByRole('dialog', { name: 'Update the password of “ExampleKeyStore”' });
    await expect(dialog.getByText('Not protected:')).toBeVisible();
    await expect(dialog.getByLabel('kmsuser password', { exact: true })).toHaveAccessibleDescription(/Not protected: No OS keyring answered/);
    await saveScreenshot(page, testInfo, 'update-password');
    await axe.expectClean('the key stores page, update password dialog');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog).toBeHidden();

    // The wizard opened without a store lists the existing ones to pick from (the pick list shared with the key wizard).
    await page.getByRole('button', { name: 'Connect a key store' }).click();
    await expect(page.getByRole('heading', { level: 2, name: '1. Key store' })).toBeVisible();
    await page.getByRole('radio', { name: /ExampleKeyStore/ }).check();
    await expect(page.getByRole('radio', { name: /ExampleKeyStore/ })).toBeChecked();
    await saveScreenshot(page, testInfo, 'store-step-pick');
    await axe.expectClean('connection wizard, an existing key store picked');
  });
});
