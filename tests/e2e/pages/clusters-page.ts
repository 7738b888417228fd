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

  newClusterButton(): Locator {
    return this.page.getByRole('button', { name: 'New cluster' });
  }

  /** A row's action button: "Check <name>" or "Delete <name>". */
  rowButton(clusterName: string, action: 'Check' | 'Delete'): Locator {
    return this.row(clusterName).getByRole('button', { name: `${action} ${clusterName}` });
  }

  deleteDialog(clusterName: string): Locator {
    return this.page.getByRole('dialog', { name: `Delete cluster “${clusterName}”?` });
  }

  async newCluster(): Promise<void> {
    await this.newClusterButton().click();
  }

  async check(clusterName: string): Promise<void> {
    await this.rowButton(clusterName, 'Check').click();
  }

  /** Opens the confirmation dialog; returns it for the test to confirm or cancel. */
  async askDelete(clusterName: string): Promise<Locator> {
    await this.rowButton(clusterName, 'Delete').click();
    const dialog = this.deleteDialog(clusterName);
    await expect(dialog).toBeVisible();
    return dialog;
  }
}
