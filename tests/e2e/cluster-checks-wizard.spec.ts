import { expect, saveScreenshot, test } from './fixtures';
import { AppShell } from './pages/app-shell';
import { startRecordingProgress } from './pages/progress-recorder';

// Test-only token PINs for throwaway SoftHSM tokens made per test.
const KMSUSER_PASSWORD = 'kmsuser-e2e-Pa55';
const SO_PIN = 'so-e2e-pin-1234';

test.describe('cluster checks wizard', () => {
  test('goes from module to a passing report on two real SoftHSM tokens', async ({ app, page, clustersPage, clusterWizard, softHsm, workbench }, testInfo) => {
    const hsm = await softHsm({ tokens: 2, userPin: KMSUSER_PASSWORD, soPin: SO_PIN, labelPrefix: 'e2e-pass' });

    await clustersPage.newCluster();
    await expect(clusterWizard.currentStep).toContainText('Module');
    await clusterWizard.chooseModule(hsm.modulePath, hsm.env);
    await clusterWizard.listSlots();

    // Members: both tokens, each with its serial, selectable.
    await expect(clusterWizard.currentStep).toContainText('Members');
    const slotsTable = page.getByRole('table', { name: 'Slots and tokens' });
    for (const token of hsm.tokens) {
      await expect(slotsTable.getByRole('cell', { name: token.serial, exact: true })).toBeVisible();
      await expect(slotsTable.getByText(token.label, { exact: true })).toBeVisible();
      await expect(clusterWizard.tokenCheckbox(token.serial)).toBeEnabled();
    }
    await expect(slotsTable.getByText('user PIN set').first()).toBeVisible();
    // SoftHSM always offers one more, uninitialised token: shown, but not selectable.
    await expect(slotsTable.getByRole('checkbox', { name: /is not initialised/ })).toBeDisabled();
    await clusterWizard.checkTokens(hsm.tokens.map((t) => t.serial));
    await expect(page.getByRole('status').filter({ hasText: '2 tokens selected.' })).toBeVisible();
    await saveScreenshot(page, testInfo, 'cluster-wizard-members');
    await page.getByRole('button', { name: 'Next: name the cluster' }).click();

    await clusterWizard.nameCluster('payments-e2e');

    // Checks: the password goes into the request once; progress shows while the checks run.
    await expect(clusterWizard.stepHeading('4. Checks')).toBeFocused();
    await expect(clusterWizard.passwordField()).toHaveAttribute('type', 'password');
    await expect(clusterWizard.passwordField()).toHaveAttribute('autocomplete', 'off');
    const samples = await startRecordingProgress(page);
    await clusterWizard.runChecks({ kmsuserPassword: KMSUSER_PASSWORD });
    const report = await clusterWizard.waitForReport();

    const seen = await samples();
    const last = seen[seen.length - 1];
    expect(seen.length, 'the progress bar moved through several states').toBeGreaterThan(2);
    expect(seen.some((s) => s.now > 0 && s.now < s.max), 'progress was shown part-way').toBe(true);
    expect(seen.some((s) => s.cancelVisible), 'Cancel was offered during the run').toBe(true);
    expect(last?.now).toBe(last?.max);
    for (let i = 1; i < seen.length; i += 1) expect(seen[i]?.finished ?? 0).toBeGreaterThanOrEqual(seen[i - 1]?.finished ?? 0);

    // Report: passing, grouped cluster-wide then per HSM, with the login test passed on both.
    await expect(page.getByText('The cluster passed every check.')).toBeVisible();
    await expect(report.summary).toHaveText(/^\d+ passed, 0 warnings, 0 failed$/);
    await expect(report.group('Cluster-wide')).toBeVisible();
    for (const [index, token] of hsm.tokens.entries()) {
      const group = report.group(new RegExp(`^HSM ${index + 1}:`));
      await expect(group).toContainText(`serial ${token.serial}`);
      await report.expectStatus(report.check('kmsuser can log in', group), 'Passed');
    }
    await saveScreenshot(page, testInfo, 'cluster-checks-report-light');

    // The dark theme, on the same report.
    await app.chooseTheme('Dark');
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
    await saveScreenshot(page, testInfo, 'cluster-checks-report-dark');

    // The password is gone: the field is empty on a re-run, nothing persisted it, the audit log never saw it.
    await page.getByRole('button', { name: 'Re-run checks' }).click();
    await expect(clusterWizard.passwordField()).toHaveValue('');
    expect(await page.evaluate('JSON.stringify(localStorage)')).not.toContain(KMSUSER_PASSWORD);
    expect(page.url()).not.toContain(KMSUSER_PASSWORD);
    expect(await workbench.auditText()).not.toContain(KMSUSER_PASSWORD);

    // The theme choice and the cluster outlive a reload: one from localStorage, the other from main's state.
    await page.getByRole('button', { name: '← Clusters' }).click();
    await page.reload();
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
    await expect(clustersPage.row('payments-e2e')).toContainText('2');
  });

  test('reports kmsuser as USER_NOT_FOUND on a token without a user PIN', async ({ app, page, clustersPage, clusterWizard, softHsm }, testInfo) => {
    void app;
    const hsm = await softHsm({ tokens: 1, userPin: null, soPin: SO_PIN, labelPrefix: 'e2e-nouser' });
    const [token] = hsm.tokens;
    if (!token) throw new Error('the SoftHSM fixture made no token');

    await clustersPage.newCluster();
    await clusterWizard.chooseModule(hsm.modulePath, hsm.env);
    await clusterWizard.listSlots();
    await expect(page.getByRole('table', { name: 'Slots and tokens' }).getByText('no user PIN')).toBeVisible();
    await clusterWizard.selectTokens([token.serial]);
    await clusterWizard.nameCluster('no-kmsuser-e2e');
    await clusterWizard.runChecks({ kmsuserPassword: KMSUSER_PASSWORD });
    const report = await clusterWizard.waitForReport();

    await expect(page.getByText('The cluster is not ready: some checks failed.')).toBeVisible();
    await expect(report.summary).toHaveText(/[1-9]\d* failed/);
    const kmsuser = report.check('kmsuser (user PIN) is initialised', report.group(/^HSM 1:/));
    await report.expectStatus(kmsuser, 'Failed');
    await expect(kmsuser).toContainText('Predicted connection error: USER_NOT_FOUND');
    await expect(kmsuser).toContainText('What to do:');
    await saveScreenshot(page, testInfo, 'cluster-checks-report-user-not-found');
  });

  test('shows a bad module path as a named error and keeps the form', async ({ app, page, clustersPage, clusterWizard }, testInfo) => {
    void app;
    const badPath = '/opt/no-such-vendor/libpkcs11-missing.so';
    await clustersPage.newCluster();
    await clusterWizard.chooseModule(badPath, { SOFTHSM2_CONF: '/tmp/e2e-kept.conf', P11_KIT_SERVER_ADDRESS: 'unix:path=/tmp/e2e.sock' });
    await clusterWizard.listSlots();

    const alert = clusterWizard.alert();
    await expect(alert).toContainText('Pkcs11ModuleLoadException');
    await expect(alert).toContainText('The slots could not be listed');
    await expect(clusterWizard.currentStep).toContainText('Module');
    await expect(page.getByLabel('PKCS#11 module path')).toHaveValue(badPath);
    await expect(page.getByRole('textbox', { name: 'Value of SOFTHSM2_CONF' })).toHaveValue('/tmp/e2e-kept.conf');
    await expect(page.getByRole('textbox', { name: 'Value of P11_KIT_SERVER_ADDRESS' })).toHaveValue('unix:path=/tmp/e2e.sock');
    await saveScreenshot(page, testInfo, 'cluster-wizard-module-error');
  });

  test('opens the checks of an existing cluster from the table, and deletes it after a confirmation naming it', async ({ page, clustersPage, clusterWizard, softHsm, workbench }) => {
    const hsm = await softHsm({ tokens: 1, userPin: KMSUSER_PASSWORD, soPin: SO_PIN, labelPrefix: 'e2e-table' });
    const [token] = hsm.tokens;
    if (!token) throw new Error('the SoftHSM fixture made no token');
    const created = await workbench.call('CreateCluster', { ClusterName: 'table-e2e', ModulePath: hsm.modulePath, ModuleEnvironment: hsm.env, Hsms: [{ TokenSerial: token.serial }] });
    expect(created.ok).toBe(true);
    // Opened only now, so the page's first load already sees the cluster the core created.
    await new AppShell(page).open('#/clusters');

    await clustersPage.check('table-e2e');
    await expect(clusterWizard.stepHeading('4. Checks')).toBeFocused();
    await expect(clusterWizard.currentStep).toContainText('Checks');
    await clusterWizard.runChecks();
    const report = await clusterWizard.waitForReport();
    await report.expectStatus(report.check('kmsuser can log in'), 'Skipped');

    await page.getByRole('button', { name: 'Back to clusters' }).click();
    const dialog = await clustersPage.askDelete('table-e2e');
    await expect(dialog).toContainText('The tokens and any key material on them are not touched.');
    await page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();
    await expect(clustersPage.row('table-e2e')).toBeVisible();

    const again = await clustersPage.askDelete('table-e2e');
    await again.getByRole('button', { name: 'Delete cluster' }).click();
    await expect(again).toBeHidden();
    await expect(page.getByRole('heading', { name: 'No clusters yet' })).toBeVisible();
  });
});
