import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { kmsuserPasswordContext } from '../../main/key-stores/key-store-records';
import { openSecretVault } from '../../main/secrets/secret-vault';
import { openStateStore } from '../../main/state/state-store';
import type { TestWorkbench } from '../fixtures/workbench';
import { expect, saveScreenshot, test, type SoftHsmCluster } from './fixtures';

// Test-only PIN for throwaway SoftHSM tokens made per test.
const KMSUSER = 'kmsuser-e2e-Keys1';

/** A CONNECTED custom key store on an ACTIVE cluster of the given tokens, made through the core (the wizard under test starts after). */
async function connectedStore(workbench: TestWorkbench, hsm: SoftHsmCluster, name: string, tokens: readonly number[]): Promise<string> {
  const made = await workbench.call('CreateCluster', { ClusterName: name, ModulePath: hsm.modulePath, ModuleEnvironment: hsm.env, Hsms: tokens.map((i) => ({ TokenSerial: hsm.tokens[i]?.serial ?? '' })) });
  if (!made.ok) throw new Error(made.error.message);
  const active = await workbench.call('InitializeCluster', { ClusterId: made.value.Cluster.ClusterId, DemoCa: true, SoPin: hsm.soPin, KmsuserPassword: KMSUSER });
  if (!active.ok) throw new Error(active.error.message);
  const anchor = active.value.Cluster.Certificates.TrustAnchorCertificate ?? '';
  const store = await workbench.call('CreateCustomKeyStore', { CustomKeyStoreName: name, CloudHsmClusterId: made.value.Cluster.ClusterId, TrustAnchorCertificate: anchor, KeyStorePassword: KMSUSER });
  if (!store.ok) throw new Error(store.error.message);
  const id = store.value.CustomKeyStoreId;
  const connect = await workbench.call('ConnectCustomKeyStore', { CustomKeyStoreId: id });
  if (!connect.ok) throw new Error(connect.error.message);
  await expect
    .poll(async () => {
      const described = await workbench.call('DescribeCustomKeyStores', { CustomKeyStoreId: id });
      return described.ok ? described.value.CustomKeyStores[0]?.ConnectionState : described.error.name;
    }, { timeout: 60_000 })
    .toBe('CONNECTED');
  return id;
}

/** The connect rotated kmsuser's password: the peer logs in with the one the workbench holds now, opened through its vault. */
async function currentPassword(workbench: TestWorkbench, storeId: string): Promise<string> {
  const state = await (await openStateStore({ stateDir: workbench.stateDir, program: 'test' })).read();
  const sealed = state.customKeyStores.find((k) => k.CustomKeyStoreId === storeId)?.KmsuserPassword;
  if (sealed === undefined) throw new Error('the store holds no password');
  return (await openSecretVault({ stateDir: workbench.stateDir })).open(sealed, kmsuserPasswordContext(storeId));
}

async function secretKeysOn(hsm: SoftHsmCluster, index: number, pin: string): Promise<string> {
  const { stdout } = await promisify(execFile)('pkcs11-tool', ['--module', hsm.modulePath, '--slot', hsm.tokens[index]?.slotId ?? '', '--login', '--pin', pin, '--list-objects', '--type', 'secrkey'], {
    env: { ...process.env, ...hsm.env },
  });
  return stdout;
}

test.describe('the CMK creation wizard', () => {
  test('a one-HSM store is blocked at the pre-flight; a two-HSM store makes a key, shown with its handles and verified on both tokens', async ({ app, page, softHsm, workbench, axe }, testInfo) => {
    test.setTimeout(300_000);
    const hsm = await softHsm({ tokens: 3, userPin: KMSUSER, labelPrefix: 'e2e-key' });
    const storeId = await connectedStore(workbench, hsm, 'PaymentsStore', [0, 1]);
    await connectedStore(workbench, hsm, 'SingleStore', [2]);

    await app.open('#/keys');
    await page.getByRole('button', { name: 'Create a key' }).first().click();
    await expect(page).toHaveURL(/#\/keys\/new$/);
    await expect(page.getByRole('heading', { level: 2, name: '1. Key store' })).toBeFocused();

    // Next without a choice says why; then the one-HSM store, whose pre-flight blocks Next below two.
    await page.getByRole('button', { name: 'Next: pre-flight' }).click();
    await expect(page.getByRole('alert')).toContainText('Choose a connected key store');
    await page.getByRole('radio', { name: /SingleStore/ }).check();
    await expect(page.getByRole('alert')).toBeHidden();
    await saveScreenshot(page, testInfo, 'wizard-1-store');
    await axe.expectClean('key wizard, step 1');
    await page.getByRole('button', { name: 'Next: pre-flight' }).click();
    await expect(page.getByText(/^1 of 1 HSMs is active; a key needs at least 2/)).toBeVisible({ timeout: 30_000 });
    const next = page.getByRole('button', { name: 'Next: details' });
    await expect(next).toHaveAttribute('aria-disabled', 'true');
    await expect(next).toHaveAccessibleDescription(/a key needs at least 2/);
    await expect(page.getByText('Add an HSM to the cluster first.', { exact: false })).toBeVisible();
    // aria-disabled keeps the button focusable and described; a click (forced past Playwright's own check) stays put.
    await next.click({ force: true });
    await expect(page.getByRole('heading', { level: 2, name: '2. Pre-flight' })).toBeVisible();
    await saveScreenshot(page, testInfo, 'wizard-2-preflight-blocked');
    await axe.expectClean('key wizard, pre-flight blocked');

    // Back to step 1, the two-HSM store: both members count.
    await page.getByRole('button', { name: 'Back', exact: true }).click();
    await page.getByRole('radio', { name: /PaymentsStore/ }).check();
    await page.getByRole('button', { name: 'Next: pre-flight' }).click();
    await expect(page.getByText(/^2 of 2 HSMs are active/)).toBeVisible({ timeout: 30_000 });
    await expect(page.getByRole('table').getByText('Active', { exact: true })).toHaveCount(2);
    await saveScreenshot(page, testInfo, 'wizard-2-preflight');
    await axe.expectClean('key wizard, pre-flight ready');
    await next.click();

    // Details: a description, an alias, a tag (a bad tag first: refused before any call, nothing made).
    await expect(page.getByRole('heading', { level: 2, name: '3. Details' })).toBeFocused();
    await page.getByLabel('Description').fill('Payments data key encryption');
    await page.getByLabel('Alias').fill('alias/payments');
    await page.getByRole('button', { name: 'Add a tag' }).click();
    await page.getByLabel('Tag 1 value').fill('no key');
    await page.getByRole('button', { name: 'Create the key' }).click();
    await expect(page.getByRole('alert')).toHaveText('TagKey is 1 to 128 characters');
    await page.getByLabel('Tag 1 key').fill('Project');
    await page.getByLabel('Tag 1 value').fill('payments');
    await expect(page.getByRole('alert')).toBeHidden();
    await saveScreenshot(page, testInfo, 'wizard-3-details');
    await axe.expectClean('key wizard, details');
    const before = await workbench.call('DescribeKeys', {});
    expect(before.ok && before.value.Keys).toEqual([]);

    await page.getByRole('button', { name: 'Create the key' }).click();
    await expect(page.getByRole('heading', { level: 2, name: '4. Create' })).toBeVisible();
    await expect(page.getByRole('status').filter({ hasText: /^Key .* is Enabled\.$/ })).toBeVisible({ timeout: 60_000 });
    const keyId = ((await app.main.getByRole('definition').first().textContent()) ?? '').trim();
    expect(keyId).toMatch(/^[0-9a-f-]{36}$/);

    // The alias is made after the key; while CreateAlias is not built, its refusal shows and the key stays made.
    const aliasesBuilt = (await workbench.call('ListAliases', {})).ok;
    if (aliasesBuilt) await expect(page.getByText('alias/payments', { exact: true })).toBeVisible();
    else await expect(page.getByRole('alert')).toContainText('The key was created, but the alias alias/payments was not');

    // The handles on each HSM, both copies VERIFIED with one check value.
    const material = page.getByRole('table', { name: 'The backing key on each HSM' });
    await expect(material.getByRole('row')).toHaveCount(3);
    await expect(material.getByText('Verified', { exact: true })).toHaveCount(2);
    await saveScreenshot(page, testInfo, 'wizard-4-created');
    await axe.expectClean('key wizard, key created');

    // Through the bridge: the key as the wizard made it.
    const described = await workbench.call('DescribeKey', { KeyId: keyId });
    if (!described.ok) throw new Error(described.error.message);
    expect(described.value.KeyMetadata).toMatchObject({ KeyId: keyId, KeyState: 'Enabled', CustomKeyStoreId: storeId, Description: 'Payments data key encryption', Origin: 'AWS_CLOUDHSM' });
    const tags = await workbench.call('ListResourceTags', { KeyId: keyId });
    if (tags.ok) expect(tags.value.Tags).toEqual([{ TagKey: 'Project', TagValue: 'payments' }]);
    const checkValues = await workbench.call('DescribeKeyMaterial', { KeyId: keyId });
    if (!checkValues.ok) throw new Error(checkValues.error.message);
    const [first, second] = checkValues.value.BackingKeys;
    expect(first?.CheckValue).toMatch(/^[0-9a-f]{6}$/);
    expect(second?.CheckValue).toBe(first?.CheckValue);
    for (const copy of checkValues.value.BackingKeys) await expect(material.getByRole('row').filter({ hasText: copy.HsmId })).toContainText(copy.CheckValue ?? 'none');

    // The independent peer: one secret key labelled with the key's ARN on each of the store's tokens.
    const pin = await currentPassword(workbench, storeId);
    for (const index of [0, 1]) {
      const objects = (await secretKeysOn(hsm, index, pin)).split('Secret Key Object').filter((o) => o.includes(described.value.KeyMetadata.Arn));
      expect(objects, `token ${index}`).toHaveLength(1);
      expect(objects[0]).toMatch(/sensitive/);
    }

    // The Keys page lists it; Open the key goes to its page.
    await page.getByRole('button', { name: 'Open the key' }).click();
    await expect(page).toHaveURL(new RegExp(`#/keys/${keyId}$`));
  });
});
