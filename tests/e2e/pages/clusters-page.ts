import { expect, type Locator, type Page } from '@playwright/test';

/** The Clusters table and its actions. */
export class ClustersPage {
  readonly heading: Locator;
  readonly table: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { level: 1, name: 'Clusters' });
    this.table = page.getByRole('table', { name: 'Clusters' });
  }

  row(clusterName: string): Locator {
    return this.table.getByRole('row').filter({ has: this.page.getByRole('rowheader', { name: clusterName, exact: true }) });
  }

  async newCluster(): Promise<void> {
    await this.page.getByRole('button', { name: 'New cluster' }).click();
  }

  async check(clusterName: string): Promise<void> {
    await this.row(clusterName).getByRole('button', { name: `Check ${clusterName}` }).click();
  }

  /** Opens the confirmation dialog; returns it for the test to confirm or cancel. */
  async askDelete(clusterName: string): Promise<Locator> {
    await this.row(clusterName).getByRole('button', { name: `Delete ${clusterName}` }).click();
    const dialog = this.page.getByRole('dialog', { name: `Delete cluster “${clusterName}”?` });
    await expect(dialog).toBeVisible();
    return dialog;
  }
}
