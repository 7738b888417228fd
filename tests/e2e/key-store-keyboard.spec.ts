import { expect, saveScreenshot, test } from './fixtures';

// Test-only token PINs for throwaway SoftHSM tokens made per test.
const SO_PIN = 'so-e2e-kbd-cks-1234';
const FIRST_PASSWORD = 'kmsuser-kbd-First1';
const STORE_PASSWORD = 'kmsuser-kbd-Store2';

/*
 * Every step of the cluster initialization, kmsuser and key-store connection wizards with page.keyboard alone:
 * focus lands on each step's heading, Tab reaches each control, arrows walk the radio groups, Enter submits.
 */
test.describe('keyboard only, the key-store wizards', () => {
  test('initializes a cluster with the demo CA, sets kmsuser, creates a key store, runs its pre-flight, connects and disconnects', async (
    { app, page, softHsm, workbench, keyboard },
    testInfo,
  ) => {
    test.setTimeout(300_000);
    const hsm = await softHsm({ tokens: 2, userPin: FIRST_PASSWORD, soPin: SO_PIN, labelPrefix: 'e2e-kbd-cks' });
    const created = await workbench.call('CreateCluster', {
      ClusterName: 'keyboard-cks',
      ModulePath: hsm.modulePath,
      ModuleEnvironment: hsm.env,
      Hsms: hsm.tokens.map((t) => ({ TokenSerial: t.serial })),
    });
    if (!created.ok) throw new Error(`CreateCluster failed: ${created.error.message}`);
    const clusterId = created.value.Cluster.ClusterId;

    // The cluster page → its initialization wizard.
    await app.open(`#/clusters/${clusterId}`);
    const initialize = page.getByRole('button', { name: 'Initialize the cluster' });
    await keyboard.tabTo(initialize);
    await keyboard.expectVisibleFocus(initialize);
    await keyboard.press('Enter');
    await expect(page.getByRole('heading', { level: 2, name: '1. Initialize' })).toBeFocused();

    // 1. Initialize: the arrow key moves from "my own CA" to the demo CA; type both secrets; Enter submits.
    const ownCa = page.getByRole('radio', { name: /My own CA/ });
    const demoCa = page.getByRole('radio', { name: /throwaway local CA/ });
    await keyboard.tabTo(ownCa, { max: 3 });
    await keyboard.press('ArrowDown');
    await expect(demoCa).toBeChecked();
    await expect(page.getByRole('note')).toContainText('demo CA — not for production');
    await keyboard.tabTo(page.getByLabel('SO PIN'), { max: 2 });
    await page.keyboard.type(SO_PIN);
    await keyboard.tabTo(page.getByLabel('kmsuser password'), { max: 2 });
    await page.keyboard.type(FIRST_PASSWORD);
    await keyboard.press('Enter');
    // 3. Active: its heading takes focus, and its buttons are the next stops.
    await expect(page.getByRole('heading', { level: 2, name: '3. Active' })).toBeFocused({ timeout: 60_000 });
    await saveScreenshot(page, testInfo, 'keyboard-initialized');
    const backToCluster = page.getByRole('button', { name: 'Back to the cluster' });
    await keyboard.tabTo(backToCluster, { max: 6 });
    await keyboard.expectVisibleFocus(backToCluster);
    await keyboard.press('Enter');

    // The cluster page → kmsuser setup: the change-password choice, both secrets, Enter.
    const kmsuserSetup = page.getByRole('button', { name: 'kmsuser setup' });
    await keyboard.tabTo(kmsuserSetup);
    await keyboard.press('Enter');
    await expect(page.getByRole('heading', { level: 2, name: 'Set the kmsuser password on every HSM' })).toBeFocused();
    await keyboard.tabTo(page.getByRole('radio', { name: /Set a new kmsuser password/ }), { max: 3 });
    await keyboard.tabTo(page.getByLabel('SO PIN'), { max: 2 });
    await page.keyboard.type(SO_PIN);
    await keyboard.tabTo(page.getByLabel('New kmsuser password', { exact: true }), { max: 2 });
    await page.keyboard.type(STORE_PASSWORD);
    await keyboard.tabTo(page.getByLabel('The same password again'), { max: 2 });
    await page.keyboard.type(STORE_PASSWORD);
    await keyboard.press('Enter');
    await expect(page.getByText('Every HSM has the new kmsuser password.')).toBeVisible({ timeout: 30_000 });

    // The key stores page: the empty state's button opens the connection wizard on "a new key store".
    const described = await workbench.call('DescribeClusters', { ClusterIds: [clusterId] });
    const trustAnchor = described.ok ? described.value.Clusters[0]?.Certificates.TrustAnchorCertificate : undefined;
    if (!trustAnchor) throw new Error('the initialized cluster has no trust anchor');
    await app.open('#/key-stores');
    const createButton = page.getByRole('button', { name: 'Create and connect a key store' });
    await keyboard.tabTo(createButton);
    await keyboard.press('Enter');
    await expect(page.getByRole('heading', { level: 2, name: '1. Key store' })).toBeFocused();
    await expect(page.getByRole('radio', { name: 'A new key store' })).toBeChecked();

    // 1. Key store: name, the cluster from the select with the arrow key, the PEM pasted, the password twice; Enter.
    await keyboard.tabTo(page.getByLabel('Key store name'), { max: 4 });
    await page.keyboard.type('KeyboardKeyStore');
    const clusterSelect = page.getByLabel('Cluster');
    await keyboard.tabTo(clusterSelect, { max: 2 });
    await keyboard.press('ArrowDown');
    await expect(clusterSelect).toHaveValue(clusterId);
    await keyboard.tabTo(page.getByLabel('Trust anchor certificate'), { max: 3 });
    await page.keyboard.insertText(trustAnchor);
    await keyboard.tabTo(page.getByLabel('kmsuser password', { exact: true }), { max: 3 });
    await page.keyboard.type(STORE_PASSWORD);
    await keyboard.tabTo(page.getByLabel('The same password again'), { max: 2 });
    await page.keyboard.type(STORE_PASSWORD);
    await saveScreenshot(page, testInfo, 'keyboard-create-store');
    await keyboard.press('Enter');

    // 2. Pre-flight: focus on its heading; once the run is done, Tab reaches Connect.
    await expect(page.getByRole('heading', { level: 2, name: '2. Pre-flight' })).toBeFocused({ timeout: 30_000 });
    const connect = page.getByRole('button', { name: /^Connect( anyway)?$/ });
    await expect(connect).toBeVisible({ timeout: 60_000 });
    await keyboard.tabTo(connect, { max: 6 });
    await keyboard.expectVisibleFocus(connect);
    await keyboard.press('Enter');

    // 3. Connect: focus on its heading, the state followed live; Disconnect is reachable and works.
    await expect(page.getByRole('heading', { level: 2, name: '3. Connect' })).toBeFocused();
    await expect(page.getByText(/^Connected: the workbench holds a kmsuser session/)).toBeVisible({ timeout: 60_000 });
    const disconnect = page.getByRole('button', { name: 'Disconnect', exact: true });
    await keyboard.tabTo(disconnect, { max: 6 });
    await keyboard.expectVisibleFocus(disconnect);
    await saveScreenshot(page, testInfo, 'keyboard-connected');
    await keyboard.press('Enter');
    await expect(page.getByRole('status').filter({ hasText: 'is DISCONNECTED' })).toBeVisible({ timeout: 30_000 });
    const back = page.getByRole('button', { name: 'Back to key stores' });
    await keyboard.tabTo(back, { max: 6 });
    await keyboard.press('Enter');
    await expect(page.getByRole('heading', { level: 1, name: 'Key stores' })).toBeFocused();
    await expect(page.getByRole('table', { name: 'Key stores' })).toContainText('Disconnected');
  });
});
