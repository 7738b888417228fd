import { connect, kmsuserPinOf, peerCountKeys } from '../fixtures/cmk';
import { expect, saveScreenshot, test } from './fixtures';

// Test-only kmsuser password of throwaway SoftHSM tokens made per test.
const PASSWORD = 'kmsuser-e2e-Detail4';
// What the tool encrypts: it must never land in a Pinia store.
const PLAINTEXT = 'Quarterly payroll export — ünïcode, line 1\nline 2';

test.describe('the key detail page', () => {
  test('a CMK on a connected two-HSM store: material on both HSMs, disable → schedule deletion → cancel → enable, and an encrypt → decrypt round trip', async (
    { app, page, softHsm, workbench, axe },
    testInfo,
  ) => {
    test.setTimeout(420_000);
    const hsm = await softHsm({ tokens: 2, userPin: PASSWORD, labelPrefix: 'e2e-key' });
    // A real trust mesh (InitializeCluster with the demo CA): CreateKey copies the material wrapped between the members.
    const cluster = await workbench.call('CreateCluster', { ClusterName: 'key-detail-e2e', ModulePath: hsm.modulePath, ModuleEnvironment: hsm.env, Hsms: hsm.tokens.map((t) => ({ TokenSerial: t.serial })) });
    if (!cluster.ok) throw new Error(`CreateCluster failed: ${cluster.error.message}`);
    const initialized = await workbench.call('InitializeCluster', { ClusterId: cluster.value.Cluster.ClusterId, DemoCa: true, SoPin: hsm.soPin, KmsuserPassword: PASSWORD });
    if (!initialized.ok) throw new Error(`InitializeCluster failed: ${initialized.error.message}`);
    const store = await workbench.call('CreateCustomKeyStore', {
      CustomKeyStoreName: 'DetailKeyStore',
      CloudHsmClusterId: initialized.value.Cluster.ClusterId,
      TrustAnchorCertificate: initialized.value.Cluster.Certificates.TrustAnchorCertificate ?? '',
      KeyStorePassword: PASSWORD,
    });
    if (!store.ok) throw new Error(`CreateCustomKeyStore failed: ${store.error.message}`);
    const storeId = store.value.CustomKeyStoreId;
    await connect(workbench, storeId);
    const created = await workbench.call('CreateKey', { Origin: 'AWS_CLOUDHSM', CustomKeyStoreId: storeId, Description: 'payroll exports' });
    if (!created.ok) throw new Error(`CreateKey failed: ${created.error.name}: ${created.error.message}`);
    const { KeyId: keyId, Arn: arn } = created.value.KeyMetadata;

    // From the Keys page, as an admin gets there: the row opens the detail.
    await app.open('#/keys');
    const grid = page.getByRole('grid', { name: 'Keys' });
    await expect(grid).toContainText(keyId);
    await grid.focus();
    await page.keyboard.press('Enter');
    await expect(page.getByRole('heading', { level: 1, name: `Key: ${keyId}` })).toBeFocused();

    const facts = page.locator('.facts-panel');
    await expect(facts).toContainText('Enabled');
    await expect(facts).toContainText(arn);
    await expect(facts).toContainText('payroll exports');
    const material = page.getByRole('table', { name: 'Key material on each HSM' });
    await expect(material.getByRole('row')).toHaveCount(3, { timeout: 30_000 });
    await expect(material.getByText('Verified', { exact: true })).toHaveCount(2);
    await saveScreenshot(page, testInfo, 'key-detail-enabled');
    await axe.expectClean('the key detail page (enabled key)');

    // Disable, confirmed.
    await facts.getByRole('button', { name: 'Disable' }).click();
    const disable = page.getByRole('dialog', { name: `Disable key ${keyId}?` });
    await expect(disable.getByRole('button', { name: 'Cancel' })).toBeFocused();
    await disable.getByRole('button', { name: 'Disable key' }).click();
    await expect(disable).toBeHidden();
    await expect(page.getByRole('status').filter({ hasText: `Key ${keyId} is disabled` })).toBeVisible();
    await expect(facts.locator('.badge')).toHaveText('Disabled');

    // Schedule deletion: 30 days by default, the dialog names the key and the date; a window out of range is refused in place.
    await facts.getByRole('button', { name: 'Schedule deletion' }).click();
    const schedule = page.getByRole('dialog', { name: `Schedule key deletion ${keyId}?` });
    const days = schedule.getByLabel('Waiting period (days)');
    await expect(days).toHaveValue('30');
    await expect(schedule).toContainText(`${keyId} will be deleted on`);
    await days.fill('5');
    await schedule.getByRole('button', { name: 'Schedule deletion' }).click();
    await expect(schedule.getByRole('alert')).toHaveText('PendingWindowInDays is 7 to 30 days');
    await days.fill('7');
    await expect(schedule.getByRole('alert')).toBeHidden();
    const expected = new Date(Date.now() + 7 * 24 * 3600 * 1000);
    await expect(schedule).toContainText(String(expected.getDate()).padStart(2, '0'));
    await saveScreenshot(page, testInfo, 'schedule-deletion-dialog');
    await axe.expectClean('the schedule key deletion dialog');
    await schedule.getByRole('button', { name: 'Schedule deletion' }).click();
    await expect(schedule).toBeHidden();
    await expect(facts.locator('.badge')).toHaveText('Pending deletion');
    await expect(facts).toContainText('(7-day window)');
    const described = await workbench.call('DescribeKey', { KeyId: keyId });
    if (!described.ok) throw new Error(described.error.message);
    expect(described.value.KeyMetadata).toMatchObject({ KeyState: 'PendingDeletion', PendingDeletionWindowInDays: 7 });
    expect(Math.abs(Date.parse(described.value.KeyMetadata.DeletionDate ?? '') - expected.getTime())).toBeLessThan(60_000);
    await saveScreenshot(page, testInfo, 'key-detail-pending-deletion');
    await axe.expectClean('the key detail page (pending deletion)');

    // A key pending deletion encrypts nothing: AWS's exception, shown plainly.
    await page.getByLabel('Plaintext', { exact: true }).fill(PLAINTEXT);
    await page.getByRole('button', { name: 'Encrypt', exact: true }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'Encrypt was refused' })).toContainText('KMSInvalidStateException');

    // Cancel the deletion: the key comes back disabled; enable it.
    await facts.getByRole('button', { name: 'Cancel deletion' }).click();
    const cancel = page.getByRole('dialog', { name: `Cancel key deletion ${keyId}?` });
    await cancel.getByRole('button', { name: 'Cancel deletion' }).click();
    await expect(cancel).toBeHidden();
    await expect(facts.locator('.badge')).toHaveText('Disabled');
    await facts.getByRole('button', { name: 'Enable' }).click();
    await page.getByRole('dialog', { name: `Enable key ${keyId}?` }).getByRole('button', { name: 'Enable key' }).click();
    await expect(facts.locator('.badge')).toHaveText('Enabled');

    // Encrypt → decrypt in the tool, with an encryption context; the wrong context is InvalidCiphertextException.
    await page.getByRole('button', { name: 'Add a context pair (Encrypt)' }).click();
    await page.getByLabel('Encrypt context key 1').fill('Department');
    await page.getByLabel('Encrypt context value 1').fill('Finance');
    await page.getByRole('button', { name: 'Encrypt', exact: true }).click();
    const ciphertext = page.getByLabel('Ciphertext (CiphertextBlob, base64)');
    await expect(ciphertext).toHaveValue(/^[A-Za-z0-9+/]+=*$/);
    await expect(page.getByRole('link', { name: 'Download (binary, for fileb://)' })).toHaveAttribute('download', `${keyId}.ciphertext`);
    await page.getByRole('button', { name: 'Decrypt this' }).click();
    await page.getByLabel('Decrypt context value 1').fill('Marketing');
    await page.getByRole('button', { name: 'Decrypt', exact: true }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'Decrypt was refused' })).toContainText('InvalidCiphertextException');
    await page.getByLabel('Decrypt context value 1').fill('Finance');
    await page.getByRole('button', { name: 'Decrypt', exact: true }).click();
    await expect(page.getByLabel('Plaintext', { exact: true }).nth(1)).toHaveValue(PLAINTEXT);
    await expect(page.getByText(`Decrypted under ${arn}.`)).toBeVisible();
    await saveScreenshot(page, testInfo, 'encrypt-decrypt-round-trip');
    await axe.expectClean('the key detail page, encrypt/decrypt round trip');
    expect(await app.piniaState()).not.toContain('Quarterly payroll');

    // A binary file: encrypted as its bytes, decrypted to a download rather than shown as text.
    await page.getByRole('radio', { name: 'A file' }).check();
    await page.getByLabel('Plaintext file').setInputFiles({ name: 'blob.bin', mimeType: 'application/octet-stream', buffer: Buffer.from([0, 1, 2, 255]) });
    await expect(page.getByText('blob.bin: 4 bytes')).toBeVisible();
    await page.getByRole('button', { name: 'Encrypt', exact: true }).click();
    await page.getByRole('button', { name: 'Decrypt this' }).click();
    await page.getByRole('button', { name: 'Decrypt', exact: true }).click();
    await expect(page.getByText('The plaintext is 4 bytes of binary data.')).toBeVisible();
    await expect(page.getByRole('link', { name: 'Download the plaintext' })).toHaveAttribute('download', 'plaintext.bin');

    // A raw ciphertext file made outside the page (as `base64 -d` of the CLI's CiphertextBlob) decrypts to its text.
    const outside = await workbench.call('Encrypt', { KeyId: keyId, Plaintext: Buffer.from('made by the CLI').toString('base64') });
    if (!outside.ok) throw new Error(outside.error.message);
    await page.getByRole('button', { name: 'Remove Decrypt context row 1' }).click();
    await page.getByLabel('Or load a ciphertext file').setInputFiles({ name: 'c.bin', mimeType: 'application/octet-stream', buffer: Buffer.from(outside.value.CiphertextBlob, 'base64') });
    await expect(page.getByLabel('Ciphertext (base64)', { exact: true })).toHaveValue(outside.value.CiphertextBlob);
    await page.getByRole('button', { name: 'Decrypt', exact: true }).click();
    await expect(page.getByLabel('Plaintext', { exact: true })).toHaveValue('made by the CLI');

    // A refused alias or tag keeps what was typed beside the refusal (reserved names: refused by the service once it is built too).
    await page.getByLabel('New alias').fill('aws/reserved');
    await page.getByRole('button', { name: 'Create alias' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'The alias was not created' })).toBeVisible();
    await expect(page.getByLabel('New alias')).toHaveValue('aws/reserved');
    await page.getByLabel('Tag key').fill('aws:reserved');
    await page.getByLabel('Value', { exact: true }).fill('x');
    await page.getByRole('button', { name: 'Add tag' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'The tag was not added' })).toBeVisible();
    await expect(page.getByLabel('Tag key')).toHaveValue('aws:reserved');
    await saveScreenshot(page, testInfo, 'refused-alias-and-tag');
    await axe.expectClean('the key detail page with a refused alias and tag');

    // An independent peer: pkcs11-tool still lists the key material on both tokens after the cancelled deletion.
    const pin = await kmsuserPinOf(workbench, storeId);
    expect(await peerCountKeys(hsm, 0, pin, arn)).toBe(1);
    expect(await peerCountKeys(hsm, 1, pin, arn)).toBe(1);
  });
});
