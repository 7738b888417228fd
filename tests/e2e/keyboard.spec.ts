import { expect, saveScreenshot, test } from './fixtures';

// Test-only token PINs for throwaway SoftHSM tokens made per test.
const KMSUSER_PASSWORD = 'kmsuser-kbd-Pa55';
const SO_PIN = 'so-kbd-pin-1234';
const CLUSTER = 'payments-kbd';

/*
 * The whole foundation with page.keyboard alone: no click, no fill. Each press is what an admin would do;
 * `keyboard.tabTo` fails with the list of stops when a control cannot be reached in a sensible number of Tabs.
 */
test.describe('keyboard only', () => {
  test('creates a cluster over two SoftHSM tokens, runs its checks to a passing report, and cancels a delete with Escape', async ({
    page,
    clustersPage,
    clusterWizard,
    softHsm,
    keyboard,
  }, testInfo) => {
    const hsm = await softHsm({ tokens: 2, userPin: KMSUSER_PASSWORD, soPin: SO_PIN, labelPrefix: 'e2e-kbd' });

    // The first Tab reaches the skip link; it lands on the page heading and stays on the page.
    await keyboard.press('Tab');
    const skipLink = page.getByRole('link', { name: 'Skip to content' });
    await keyboard.expectVisibleFocus(skipLink);
    await keyboard.press('Enter');
    await expect(clustersPage.heading).toBeFocused();
    expect(new URL(page.url()).hash).toBe('#/clusters');

    // Clusters → the wizard: focus follows to the first step's heading.
    await keyboard.tabTo(clustersPage.newClusterButton(), { max: 3 });
    await keyboard.expectVisibleFocus(clustersPage.newClusterButton());
    await keyboard.press('Enter');
    await expect(clusterWizard.stepHeading('1. Module')).toBeFocused();

    // 1. Module: type the path and the environment; Enter in a field submits the step.
    await keyboard.tabTo(clusterWizard.moduleField());
    await keyboard.replaceText(hsm.modulePath);
    await keyboard.tabTo(clusterWizard.environmentValue('SOFTHSM2_CONF'));
    await keyboard.replaceText(hsm.env.SOFTHSM2_CONF);
    await keyboard.press('Enter');

    // 2. Members: Space ticks each token's checkbox; the disabled free slot is skipped by Tab.
    await expect(clusterWizard.stepHeading('2. Members')).toBeFocused();
    const inTableOrder = await clusterWizard.tableSerials();
    expect([...inTableOrder].sort()).toEqual(hsm.tokens.map((t) => t.serial).sort());
    for (const serial of inTableOrder) {
      const checkbox = clusterWizard.tokenCheckbox(serial);
      await keyboard.tabTo(checkbox, { max: 3 });
      await keyboard.press('Space');
      await expect(checkbox).toBeChecked();
    }
    await expect(page.getByRole('status').filter({ hasText: '2 tokens selected.' })).toBeVisible();
    await keyboard.expectVisibleFocus(clusterWizard.tokenCheckbox(inTableOrder[1] ?? ''));
    await saveScreenshot(page, testInfo, 'keyboard-members');
    await keyboard.tabTo(clusterWizard.nextToNameButton(), { max: 3 });
    await keyboard.press('Enter');

    // 3. Name: type the name; arrow keys move within the login-format radio group; Shift+Tab goes back.
    await expect(clusterWizard.stepHeading('3. Name')).toBeFocused();
    await keyboard.tabTo(clusterWizard.clusterNameField(), { max: 3 });
    await page.keyboard.type(CLUSTER);
    await keyboard.tabTo(clusterWizard.loginFormatRadio('password'), { max: 1 });
    await keyboard.press('ArrowDown');
    await expect(clusterWizard.loginFormatRadio('user:password')).toBeChecked();
    await expect(clusterWizard.loginFormatRadio('user:password')).toBeFocused();
    await keyboard.press('ArrowUp');
    await expect(clusterWizard.loginFormatRadio('password')).toBeChecked();
    await keyboard.tabTo(clusterWizard.clusterNameField(), { backwards: true, max: 1 });
    await expect(clusterWizard.clusterNameField()).toHaveValue(CLUSTER);
    await saveScreenshot(page, testInfo, 'keyboard-name');
    await keyboard.tabTo(clusterWizard.createClusterButton(), { max: 4 });
    await keyboard.press('Enter');

    // 4. Checks: type the kmsuser password; Enter runs the checks.
    await expect(clusterWizard.stepHeading('4. Checks')).toBeFocused();
    await keyboard.tabTo(clusterWizard.passwordField(), { max: 3 });
    await page.keyboard.type(KMSUSER_PASSWORD);
    await keyboard.press('Enter');

    // 5. Report: focus on its heading once the checks are done.
    const report = await clusterWizard.waitForReport();
    // A new cluster is not initialized: its member-trust checks are skipped, and the verdict counts them.
    await expect(page.getByText(/^Passed — \d+ checks? skipped\.$/)).toBeVisible();
    await expect(report.summary).toHaveText(/^\d+ passed, 0 warnings, 0 failed, \d+ skipped$/);
    await saveScreenshot(page, testInfo, 'keyboard-report');
    const backToClusters = page.getByRole('button', { name: 'Back to clusters' });
    await keyboard.tabTo(backToClusters, { max: 3 });
    await keyboard.expectVisibleFocus(backToClusters);
    await keyboard.press('Enter');

    // Clusters again: focus on the page heading, the new cluster listed.
    await expect(clustersPage.heading).toBeFocused();
    await expect(clustersPage.row(CLUSTER)).toContainText('2');

    // Delete opens the confirmation with the safe choice focused; Escape closes it and focus returns to Delete.
    const deleteButton = clustersPage.rowButton(CLUSTER, 'Delete');
    await keyboard.tabTo(deleteButton, { max: 4 });
    await keyboard.expectVisibleFocus(deleteButton);
    await keyboard.press('Enter');
    const dialog = clustersPage.deleteDialog(CLUSTER);
    await expect(dialog).toBeVisible();
    await keyboard.expectVisibleFocus(dialog.getByRole('button', { name: 'Cancel' }));
    await saveScreenshot(page, testInfo, 'keyboard-delete-dialog');
    await keyboard.press('Escape');
    await expect(dialog).toBeHidden();
    await keyboard.expectVisibleFocus(deleteButton);
    await keyboard.tabTo(clustersPage.rowButton(CLUSTER, 'Check'), { backwards: true, max: 1 });

    // Delete for real: Tab inside the dialog to the destructive button; focus lands on the heading, the deletion said in words.
    await keyboard.tabTo(deleteButton, { max: 1 });
    await keyboard.press('Enter');
    await expect(dialog).toBeVisible();
    await keyboard.tabTo(dialog.getByRole('button', { name: 'Delete cluster' }), { max: 1 });
    await keyboard.press('Enter');
    await expect(dialog).toBeHidden();
    await expect(clustersPage.heading).toBeFocused();
    await expect(page.getByRole('status').filter({ hasText: `Cluster “${CLUSTER}” deleted.` })).toBeVisible();
    await saveScreenshot(page, testInfo, 'keyboard-deleted');
  });
});
