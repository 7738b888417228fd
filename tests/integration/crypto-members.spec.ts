import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CmkRecord } from '../../main/state/records';
import { connectedStore, createTestCmk, type StoreSetup } from '../fixtures/cmk';
import { injectFaults, type FaultInjection } from '../fixtures/fault-module';
import { ok } from '../fixtures/outcomes';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';

/**
 * Crypto over the members of a two-HSM store, through the fault module: calls spread over both HSMs, and a key
 * keeps working while one HSM is gone (AWS: encryption works while any one HSM of the cluster is active).
 */
const PASSWORD = 'kmsuser-crypto-2';
let hsm: SoftHsmCluster;
let faults: FaultInjection;
let wb: TestWorkbench;
let setup: StoreSetup;
let key: CmkRecord;
const b64 = (text: string): string => Buffer.from(text).toString('base64');

beforeAll(async () => {
  hsm = await createSoftHsmCluster({ tokens: 2, userPin: PASSWORD, labelPrefix: 'cm' });
  faults = await injectFaults(hsm);
  wb = await createTestWorkbench();
  setup = await connectedStore(wb, hsm, PASSWORD, { ModulePath: faults.modulePath, ModuleEnvironment: faults.env });
  key = await createTestCmk(wb, hsm, setup);
}, 120_000);

afterAll(async () => {
  await wb?.dispose();
  await faults?.cleanup();
  await hsm?.cleanup();
});

it('spreads calls over both HSMs: with one HSM answering every C_Decrypt as a bad tag, every other call fails', async () => {
  const blob = ok(await wb.call('Encrypt', { KeyId: key.KeyId, Plaintext: b64('spread') })).CiphertextBlob;
  // A tag refused by one copy is refused by every copy, so the call is not moved: it tells which member it met.
  // `applied`: the HSM finishes the operation first, as a real one does before refusing a tag.
  await faults.setFaults([{ function: 'C_Decrypt', returns: 'CKR_ENCRYPTED_DATA_INVALID', applied: true, slot: hsm.tokens[1]?.serial ?? '' }]);
  try {
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      const result = await wb.call('Decrypt', { CiphertextBlob: blob });
      outcomes.push(result.ok ? 'first HSM' : result.error.name);
    }
    expect(outcomes.filter((o) => o === 'first HSM')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'InvalidCiphertextException')).toHaveLength(5);
  } finally {
    await faults.setFaults([]);
  }
});

/*
 * A member whose calls fail, its session kept. (A member whose session is lost — CKR_DEVICE_REMOVED, a crashed host —
 * is dropped alone while the store stays CONNECTED: key-store-members.spec.ts.)
 */
it('keeps encrypting and decrypting while one HSM fails its calls, and says KeyUnavailableException when both do', async () => {
  const failing = ['C_EncryptInit', 'C_DecryptInit', 'C_GenerateRandom'] as const;
  const failOn = (tokens: SoftHsmCluster['tokens']): Parameters<FaultInjection['setFaults']>[0] => tokens.flatMap((t) => failing.map((fn) => ({ function: fn, returns: 'CKR_FUNCTION_FAILED', slot: t.serial })));
  const blob = ok(await wb.call('Encrypt', { KeyId: key.KeyId, Plaintext: b64('one is enough') })).CiphertextBlob;
  await faults.setFaults(failOn(hsm.tokens.slice(0, 1)));
  try {
    for (let i = 0; i < 6; i += 1) {
      const sealed = ok(await wb.call('Encrypt', { KeyId: key.KeyId, Plaintext: b64(`call ${i}`) })).CiphertextBlob;
      expect(ok(await wb.call('Decrypt', { CiphertextBlob: sealed })).Plaintext).toBe(b64(`call ${i}`));
      expect(ok(await wb.call('Decrypt', { CiphertextBlob: blob })).Plaintext).toBe(b64('one is enough'));
      expect(Buffer.from(ok(await wb.call('GenerateDataKey', { KeyId: key.KeyId, KeySpec: 'AES_256' })).Plaintext, 'base64')).toHaveLength(32);
      expect(Buffer.from(ok(await wb.call('GenerateRandom', { NumberOfBytes: 8, CustomKeyStoreId: setup.storeId })).Plaintext, 'base64')).toHaveLength(8);
    }
    await faults.setFaults(failOn(hsm.tokens));
    const result = await wb.call('Encrypt', { KeyId: key.KeyId, Plaintext: b64('none left') });
    expect(result.ok ? '' : result.error.name).toBe('KeyUnavailableException');
  } finally {
    await faults.setFaults([]);
  }
  const [store] = ok(await wb.call('DescribeCustomKeyStores', { CustomKeyStoreId: setup.storeId })).CustomKeyStores;
  expect(store?.ConnectionState).toBe('CONNECTED');
});
