import { expect, test } from './fixtures';

// Test-only token PINs for throwaway SoftHSM tokens made per test.
const KMSUSER_PASSWORD = 'kmsuser-a11y-Pa55';
const SO_PIN = 'so-a11y-pin-1234';

/*
 * axe-core with the WCAG 2.1 A/AA rules on every screen the foundation has, each in the light and the dark
 * theme. No rule is disabled: a violation is fixed in the renderer.
 */
test.describe('accessibility (axe, WCAG 2.1 AA, light and dark)', () => {
  test('the clusters page, empty and with a cluster, the delete dialog and a failing report', async ({ page, clustersPage, clusterWizard, softHsm, workbench, axe }) => {
    await expect(page.getByRole('heading', { name: 'No clusters yet' })).toBeVisible();
    await axe.expectClean('the clusters page (empty)');

    // A token without a user PIN: its report fails, which shows the remedies and predicted errors.
    const hsm = await softHsm({ tokens: 1, userPin: null, soPin: SO_PIN, labelPrefix: 'a11y-table' });
    const [token] = hsm.tokens;
    if (!token) throw new Error('the SoftHSM fixture made no token');
    const created = await workbench.call('CreateCluster', { ClusterName: 'a11y-table', ModulePath: hsm.modulePath, ModuleEnvironment: hsm.env, Hsms: [{ TokenSerial: token.serial }] });
    expect(created.ok).toBe(true);
    await page.reload();
    await expect(clustersPage.row('a11y-table')).toBeVisible();
    await axe.expectClean('the clusters page (one cluster)');

    const dialog = await clustersPage.askDelete('a11y-table');
    await axe.expectClean('the delete confirmation dialog');
    await page.keyboard.press('Escape');
    await expect(dialog).toBeHidden();

    await clustersPage.check('a11y-table');
    await clusterWizard.runChecks({ kmsuserPassword: KMSUSER_PASSWORD });
    await clusterWizard.waitForReport();
    await expect(page.getByText('The cluster is not ready: some checks failed.')).toBeVisible();
    await axe.expectClean('the report (failed checks)');
  });

  test('every step of the cluster wizard', async ({ page, clustersPage, clusterWizard, softHsm, axe }) => {
    const hsm = await softHsm({ tokens: 2, userPin: KMSUSER_PASSWORD, soPin: SO_PIN, labelPrefix: 'a11y-wizard' });
    const [first, second] = hsm.tokens;
    if (!first || !second) throw new Error('the SoftHSM fixture made fewer than two tokens');

    await clustersPage.newCluster();
    await clusterWizard.chooseModule('/opt/no-such-vendor/libpkcs11-missing.so', hsm.env);
    await clusterWizard.listSlots();
    await expect(clusterWizard.alert()).toContainText('Pkcs11ModuleLoadException');
    await axe.expectClean('wizard step 1, Module (with an error)');

    await clusterWizard.chooseModule(hsm.modulePath, hsm.env);
    await clusterWizard.listSlots();
    await clusterWizard.checkTokens([first.serial]);
    await axe.expectClean('wizard step 2, Members (one of two chosen)');
    await clusterWizard.tokenCheckbox(second.serial).check();
    await clusterWizard.nextToNameButton().click();

    await expect(clusterWizard.stepHeading('3. Name')).toBeFocused();
    await axe.expectClean('wizard step 3, Name');
    await clusterWizard.createClusterButton().click();
    await expect(clusterWizard.clusterNameField()).toHaveAttribute('aria-invalid', 'true');
    await axe.expectClean('wizard step 3, Name (with a name error)');
    await clusterWizard.createCluster('a11y-wizard');

    await expect(clusterWizard.stepHeading('4. Checks')).toBeFocused();
    await axe.expectClean('wizard step 4, Checks (idle)');
    await clusterWizard.runChecks({ kmsuserPassword: KMSUSER_PASSWORD });
    await clusterWizard.waitForReport();
    // A new cluster is not initialized: its member-trust checks are skipped, and the verdict counts them.
    await expect(page.getByText(/^Passed — \d+ checks? skipped\.$/)).toBeVisible();
    await axe.expectClean('wizard step 5, Report (passing)');
  });

  test('the coming-soon pages', async ({ app, page, axe }) => {
    for (const section of ['Key stores', 'Keys', 'Inspector', 'Audit'] as const) {
      await app.navigate(section);
      await expect(page.getByRole('heading', { level: 1, name: section })).toBeVisible();
      await axe.expectClean(`the ${section} page (coming soon)`);
    }
  });
});
