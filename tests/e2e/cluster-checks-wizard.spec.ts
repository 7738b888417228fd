import { buildBrokenModules, type BrokenModules } from '../fixtures/broken-modules';
import type { SoftHsmCluster } from '../fixtures/softhsm';
import type { TestWorkbench } from '../fixtures/workbench';
import { expect, saveScreenshot, test } from './fixtures';
import { startRecordingProgress } from './pages/progress-recorder';

// Test-only token PINs for throwaway SoftHSM tokens made per test.
const KMSUSER_PASSWORD = 'kmsuser-e2e-Pa55';
const SO_PIN = 'so-e2e-pin-1234';

/** A cluster over one of the fixture's tokens (the first by default): a token belongs to one cluster. */
async function createCluster(workbench: TestWorkbench, hsm: SoftHsmCluster, name: string, tokenIndex = 0): Promise<string> {
  const token = hsm.tokens[tokenIndex];
  if (!token) throw new Error('the SoftHSM fixture made no token');
  const created = await workbench.call('CreateCluster', { ClusterName: name, ModulePath: hsm.modulePath, ModuleEnvironment: hsm.env, Hsms: [{ TokenSerial: token.serial }] });
  if (!created.ok) throw new Error(`CreateCluster failed: ${created.error.message}`);
  return created.value.Cluster.ClusterId;
}

/**
 * A cluster whose module answers C_GetSlotList only after `seconds`, so the core is still running when the
 * admin acts. (The bridge's progress delay alone would not do: the core does not wait for the page.)
 */
async function createSlowCluster(workbench: TestWorkbench, hsm: SoftHsmCluster, broken: BrokenModules, name: string, seconds: number): Promise<string> {
  const id = await createCluster(workbench, hsm, name);
  await workbench.editState((state) => {
    const slow = state.clusters.find((c) => c.ClusterId === id);
    if (!slow) throw new Error(`${name} is not in the state file`);
    slow.ModulePath = broken.slowSlotList;
    slow.ModuleEnvironment = { SLOW_SLOT_LIST_SECONDS: String(seconds) };
  });
  return id;
}

test.describe('cluster checks wizard', () => {
  test('goes from module to a passing report on two real SoftHSM tokens', async ({ app, page, clustersPage, clusterWizard, softHsm, workbench, bridge }, testInfo) => {
    const hsm = await softHsm({ tokens: 2, userPin: KMSUSER_PASSWORD, soPin: SO_PIN, labelPrefix: 'e2e-pass' });

    await clustersPage.newCluster();
    await expect(clusterWizard.currentStep).toContainText('Module');
    await clusterWizard.chooseModule(hsm.modulePath, hsm.env);
    await clusterWizard.listSlots();

    // Members: both tokens, each with its serial, selectable.
    await expect(clusterWizard.currentStep).toContainText('Members');
    const slotsTable = clusterWizard.slotsTable;
    for (const token of hsm.tokens) {
      await expect(slotsTable.getByRole('cell', { name: token.serial, exact: true })).toBeVisible();
      await expect(slotsTable.getByText(token.label, { exact: true })).toBeVisible();
      await expect(clusterWizard.tokenCheckbox(token.serial)).toBeEnabled();
    }
    await expect(slotsTable.getByText('user PIN set').first()).toBeVisible();
    // SoftHSM always offers one more, uninitialised token: shown, but not selectable.
    await expect(slotsTable.getByRole('checkbox', { name: /is not initialised/ })).toBeDisabled();
    // Ticked bottom-up on purpose: the members are still numbered in table order, as the summary lists them.
    const tableOrder = await clusterWizard.tableSerials();
    expect([...tableOrder].sort()).toEqual(hsm.tokens.map((t) => t.serial).sort());
    await clusterWizard.checkTokens([...tableOrder].reverse());
    await expect(page.getByRole('status').filter({ hasText: '2 tokens selected.' })).toBeVisible();
    await saveScreenshot(page, testInfo, 'cluster-wizard-members');
    await clusterWizard.nextToNameButton().click();

    await expect(clusterWizard.stepHeading('3. Name')).toBeFocused();
    expect(await clusterWizard.summarySerials(), 'the summary lists the HSMs in table order').toEqual(tableOrder);
    await clusterWizard.nameCluster('payments-e2e');

    // Checks: the password goes into the request once; progress shows while the checks run.
    await expect(clusterWizard.stepHeading('4. Checks')).toBeFocused();
    await expect(clusterWizard.passwordField()).toHaveAttribute('type', 'password');
    await expect(clusterWizard.passwordField()).toHaveAttribute('autocomplete', 'off');
    const samples = await startRecordingProgress(page);
    // Progress reaches the page slowly, so the run is still going while the field is looked at.
    bridge.progressDelayMs = 40;
    await clusterWizard.runChecks({ kmsuserPassword: KMSUSER_PASSWORD });
    await expect(clusterWizard.cancelButton(), 'the run is still going').toBeVisible();
    await expect(clusterWizard.passwordField(), 'the password left the field when the run started').toHaveValue('');
    const report = await clusterWizard.waitForReport();
    bridge.progressDelayMs = 0;

    const seen = await samples();
    const last = seen[seen.length - 1];
    expect(seen.length, 'the progress bar moved through several states').toBeGreaterThan(2);
    expect(seen.some((s) => s.now > 0 && s.now < s.max), 'progress was shown part-way').toBe(true);
    expect(seen.some((s) => s.cancelVisible), 'Cancel was offered during the run').toBe(true);
    expect(last?.now).toBe(last?.max);
    for (let i = 1; i < seen.length; i += 1) expect(seen[i]?.finished ?? 0).toBeGreaterThanOrEqual(seen[i - 1]?.finished ?? 0);

    // Report: passing, grouped cluster-wide then per HSM in the summary's order, with the login test passed on both.
    // A new cluster is not initialized: its member-trust checks are skipped, and the verdict counts them.
    await expect(page.getByText(/^Passed — \d+ checks? skipped\.$/)).toBeVisible();
    await expect(report.summary).toHaveText(/^\d+ passed, 0 warnings, 0 failed, \d+ skipped$/);
    await expect(report.group('Cluster-wide')).toBeVisible();
    for (const [index, serial] of tableOrder.entries()) {
      const group = report.group(new RegExp(`^HSM ${index + 1}:`));
      await expect(group).toContainText(`serial ${serial}`);
      await report.expectStatus(report.check('kmsuser can log in', group), 'Passed');
    }
    await saveScreenshot(page, testInfo, 'cluster-checks-report-light');

    // The dark theme, on the same report.
    await app.chooseTheme('Dark');
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
    await saveScreenshot(page, testInfo, 'cluster-checks-report-dark');

    // The password is gone: not in any store, nothing persisted it, the audit log never saw it.
    const pinia = await app.piniaState();
    expect(pinia, 'the dump really holds the stores').toContain('"clusterChecks"');
    expect(pinia.includes(KMSUSER_PASSWORD), 'the kmsuser password is in a Pinia store').toBe(false);
    await page.getByRole('button', { name: 'Re-run checks' }).click();
    await expect(clusterWizard.checksStatus()).toHaveText(/^The last run finished all \d+ checks/);
    expect(await page.evaluate('JSON.stringify(localStorage)')).not.toContain(KMSUSER_PASSWORD);
    expect(page.url()).not.toContain(KMSUSER_PASSWORD);
    expect(await workbench.auditText()).not.toContain(KMSUSER_PASSWORD);

    // The theme choice and the cluster outlive a reload: one from localStorage, the other from main's state.
    await clusterWizard.backToClusters().click();
    await page.reload();
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
    await expect(clustersPage.row('payments-e2e')).toContainText('2');
  });

  test('reports kmsuser as USER_NOT_FOUND on a token without a user PIN', async ({ page, clustersPage, clusterWizard, softHsm }, testInfo) => {
    const hsm = await softHsm({ tokens: 1, userPin: null, soPin: SO_PIN, labelPrefix: 'e2e-nouser' });
    const [token] = hsm.tokens;
    if (!token) throw new Error('the SoftHSM fixture made no token');

    await clustersPage.newCluster();
    await clusterWizard.chooseModule(hsm.modulePath, hsm.env);
    await clusterWizard.listSlots();
    await expect(clusterWizard.slotsTable.getByText('no user PIN')).toBeVisible();
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

  test('shows a bad module path as a named error and keeps the form', async ({ page, clustersPage, clusterWizard }, testInfo) => {
    const badPath = '/opt/no-such-vendor/libpkcs11-missing.so';
    await clustersPage.newCluster();
    await clusterWizard.chooseModule(badPath, { SOFTHSM2_CONF: '/tmp/e2e-kept.conf', P11_KIT_SERVER_ADDRESS: 'unix:path=/tmp/e2e.sock' });
    await clusterWizard.listSlots();

    const alert = clusterWizard.alert();
    await expect(alert).toContainText('Pkcs11ModuleLoadException');
    await expect(alert).toContainText('The slots could not be listed');
    await expect(clusterWizard.currentStep).toContainText('Module');
    await expect(clusterWizard.moduleField()).toHaveValue(badPath);
    await expect(clusterWizard.environmentValue('SOFTHSM2_CONF')).toHaveValue('/tmp/e2e-kept.conf');
    await expect(clusterWizard.environmentValue('P11_KIT_SERVER_ADDRESS')).toHaveValue('unix:path=/tmp/e2e.sock');
    await saveScreenshot(page, testInfo, 'cluster-wizard-module-error');
  });

  test('opens the checks of an existing cluster from the table, and deletes it after a confirmation naming it', async ({ app, page, clustersPage, clusterWizard, softHsm, workbench }) => {
    const hsm = await softHsm({ tokens: 1, userPin: KMSUSER_PASSWORD, soPin: SO_PIN, labelPrefix: 'e2e-table' });
    await createCluster(workbench, hsm, 'table-e2e');
    // Loaded again, so the page sees the cluster the core created behind its back.
    await app.reload();

    await clustersPage.check('table-e2e');
    await expect(clusterWizard.stepHeading('4. Checks')).toBeFocused();
    await expect(clusterWizard.currentStep).toContainText('Checks');
    await clusterWizard.runChecks();
    const report = await clusterWizard.waitForReport();
    await report.expectStatus(report.check('kmsuser can log in'), 'Skipped');
    // Not "passed every check": the login test did not run, and the verdict says why (one HSM is also a warning).
    await expect(page.getByText(/^The cluster passed, with warnings; \d+ checks skipped \(no kmsuser password given\)\.$/)).toBeVisible();
    await expect(page.getByText('The cluster passed every check.')).toHaveCount(0);

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

  test('leaving a running check cancels it, and the next cluster’s Checks step shows none of its progress', async ({
    app,
    page,
    clustersPage,
    clusterWizard,
    softHsm,
    workbench,
    bridge,
  }) => {
    const hsm = await softHsm({ tokens: 2, userPin: KMSUSER_PASSWORD, soPin: SO_PIN, labelPrefix: 'e2e-leave' });
    const broken = await buildBrokenModules();
    try {
      await createSlowCluster(workbench, hsm, broken, 'slow-a', 3);
      await createCluster(workbench, hsm, 'next-b', 1);
      await app.reload();

      await clustersPage.check('slow-a');
      await clusterWizard.runChecks();
      await expect(clusterWizard.checksStatus()).toHaveText(/^1 of \d+ checks done · last: PKCS#11 module loads/);

      // Away while the module sleeps, straight on to the next cluster's checks.
      await clusterWizard.backToClusters().click();
      await clustersPage.check('next-b');
      await expect(clusterWizard.title()).toHaveText('Cluster checks: next-b');

      // A's call ends once the module wakes; the bridge records it only after its last progress reached the page.
      await expect
        .poll(() => bridge.results.find((r) => r.operation === 'CheckCluster')?.result, { message: 'slow-a’s run was cancelled in the core', timeout: 15_000 })
        .toMatchObject({ ok: false, error: { name: 'OperationCancelledException' } });
      expect(bridge.results.find((r) => r.operation === 'CancelOperation')?.result).toEqual({ ok: true, value: { Cancelled: true } });
      const audited = (await workbench.auditRecords()).filter((r) => r['eventName'] === 'CheckCluster' && r['errorCode'] === 'OperationCancelledException');
      expect(audited).toHaveLength(1);

      // B's page is as fresh as it opened: nothing of A's run, and free to run its own.
      await expect(clusterWizard.checksStatus()).toHaveText('');
      await expect(clusterWizard.progressBar()).toHaveCount(0);
      await expect(page.getByRole('list', { name: 'Finished checks' })).toHaveCount(0);
      await expect(clusterWizard.cancelButton()).toHaveCount(0);
      await expect(page.getByRole('button', { name: 'Run checks' })).toBeVisible();
      await expect(clusterWizard.alert()).toHaveCount(0);
    } finally {
      await broken.cleanup();
    }
  });

  test('Cancel stops a running check between steps, says so calmly, and leaves the step ready to run again', async ({ app, page, clustersPage, clusterWizard, softHsm, workbench, bridge }) => {
    const hsm = await softHsm({ tokens: 1, userPin: KMSUSER_PASSWORD, soPin: SO_PIN, labelPrefix: 'e2e-cancel' });
    const broken = await buildBrokenModules();
    try {
      // Slow enough that the run is between steps when Cancel is pressed.
      await createSlowCluster(workbench, hsm, broken, 'slow-cancel', 2);
      await app.reload();

      await clustersPage.check('slow-cancel');
      await clusterWizard.runChecks();
      await expect(clusterWizard.checksStatus()).toHaveText(/^1 of \d+ checks done · last: PKCS#11 module loads/);
      await clusterWizard.cancelButton().click();

      // Once the module answers, the run stops before its next step: a neutral notice, not an error.
      await expect(clusterWizard.checksStatus()).toHaveText(/^Checks cancelled after \d+ of \d+\.$/, { timeout: 15_000 });
      await expect(clusterWizard.alert()).toHaveCount(0);
      await expect(clusterWizard.cancelButton()).toHaveCount(0);
      await expect(page.getByRole('button', { name: 'Run checks' })).toBeVisible();
      expect(bridge.results.find((r) => r.operation === 'CheckCluster')?.result).toMatchObject({ ok: false, error: { name: 'OperationCancelledException' } });
      // The checks up to the cancel are kept on screen; nothing after it ran (no HSM check reached the page).
      const finished = page.getByRole('list', { name: 'Finished checks' });
      await expect(finished.getByText('Slots and tokens can be listed')).toBeVisible();
      await expect(finished.getByText('HSM token is present and initialised')).toHaveCount(0);
    } finally {
      await broken.cleanup();
    }
  });

  test('wraps a long cluster name in the table; an unknown cluster id then shows only the not-found error', async ({ app, page, clustersPage, clusterWizard, softHsm, workbench }, testInfo) => {
    const hsm = await softHsm({ tokens: 1, userPin: KMSUSER_PASSWORD, soPin: SO_PIN, labelPrefix: 'e2e-long' });
    const longName = `finance-${'a1b2c3d4'.repeat(24)}`;
    await createCluster(workbench, hsm, longName);
    await app.reload();

    // The name wraps: the row's actions stay inside the panel, which needs no horizontal scrolling.
    const panel = clustersPage.table.locator('xpath=..');
    const panelBox = await panel.boundingBox();
    const deleteBox = await clustersPage.rowButton(longName, 'Delete').boundingBox();
    expect(panelBox && deleteBox && deleteBox.x + deleteBox.width <= panelBox.x + panelBox.width).toBe(true);
    expect(await panel.evaluate((element) => element.scrollWidth <= element.clientWidth)).toBe(true);
    await saveScreenshot(page, testInfo, 'clusters-long-name');

    await clustersPage.check(longName);
    await expect(clusterWizard.title()).toContainText(longName);

    // Straight from that cluster's checks to an id nobody has: an in-app navigation, as Back/Forward would do.
    const seen = await page.evaluate(`new Promise((resolve) => {
      const texts = [];
      const main = document.querySelector('main');
      new MutationObserver(() => texts.push(main.textContent)).observe(main, { subtree: true, childList: true, characterData: true });
      location.hash = '#/clusters/cluster-zzzzzzzzzzz/checks';
      setTimeout(() => resolve(texts), 500);
    })`);
    await expect(clusterWizard.alert()).toContainText('CloudHsmClusterNotFoundException');
    await expect(clusterWizard.title()).toHaveText('Cluster checks');
    await expect(clusterWizard.stepper).toHaveCount(0);
    await expect(clusterWizard.stepHeading('4. Checks')).toHaveCount(0);
    expect((seen as string[]).filter((text) => text.includes(longName)), 'no frame showed the previous cluster').toEqual([]);
    await saveScreenshot(page, testInfo, 'cluster-checks-not-found');
  });
});
