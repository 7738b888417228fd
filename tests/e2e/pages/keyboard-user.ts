import { expect, type Locator, type Page } from '@playwright/test';

/*
 * An admin who never touches the mouse: only page.keyboard moves focus, types and activates.
 * The page-wide description is script text: the Node tsconfig that checks the tests has no DOM globals.
 */
const DESCRIBE_FOCUS = `(() => {
  const element = document.activeElement;
  if (!element || element === document.body) return '(body)';
  const name = element.getAttribute('aria-label') || element.textContent || element.getAttribute('placeholder') || '';
  return element.tagName.toLowerCase() + ' "' + name.replace(/\\s+/g, ' ').trim().slice(0, 60) + '"';
})()`;
export interface FocusRing {
  focusVisible: boolean;
  style: string;
  width: number;
}

export class KeyboardUser {
  constructor(readonly page: Page) {}

  async press(key: string): Promise<void> {
    await this.page.keyboard.press(key);
  }

  /** What has focus, as "tag "name"", for failure messages. */
  async focused(): Promise<string> {
    return (await this.page.evaluate(DESCRIBE_FOCUS)) as string;
  }

  /**
   * Tabs (or Shift+Tabs) until `target` has focus and returns how many presses it took; fails after `max`,
   * naming every stop on the way, so a broken tab order reads as a list.
   */
  async tabTo(target: Locator, options: { backwards?: boolean; max?: number } = {}): Promise<number> {
    const { backwards = false, max = 20 } = options;
    const stops: string[] = [];
    for (let presses = 1; presses <= max; presses += 1) {
      await this.press(backwards ? 'Shift+Tab' : 'Tab');
      if (await target.evaluate((element) => element === element.ownerDocument.activeElement)) return presses;
      stops.push(await this.focused());
    }
    throw new Error(`${backwards ? 'Shift+Tab' : 'Tab'} never reached ${target.toString()} in ${max} presses; focus went: ${stops.join(' → ')}`);
  }

  /** Replaces the focused field's text the way a person would: select all, then type. */
  async replaceText(text: string): Promise<void> {
    await this.press('ControlOrMeta+A');
    await this.page.keyboard.type(text);
  }

  /** The focused control shows a focus ring: it matches :focus-visible and draws a real outline. */
  async expectVisibleFocus(target: Locator): Promise<void> {
    await expect(target).toBeFocused();
    const ring = await target.evaluate((element): FocusRing => {
      const style = element.ownerDocument.defaultView?.getComputedStyle(element);
      return { focusVisible: element.matches(':focus-visible'), style: style?.outlineStyle ?? 'none', width: Number.parseFloat(style?.outlineWidth ?? '0') };
    });
    expect(ring.focusVisible, `${target.toString()} matches :focus-visible`).toBe(true);
    expect(ring.style, `${target.toString()} has an outline`).not.toBe('none');
    expect(ring.width, `${target.toString()}'s outline is at least 2px wide`).toBeGreaterThanOrEqual(2);
  }
}
