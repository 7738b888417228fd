import AxeBuilder from '@axe-core/playwright';
import { expect, type Page } from '@playwright/test';
import type { NodeResult } from 'axe-core';

/** WCAG 2.1 A and AA: the level the workbench promises. */
export const WCAG_TAGS: readonly string[] = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

export type ColorScheme = 'light' | 'dark';

/**
 * "Needs review" results checked by hand. color-contrast/nonBmp: the wizard stepper's ✓ and number markers are
 * aria-hidden glyphs (the step's name is text beside them); axe cannot measure glyph-only contrast. Their colours
 * (--pass, --accent on --surface) are the same pairs axe passes as text elsewhere.
 */
function isReviewed(rule: string, node: NodeResult): boolean {
  return rule === 'color-contrast' && node.any.some((check) => (check.data as { messageKey?: unknown } | null)?.messageKey === 'nonBmp');
}

/** The page background each theme resolves to (theme.css `--bg`): proof the scan really ran in that theme. */
const BACKGROUND: Readonly<Record<ColorScheme, string>> = { light: 'rgb(244, 246, 248)', dark: 'rgb(18, 22, 27)' };

/** One axe violation, flattened to what a failing assertion should print. */
export interface AxeFinding {
  state: string;
  theme: ColorScheme;
  rule: string;
  impact: string;
  help: string;
  nodes: string[];
}

/**
 * Runs axe on the page as it is, once per colour scheme. The scheme is switched with the OS preference
 * (emulateMedia), which the app follows while the theme is "System": it also works while a modal dialog
 * makes the header's theme toggle inert.
 */
export class AxeScanner {
  readonly findings: AxeFinding[] = [];

  constructor(readonly page: Page) {}

  async scan(state: string): Promise<AxeFinding[]> {
    await expect(this.page.locator('html'), 'the theme follows the system while scanning').not.toHaveAttribute('data-theme', /.*/);
    const found: AxeFinding[] = [];
    for (const theme of ['light', 'dark'] as const) {
      await this.page.emulateMedia({ colorScheme: theme });
      await expect(this.page.locator('body')).toHaveCSS('background-color', BACKGROUND[theme]);
      // Legacy mode runs axe in the page itself: the default mode finishes in a new tab, which takes focus
      // away from this page and would break the focus assertions that follow a scan. The app has no iframes.
      const results = await new AxeBuilder({ page: this.page }).withTags([...WCAG_TAGS]).setLegacyMode(true).analyze();
      // "Needs review" results count too: axe could not decide, so a person must, and the known ones are named here.
      const unreviewed = results.incomplete
        .map((result) => ({ ...result, nodes: result.nodes.filter((node) => !isReviewed(result.id, node)) }))
        .filter((result) => result.nodes.length > 0);
      for (const violation of [...results.violations, ...unreviewed.map((result) => ({ ...result, id: `${result.id} (needs review)` }))]) {
        found.push({
          state,
          theme,
          rule: violation.id,
          impact: violation.impact ?? 'unknown',
          help: violation.help,
          nodes: violation.nodes.map((node) => `${node.target.join(' ')} — ${node.failureSummary ?? ''}`.replaceAll('\n', ' ')),
        });
      }
    }
    await this.page.emulateMedia({ colorScheme: 'light' });
    this.findings.push(...found);
    return found;
  }

  /** Scans and fails on any violation, naming the state, theme, rule and elements; soft, so one run lists every state's. */
  async expectClean(state: string): Promise<void> {
    const found = await this.scan(state);
    expect.soft(found, `axe found WCAG 2.1 AA violations on ${state}`).toEqual([]);
  }
}
