import { test as base, expect, type Page, type TestInfo } from '@playwright/test';
import { createSoftHsmCluster } from '../fixtures/softhsm';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';

export type WorkbenchOptions = NonNullable<Parameters<typeof createTestWorkbench>[0]>;
import { bundlePageBridge, createBridgeTap, exposeCore, serveRenderer, type BridgeTap } from './bridge/node-bridge';
import { AppShell } from './pages/app-shell';
import { AxeScanner } from './pages/axe-scanner';
import { ClusterWizardPage } from './pages/cluster-wizard-page';
import { ClustersPage } from './pages/clusters-page';
import { KeyboardUser } from './pages/keyboard-user';

export type SoftHsmOptions = Parameters<typeof createSoftHsmCluster>[0];
export type SoftHsmCluster = Awaited<ReturnType<typeof createSoftHsmCluster>>;

interface TestFixtures {
  /** How the test's core is made, e.g. `test.use({ workbenchOptions: { healthProbeMs: 1000 } })` for the GUI's health probe. */
  workbenchOptions: WorkbenchOptions;
  /** The real core over a fresh temporary state directory; the page's window.workbench talks to it. */
  workbench: TestWorkbench;
  /** Test-only hook on the page ↔ core bridge: slow the page's progress, read each call's result. */
  bridge: BridgeTap;
  /** Real SoftHSM2 tokens in a temporary directory, removed after the test. */
  softHsm: (options: SoftHsmOptions) => Promise<SoftHsmCluster>;
  /** The app opened on the Clusters page, with the header loaded. */
  app: AppShell;
  /** The page objects need the app open, so they depend on `app`. */
  clustersPage: ClustersPage;
  clusterWizard: ClusterWizardPage;
  /** axe-core (WCAG 2.1 A/AA) over the page as it is, in the light and the dark theme. */
  axe: AxeScanner;
  /** Drives the page with page.keyboard only: Tab to a control, type, check focus rings. */
  keyboard: KeyboardUser;
}

interface WorkerFixtures {
  /** page-bridge.ts bundled once per worker. */
  bridgeScript: string;
}

/** CSP refusals and uncaught page errors fail the test: the renderer must work under the strict policy. */
function watchPageProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && /Refused to|Content Security Policy directive .* violated/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return problems;
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  bridgeScript: [
    // eslint-disable-next-line no-empty-pattern
    async ({}, use) => {
      await use(await bundlePageBridge());
    },
    { scope: 'worker' },
  ],

  workbenchOptions: [{}, { option: true }],

  workbench: async ({ workbenchOptions }, use) => {
    const workbench = await createTestWorkbench(workbenchOptions);
    try {
      await use(workbench);
    } finally {
      await workbench.dispose();
    }
  },

  // eslint-disable-next-line no-empty-pattern
  softHsm: async ({}, use) => {
    const made: SoftHsmCluster[] = [];
    try {
      await use(async (options) => {
        const cluster = await createSoftHsmCluster(options);
        made.push(cluster);
        return cluster;
      });
    } finally {
      for (const cluster of made) await cluster.cleanup();
    }
  },

  // eslint-disable-next-line no-empty-pattern
  bridge: async ({}, use) => {
    await use(createBridgeTap());
  },

  // Every page in these tests is bridged: the built renderer on a fake origin, window.workbench → real core.
  page: async ({ page, context, workbench, bridgeScript, bridge }, use) => {
    const problems = watchPageProblems(page);
    await serveRenderer(context);
    await exposeCore(page, workbench.core, bridgeScript, bridge);
    await use(page);
    expect(problems, 'the page hit CSP refusals or uncaught errors').toEqual([]);
  },

  app: async ({ page }, use) => {
    const app = new AppShell(page);
    await app.open();
    await use(app);
  },

  clustersPage: async ({ app }, use) => {
    await use(new ClustersPage(app.page));
  },

  clusterWizard: async ({ app }, use) => {
    await use(new ClusterWizardPage(app.page));
  },

  axe: async ({ page }, use) => {
    await use(new AxeScanner(page));
  },

  keyboard: async ({ page }, use) => {
    await use(new KeyboardUser(page));
  },
});

export { expect };

/** A full-page screenshot kept as a test artifact (under test-results/) and attached to the report. */
export async function saveScreenshot(page: Page, testInfo: TestInfo, name: string): Promise<string> {
  const path = testInfo.outputPath(`${name}.png`);
  await page.screenshot({ path, fullPage: true });
  await testInfo.attach(name, { path, contentType: 'image/png' });
  return path;
}
