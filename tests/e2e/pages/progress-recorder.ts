import type { Page } from '@playwright/test';

export interface ProgressSample {
  now: number;
  max: number;
  /** Finished checks listed under the bar at that moment. */
  finished: number;
  cancelVisible: boolean;
}

/*
 * A check run on two SoftHSM tokens takes a fraction of a second, too quick to poll. A MutationObserver
 * in the page writes down every state the progress bar passed through instead.
 * Kept as script text: the Node tsconfig that checks the tests has no DOM types.
 */
const INSTALL = `(() => {
  const samples = [];
  globalThis.__progressSamples = samples;
  const sample = () => {
    const bar = document.querySelector('[role="progressbar"]');
    if (!bar) return;
    const list = document.querySelector('ol[aria-label="Finished checks"]');
    const cancel = [...document.querySelectorAll('button')].some((b) => b.textContent.trim() === 'Cancel');
    const next = { now: Number(bar.getAttribute('aria-valuenow')), max: Number(bar.getAttribute('aria-valuemax')), finished: list ? list.children.length : 0, cancelVisible: cancel };
    const last = samples[samples.length - 1];
    if (!last || last.now !== next.now || last.max !== next.max || last.finished !== next.finished || last.cancelVisible !== next.cancelVisible) samples.push(next);
  };
  new MutationObserver(sample).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
})()`;

export async function startRecordingProgress(page: Page): Promise<() => Promise<ProgressSample[]>> {
  await page.evaluate(INSTALL);
  return async () => (await page.evaluate('globalThis.__progressSamples')) as ProgressSample[];
}
