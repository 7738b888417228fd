import { expect, saveScreenshot, test } from './fixtures';

// Test-only token PINs for throwaway SoftHSM tokens made per test.
const SO_PIN = 'so-e2e-kmsuser-1234';
const KMSUSER_PASSWORD = 'kmsuser-e2e-New5';

test.describe('kmsuser setup and the cluster page', () => {
  test('creates kmsuser on both tokens of a real cluster, shows each HSM’s outcome, then the ledger on the cluster page', async ({ app, page, softHsm, workbench, axe }, testInfo) => {
    // Five axe scans in two themes each, on real tokens: longer than the default minute on a shared machine.
    test.setTimeout(180_000);
    // Tokens without a user PIN: the kmsuser does not exist yet.
    const hsm = await softHsm({ tokens: 2, userPin: null, soPin: SO_PIN, labelPrefix: 'e2e-kmsuser' });
    const created = await workbench.call('CreateCluster', {
      ClusterName: 'kmsuser-e2e',
      ModulePath: hsm.modulePath,
      ModuleEnvironment: hsm.env,
      Hsms: hsm.tokens.map((t) => ({ TokenSerial: t.serial })),
    });
    if (!created.ok) throw new Error(`CreateCluster failed: ${created.error.message}`);
    const clusterId = created.value.Cluster.ClusterId;

    await app.open(`#/clusters/${clusterId}`);
    const members = page.getByRole('table', { name: 'HSMs of kmsuser-e2e' });
    await expect(members.getByText('missing', { exact: true })).toHaveCount(2);
    await expect(page.getByText('Uninitialized')).toBeVisible();
    await saveScreenshot(page, testInfo, 'cluster-page-before-kmsuser');
    await axe.expectClean('the cluster page (no kmsuser)');

    await page.getByRole('button', { name: 'kmsuser setup' }).click();
    await expect(page.getByRole('heading', { level: 1, name: /kmsuser setup/ })).toBeVisible();
    await expect(page.getByText('kmsuser exists on 0 of 2 HSMs.')).toBeVisible();
    await expect(page.getByRole('radio', { name: /Create kmsuser/ })).toBeChecked();
    const password = page.getByLabel('New kmsuser password', { exact: true });
    await expect(page.getByLabel('SO PIN')).toHaveAttribute('type', 'password');
    await expect(password).toHaveAttribute('type', 'password');

    // Two different passwords are refused before anything is sent.
    await page.getByLabel('SO PIN').fill(SO_PIN);
    await password.fill(KMSUSER_PASSWORD);
    await page.getByLabel('The same password again').fill(`${KMSUSER_PASSWORD}x`);
    await page.getByRole('button', { name: 'Create kmsuser' }).click();
    await expect(page.getByRole('alert')).toContainText('The two passwords differ');
    await axe.expectClean('the kmsuser setup (passwords differ)');

    await page.getByLabel('SO PIN').fill(SO_PIN);
    await password.fill(KMSUSER_PASSWORD);
    await page.getByLabel('The same password again').fill(KMSUSER_PASSWORD);
    await page.getByRole('button', { name: 'Create kmsuser' }).click();
    await expect(page.getByText('Every HSM has the new kmsuser password.')).toBeVisible();
    await expect(page.getByText('has the new password')).toHaveCount(2);
    await expect(page.getByRole('radio', { name: /Set a new kmsuser password/ })).toBeChecked();
    // Nothing typed is kept: the fields are empty, and no Pinia store holds either secret.
    await expect(page.getByLabel('SO PIN')).toHaveValue('');
    const pinia = await app.piniaState();
    expect(pinia).not.toContain(KMSUSER_PASSWORD);
    expect(pinia).not.toContain(SO_PIN);
    await saveScreenshot(page, testInfo, 'kmsuser-setup-done');
    await axe.expectClean('the kmsuser setup (done)');

    await page.getByRole('button', { name: 'Back to the cluster' }).click();
    await expect(members.getByText('present', { exact: true })).toHaveCount(2);
    await saveScreenshot(page, testInfo, 'cluster-page-ledger');
  });

  test('the key stores page, empty, leads to the connection wizard', async ({ app, page, axe }, testInfo) => {
    await app.navigate('Key stores');
    await expect(page.getByRole('heading', { level: 1, name: 'Key stores' })).toBeVisible();
    await saveScreenshot(page, testInfo, 'key-stores-page');
    await axe.expectClean('the key stores page');
    await page.getByRole('button', { name: /Connect a key store|Create and connect a key store/ }).first().click();
    await expect(page.getByRole('heading', { level: 1, name: /Connect a key store/ })).toBeVisible();
    await expect(page.getByRole('heading', { level: 2, name: '1. Key store' })).toBeFocused();
    await saveScreenshot(page, testInfo, 'key-store-wizard-store-step');
    await axe.expectClean('the connection wizard, step 1');
  });
});
