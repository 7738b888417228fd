import { expect, type Locator, type Page } from '@playwright/test';

export type CheckStatusText = 'Passed' | 'Warning' | 'Failed' | 'Skipped';

/** The report step: verdict, summary line and the grouped checks. */
export class CheckReport {
  readonly root: Locator;
  readonly summary: Locator;

  constructor(readonly page: Page) {
    this.root = page.getByRole('main');
    this.summary = page.getByTestId('report-summary');
  }

  /** A group: "Cluster-wide", or "HSM 1: <HsmId>" (match by prefix, e.g. "HSM 2"). */
  group(title: string | RegExp): Locator {
    return this.root.getByRole('region', { name: title });
  }

  /** One check by title, optionally within a group. */
  check(title: string, within?: Locator): Locator {
    return (within ?? this.root).getByRole('listitem').filter({ has: this.page.getByText(title, { exact: true }) });
  }

  async expectStatus(check: Locator, status: CheckStatusText): Promise<void> {
    await expect(check.getByText(status, { exact: true })).toBeVisible();
  }
}

/** The cluster wizard: Module → Members → Name → Checks → Report. */
export class ClusterWizardPage {
  readonly stepper: Locator;
  readonly currentStep: Locator;
  readonly report: CheckReport;
  /** Step 2's table of the module's slots. */
  readonly slotsTable: Locator;
  /** Step 3's summary of what will be created. */
  readonly summary: Locator;

  constructor(readonly page: Page) {
    this.stepper = page.getByRole('navigation', { name: 'Wizard steps' });
    this.currentStep = this.stepper.locator('[aria-current="step"]');
    this.report = new CheckReport(page);
    this.slotsTable = page.getByRole('table', { name: 'Slots and tokens' });
    this.summary = page.getByRole('region', { name: 'Summary' });
  }

  /** The page title: "New cluster", or "Cluster checks" followed by the cluster's name. */
  title(): Locator {
    return this.page.getByRole('heading', { level: 1 });
  }

  /** "← Clusters": back to the list from any step. */
  backToClusters(): Locator {
    return this.page.getByRole('button', { name: '← Clusters' });
  }

  nextToNameButton(): Locator {
    return this.page.getByRole('button', { name: 'Next: name the cluster' });
  }

  createClusterButton(): Locator {
    return this.page.getByRole('button', { name: 'Create cluster' });
  }

  /** Step 4's live status line: progress while running, then how the last run ended. */
  checksStatus(): Locator {
    return this.page.getByRole('form', { name: '4. Checks' }).getByRole('status');
  }

  cancelButton(): Locator {
    return this.page.getByRole('button', { name: 'Cancel', exact: true });
  }

  /** The serials in the Name step's summary, in the order it lists them. */
  async summarySerials(): Promise<string[]> {
    const items = await this.summary.getByRole('listitem').allTextContents();
    return items.flatMap((text) => /serial (\S+)/.exec(text)?.[1] ?? []);
  }

  /** The token serials in the Members table, top to bottom (initialised tokens only). */
  async tableSerials(): Promise<string[]> {
    const labels = await this.slotsTable.getByRole('checkbox', { disabled: false }).evaluateAll((boxes) => boxes.map((box) => box.getAttribute('aria-label') ?? ''));
    return labels.flatMap((label) => /serial (\S+)\)$/.exec(label)?.[1] ?? []);
  }

  stepHeading(name: RegExp | string): Locator {
    return this.page.getByRole('heading', { level: 2, name });
  }

  alert(): Locator {
    return this.page.getByRole('main').getByRole('alert');
  }

  /** Step 1: module path and environment (replaces every environment row). */
  async chooseModule(modulePath: string, environment: Record<string, string> = {}): Promise<void> {
    await expect(this.stepHeading('1. Module')).toBeVisible();
    await this.moduleField().fill(modulePath);
    const remove = this.page.getByRole('group', { name: 'Module environment' }).getByRole('button', { name: /^Remove/ });
    while ((await remove.count()) > 0) await remove.first().click();
    for (const [name, value] of Object.entries(environment)) {
      await this.page.getByRole('button', { name: 'Add variable' }).click();
      const index = await this.page.getByRole('textbox', { name: /^Variable name, row/ }).count();
      await this.page.getByRole('textbox', { name: `Variable name, row ${index}` }).fill(name);
      await this.environmentValue(name).fill(value);
    }
  }

  async listSlots(): Promise<void> {
    await this.page.getByRole('button', { name: 'List slots' }).click();
  }

  tokenCheckbox(serial: string): Locator {
    return this.page.getByRole('checkbox', { name: new RegExp(`serial ${serial}\\)$`) });
  }

  /** Step 2: tick the tokens with these serials (stays on the step). */
  async checkTokens(serials: readonly string[]): Promise<void> {
    await expect(this.stepHeading('2. Members')).toBeFocused();
    for (const serial of serials) await this.tokenCheckbox(serial).check();
  }

  /** Step 2: tick the tokens with these serials, then go on to naming. */
  async selectTokens(serials: readonly string[]): Promise<void> {
    await this.checkTokens(serials);
    await this.nextToNameButton().click();
  }

  /** Step 3: name, login format, then "Create cluster". */
  async nameCluster(name: string, loginFormat: 'password' | 'user:password' = 'password'): Promise<void> {
    await expect(this.stepHeading('3. Name')).toBeFocused();
    await this.createCluster(name, loginFormat);
  }

  /** Step 3 from wherever focus is (e.g. after a refused name): fill in, then "Create cluster". */
  async createCluster(name: string, loginFormat: 'password' | 'user:password' = 'password'): Promise<void> {
    await this.clusterNameField().fill(name);
    await this.loginFormatRadio(loginFormat).check();
    await this.createClusterButton().click();
  }

  moduleField(): Locator {
    return this.page.getByLabel('PKCS#11 module path');
  }

  environmentValue(name: string): Locator {
    return this.page.getByRole('textbox', { name: `Value of ${name}` });
  }

  clusterNameField(): Locator {
    return this.page.getByLabel('Cluster name');
  }

  loginFormatRadio(loginFormat: 'password' | 'user:password'): Locator {
    return this.page.getByRole('radio', { name: new RegExp(`^${loginFormat} —`) });
  }

  passwordField(): Locator {
    return this.page.getByLabel(/^kmsuser password/);
  }

  progressBar(): Locator {
    return this.page.getByRole('progressbar', { name: 'Checks completed' });
  }

  /** Step 4: optional password, then "Run checks". Does not wait for the report. */
  async runChecks(options: { kmsuserPassword?: string } = {}): Promise<void> {
    await expect(this.stepHeading('4. Checks')).toBeVisible();
    if (options.kmsuserPassword !== undefined) await this.passwordField().fill(options.kmsuserPassword);
    await this.page.getByRole('button', { name: 'Run checks' }).click();
  }

  async waitForReport(): Promise<CheckReport> {
    await expect(this.stepHeading('5. Report')).toBeFocused({ timeout: 45_000 });
    return this.report;
  }
}
