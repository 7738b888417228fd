import { randomUUID } from 'node:crypto';
import { keyArn, LOCAL_PARTITION } from '../../main/keys/arn';
import { clusterRecord, cmkRecord, keyStoreRecord } from '../fixtures/records';
import { expect, saveScreenshot, test } from './fixtures';

/** The Keys page must stay smooth at 10,000 CMKs: only the rows in view are elements. */
const KEYS = 10_000;
/** The scroller shows ~16 rows of 44 px plus the overscan of 8 on each side: far below this whatever the viewport. */
const MAX_ROW_ELEMENTS = 60;

test.describe('the Keys page with 10,000 CMKs', () => {
  test('renders a bounded window of rows, scrolls to the last key, filters by search and state, and moves with the keyboard', async ({ app, page, workbench, axe }, testInfo) => {
    test.setTimeout(120_000);
    // Records only: the list reads the state, no HSM is needed. Key i's description names it so a search can find one.
    const cluster = clusterRecord('keys-list');
    const storeId = 'cks-0123456789abcdef0';
    const base = Date.parse('2026-01-01T00:00:00Z');
    const ids: string[] = Array.from({ length: KEYS }, () => randomUUID());
    await workbench.editState((s) => {
      s.clusters.push(cluster);
      s.customKeyStores.push({ ...keyStoreRecord(storeId, cluster.ClusterId), CustomKeyStoreName: 'ListStore' });
      ids.forEach((keyId, i) => {
        s.keys.put({
          ...cmkRecord(storeId, cluster.ClusterId, keyId),
          Arn: keyArn(LOCAL_PARTITION, keyId),
          CreationDate: new Date(base + i * 60_000).toISOString(),
          Description: `seeded key ${String(i).padStart(5, '0')}`,
          // The store is DISCONNECTED, so the others show Unavailable; PendingDeletion stays visible as itself.
          ...(i % 10 === 3 ? { KeyState: 'PendingDeletion' as const, DeletionDate: new Date(base + 30 * 86_400_000).toISOString(), PendingDeletionWindowInDays: 30 } : {}),
        });
      });
    });

    await app.open('#/keys');
    const grid = page.getByRole('grid', { name: 'Keys' });
    await expect(page.getByRole('status').filter({ hasText: '10,000 keys' })).toBeVisible({ timeout: 30_000 });
    const rows = grid.locator('[role="row"][aria-rowindex]:not([aria-rowindex="1"])');
    await expect(rows.first()).toBeVisible();
    expect(await rows.count()).toBeLessThanOrEqual(MAX_ROW_ELEMENTS);
    await expect(grid).toHaveAttribute('aria-rowcount', String(KEYS + 1));
    await saveScreenshot(page, testInfo, 'keys-list');
    await axe.expectClean('the Keys page with 10,000 keys');

    // The list's order is the state's (DescribeKeys'); the last row is whatever key the page puts last.
    const listed = await workbench.call('DescribeKeys', { Limit: KEYS });
    if (!listed.ok) throw new Error(listed.error.message);
    const last = listed.value.Keys.at(-1);
    if (!last) throw new Error('no keys listed');

    // Scrolling the scroller to its end brings the last key's row into the DOM, still a bounded window.
    await page.getByTestId('keys-scroller').evaluate((element) => element.scrollTo({ top: element.scrollHeight }));
    const lastRow = grid.getByRole('row').filter({ hasText: last.KeyId });
    await expect(lastRow).toBeVisible();
    await expect(lastRow).toHaveAttribute('aria-rowindex', String(KEYS + 1));
    expect(await rows.count()).toBeLessThanOrEqual(MAX_ROW_ELEMENTS);
    await saveScreenshot(page, testInfo, 'keys-list-end');

    // The keyboard: focus the grid, Home → the first row, ArrowDown twice → the third, End → the last.
    await grid.focus();
    await page.keyboard.press('Home');
    await expect(grid).toHaveAttribute('aria-activedescendant', 'key-row-0');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await expect(grid).toHaveAttribute('aria-activedescendant', 'key-row-2');
    await expect(page.locator('#key-row-2')).toHaveAttribute('aria-selected', 'true');
    await page.keyboard.press('End');
    await expect(grid).toHaveAttribute('aria-activedescendant', `key-row-${KEYS - 1}`);
    await expect(page.locator(`#key-row-${KEYS - 1}`)).toContainText(last.KeyId);

    // Search: one key by its description, then by a piece of its id.
    const search = page.getByRole('searchbox', { name: 'Search' });
    await search.fill('seeded key 04321');
    await expect(page.getByRole('status').filter({ hasText: '1 of 10,000 keys' })).toBeVisible();
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toContainText(ids[4321] ?? '');
    await search.fill(ids[17]?.slice(0, 13) ?? '');
    await expect(rows.first()).toContainText(ids[17] ?? '');
    await search.fill('');

    // State filter: every tenth key is pending deletion.
    await page.getByLabel('State').selectOption('PendingDeletion');
    await expect(page.getByRole('status').filter({ hasText: '1,000 of 10,000 keys' })).toBeVisible();
    await expect(rows.first()).toContainText('Pending deletion');
    await saveScreenshot(page, testInfo, 'keys-list-pending');

    // Enter opens the active row's key.
    await grid.focus();
    await page.keyboard.press('Home');
    const first = (await rows.first().getByRole('link').textContent()) ?? '';
    expect(ids.indexOf(first) % 10).toBe(3);
    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(new RegExp(`#/keys/${first}$`));
  });
});
