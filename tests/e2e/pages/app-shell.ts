import { expect, type Locator, type Page } from '@playwright/test';
import { APP_ORIGIN } from '../bridge/node-bridge';

/** The frame around every view: header (version, state directory, theme) and the main navigation. */
export class AppShell {
  readonly header: Locator;
  readonly nav: Locator;
  readonly main: Locator;

  constructor(readonly page: Page) {
    this.header = page.getByRole('banner');
    this.nav = page.getByRole('navigation', { name: 'Main' });
    this.main = page.getByRole('main');
  }

  /** Opens the app (optionally at a hash route) and waits until it has described itself. */
  async open(hash = '#/clusters'): Promise<void> {
    await this.page.goto(`${APP_ORIGIN}/index.html${hash}`);
    await expect(this.header.getByText(/^Workbench version v\d/)).toBeVisible();
  }

  /** Loads the page again, e.g. after the test changed the core's state behind the renderer's back. */
  async reload(): Promise<void> {
    await this.page.reload();
    await expect(this.header.getByText(/^Workbench version v\d/)).toBeVisible();
  }

  async navigate(section: 'Clusters' | 'Key stores' | 'Keys' | 'Inspector' | 'Audit'): Promise<void> {
    await this.nav.getByRole('link', { name: new RegExp(`^${section}`) }).click();
  }

  /** Every Pinia store's state as JSON, read through the Vue app instance on #app: what the renderer holds. */
  async piniaState(): Promise<string> {
    return (await this.page.evaluate('JSON.stringify(document.querySelector("#app").__vue_app__.config.globalProperties.$pinia.state.value)')) as string;
  }

  async chooseTheme(theme: 'System' | 'Light' | 'Dark'): Promise<void> {
    await this.header.getByRole('group', { name: 'Theme' }).getByRole('button', { name: theme }).click();
  }
}
