import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlotInfo } from '../../shared/contract/hsm';
import { createHsmHostPool } from '../../main/hsm/hsm-host-client';
import type { HsmHost, HsmHostPool, ObjectInfo } from '../../main/hsm/hsm-host';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { createSecretKeys, openDirectSession, type CreatedKey } from '../fixtures/token-objects';
import { HOST_CHILD_ENTRY } from '../fixtures/workbench';
import { rejection } from '../fixtures/outcomes';

const USER_PIN = 'kmsuser-pin-31';
const SO_PIN = 'so-officer-pin-77';

let cluster: SoftHsmCluster;
let noUserPin: SoftHsmCluster;
let pool: HsmHostPool;
let host: HsmHost;

beforeAll(async () => {
  [cluster, noUserPin] = await Promise.all([
    createSoftHsmCluster({ tokens: 2, userPin: USER_PIN, soPin: SO_PIN, labelPrefix: 'host', inMemory: true }),
    createSoftHsmCluster({ tokens: 1, userPin: null, soPin: SO_PIN, labelPrefix: 'nopin' }),
  ]);
  pool = createHsmHostPool({ childEntry: HOST_CHILD_ENTRY, defaultTimeoutMs: 10_000 });
  host = pool.get({ ModulePath: cluster.modulePath, ModuleEnvironment: cluster.env });
});

afterAll(async () => {
  await pool?.disposeAll();
  await Promise.all([cluster?.cleanup(), noUserPin?.cleanup()]);
});

function tokenSlot(slots: SlotInfo[], label: string): SlotInfo {
  const slot = slots.find((s) => s.Token?.Label === label);
  if (!slot) throw new Error(`no slot with token ${label} in ${JSON.stringify(slots.map((s) => s.Token?.Label))}`);
  return slot;
}

describe('HSM host on real SoftHSM2 tokens', () => {
  it('describes the module', async () => {
    const info = await host.getModuleInfo();
    expect(info).toMatchObject({ ModulePath: cluster.modulePath, ManufacturerId: 'SoftHSM', CryptokiVersion: expect.stringMatching(/^2\.\d+$/) });
    // SoftHSM's CK_INFO: "Implementation of PKCS11", library version = the package version (2.6 here).
    expect(info.LibraryDescription).toBe('Implementation of PKCS11');
    expect(info.LibraryVersion).toMatch(/^2\.\d+$/);
  });

  it('lists both tokens of a two-token cluster with labels, serials and flags', async () => {
    const slots = await host.listSlots();
    for (const token of cluster.tokens) {
      const slot = tokenSlot(slots, token.label);
      expect(slot.SlotId).toBe(token.slotId);
      expect(slot.TokenPresent).toBe(true);
      expect(slot.Flags).toContain('CKF_TOKEN_PRESENT');
      expect(slot.Token).toMatchObject({ SerialNumber: token.serial, ManufacturerId: 'SoftHSM project', Model: 'SoftHSM v2', MinPinLen: 4 });
      expect(slot.Token?.Flags).toEqual(expect.arrayContaining(['CKF_TOKEN_INITIALIZED', 'CKF_USER_PIN_INITIALIZED', 'CKF_LOGIN_REQUIRED', 'CKF_RNG']));
    }
    // SoftHSM always offers one more, uninitialised token.
    const spare = slots.filter((s) => !cluster.tokens.some((t) => t.slotId === s.SlotId));
    expect(spare).toHaveLength(1);
    expect(spare[0]?.Token?.Flags).not.toContain('CKF_TOKEN_INITIALIZED');
  });

  it('shows no CKF_USER_PIN_INITIALIZED on a token initialised without a user PIN', async () => {
    const slots = await pool.get({ ModulePath: noUserPin.modulePath, ModuleEnvironment: noUserPin.env }).listSlots();
    const flags = tokenSlot(slots, 'nopin-1').Token?.Flags ?? [];
    expect(flags).toContain('CKF_TOKEN_INITIALIZED');
    expect(flags).not.toContain('CKF_USER_PIN_INITIALIZED');
  });

  it('lists the mechanisms a custom key store needs', async () => {
    const mechanisms = await host.getMechanisms(cluster.tokens[0]?.slotId ?? '');
    const byName = new Map(mechanisms.map((m) => [m.Mechanism, m]));
    const aesKeyGen = byName.get('CKM_AES_KEY_GEN');
    expect(aesKeyGen?.Flags).toContain('CKF_GENERATE');
    expect(aesKeyGen?.MinKeySize).toBeLessThanOrEqual(32);
    expect(aesKeyGen?.MaxKeySize).toBeGreaterThanOrEqual(32);
    expect(byName.get('CKM_AES_GCM')?.Flags).toEqual(expect.arrayContaining(['CKF_ENCRYPT', 'CKF_DECRYPT']));
    expect(byName.get('CKM_RSA_PKCS_OAEP')?.Flags).toEqual(expect.arrayContaining(['CKF_WRAP', 'CKF_UNWRAP']));
    expect(byName.get('CKM_RSA_PKCS_KEY_PAIR_GEN')?.Flags).toContain('CKF_GENERATE_KEY_PAIR');
    expect(byName.get('CKM_AES_GCM')?.Code).toBe(0x1087);
  });

  it('logs in with the right PIN and reports the session state', async () => {
    const session = await host.openSession(cluster.tokens[0]?.slotId ?? '', { readWrite: true });
    try {
      expect(await host.getSessionInfo(session)).toMatchObject({ SlotId: cluster.tokens[0]?.slotId, State: 'CKS_RW_PUBLIC_SESSION', Flags: ['CKF_RW_SESSION', 'CKF_SERIAL_SESSION'] });
      await host.login(session, 'USER', USER_PIN);
      expect((await host.getSessionInfo(session)).State).toBe('CKS_RW_USER_FUNCTIONS');
      await host.logout(session);
      expect((await host.getSessionInfo(session)).State).toBe('CKS_RW_PUBLIC_SESSION');
    } finally {
      await host.closeSession(session);
    }
  });

  it('takes an omitted optional argument before the call options as omitted (JSON would make it null)', async () => {
    const session = await host.openSession(cluster.tokens[0]?.slotId ?? '', undefined, { timeoutMs: 5_000 });
    try {
      expect((await host.getSessionInfo(session)).State).toBe('CKS_RO_PUBLIC_SESSION');
    } finally {
      await host.closeSession(session);
    }
  });

  it('logs the SO in, in a read-write session', async () => {
    const session = await host.openSession(cluster.tokens[1]?.slotId ?? '', { readWrite: true });
    await host.login(session, 'SO', SO_PIN);
    expect((await host.getSessionInfo(session)).State).toBe('CKS_RW_SO_FUNCTIONS');
    await host.logout(session);
    await host.closeSession(session);
  });

  it('refuses a wrong PIN with CKR_PIN_INCORRECT and the PIN nowhere in the error', async () => {
    const wrongPin = 'wrong-pin-4711-secret';
    const session = await host.openSession(cluster.tokens[1]?.slotId ?? '');
    try {
      const error = await rejection(host.login(session, 'USER', wrongPin));
      expect(error).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_PIN_INCORRECT' });
      expect(error.message).toMatch(/C_Login failed with CKR_PIN_INCORRECT/);
      // SoftHSM never locks a PIN; after a failure it raises CKF_USER_PIN_COUNT_LOW, which the checks turn into "tries remain".
      expect(error.details?.tokenFlags).toContain('CKF_USER_PIN_COUNT_LOW');
      const everything = [error.message, String(error.stack), JSON.stringify(error.toInfo()), JSON.stringify(error.details)].join('\n');
      expect(everything).not.toContain(wrongPin);
      expect(everything).not.toContain(USER_PIN);
      // Still usable: the right PIN works on the same session.
      await host.login(session, 'USER', USER_PIN);
      await host.logout(session);
    } finally {
      await host.closeSession(session);
    }
  });

  it('refuses a session reference it did not issue', async () => {
    const error = await rejection(host.getSessionInfo('deadbeef.1'));
    expect(error).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_SESSION_HANDLE_INVALID' });
    expect(error.message).toMatch(/earlier HSM host process/);
  });

  it('reports an unknown slot as CKR_SLOT_ID_INVALID', async () => {
    const error = await rejection(host.getMechanisms('999999'));
    expect(error).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_SLOT_ID_INVALID' });
  });

  it('agrees with pkcs11-tool -L on slot ids, labels and serials (independent peer)', async () => {
    const { stdout } = await promisify(execFile)('pkcs11-tool', ['--module', cluster.modulePath, '-L'], { env: { ...process.env, ...cluster.env } });
    // "Slot 0 (0x2c751231): SoftHSM slot ID 0x2c751231" then "  token label        : host-1", "  serial num         : …"
    const peer = stdout
      .split(/\n(?=Slot \d+ \()/)
      .map((block) => ({
        slotId: /^Slot \d+ \((0x[0-9a-f]+)\)/m.exec(block)?.[1],
        label: /^\s*token label\s*:\s*(.*?)\s*$/m.exec(block)?.[1],
        serial: /^\s*serial num\s*:\s*(\S+)\s*$/m.exec(block)?.[1],
      }))
      .filter((p) => p.slotId !== undefined);
    const ours = await host.listSlots();
    expect(peer.map((p) => BigInt(p.slotId ?? '').toString()).sort()).toEqual(ours.map((s) => s.SlotId).sort());
    const peerTokens = peer.filter((p) => p.serial !== undefined).map((p) => [BigInt(p.slotId ?? '').toString(), p.label, p.serial]);
    const ourTokens = ours.filter((s) => s.Token?.Flags.includes('CKF_TOKEN_INITIALIZED')).map((s) => [s.SlotId, s.Token?.Label, s.Token?.SerialNumber]);
    expect(ourTokens.sort()).toEqual(peerTokens.sort());
    expect(ourTokens).toHaveLength(2);
  });
});

describe('findObjects on a token with thousands of objects', () => {
  const COUNT = 3000;
  let keys: CreatedKey[];
  let slotId: string;

  beforeAll(() => {
    slotId = cluster.tokens[0]?.slotId ?? '';
    const direct = openDirectSession(cluster.modulePath, cluster.env, slotId, USER_PIN);
    try {
      keys = createSecretKeys(direct, COUNT, { labelPrefix: 'arn:aws:kms:local-1:111122223333:key/bench' });
    } finally {
      direct.close();
    }
  });

  it('moves every object in pages, none twice, with the attributes asked for', async () => {
    const session = await host.openSession(slotId);
    await host.login(session, 'USER', USER_PIN);
    const pages: ObjectInfo[][] = [];
    const objects = await host.findObjects(
      session,
      { template: { class: 'CKO_SECRET_KEY' }, attributes: ['handle', 'label', 'class', 'id', 'keyType', 'token', 'private', 'sensitive', 'extractable', 'valueLen'], pageSize: 500 },
      { onPage: (page) => pages.push(page) },
    );
    await host.closeSession(session);

    expect(objects).toHaveLength(COUNT);
    expect(pages.map((p) => p.length)).toEqual([500, 500, 500, 500, 500, 500]);
    expect(new Set(objects.map((o) => o.handle)).size).toBe(COUNT);
    expect(objects.map((o) => `${o.label}|${o.id}`).sort()).toEqual(keys.map((k) => `${k.label}|${k.id}`).sort());
    expect(objects[0]).toMatchObject({ class: 'CKO_SECRET_KEY', keyType: 'CKK_AES', token: true, private: true, sensitive: true, valueLen: 32, handle: expect.stringMatching(/^\d+$/) });
  });

  it('finds one object by label and CKA_ID, and nothing private without a login', async () => {
    const target = keys[1234];
    const session = await host.openSession(slotId);
    const anonymous = await host.findObjects(session, { template: { label: target?.label }, attributes: ['label'] });
    expect(anonymous).toEqual([]);
    await host.login(session, 'USER', USER_PIN);
    const found = await host.findObjects(session, { template: { label: target?.label, id: target?.id }, attributes: ['label', 'id', 'checkValue'] });
    await host.closeSession(session);
    expect(found).toEqual([{ label: target?.label, id: target?.id, checkValue: expect.any(String) }]);
  });

  it('refuses an unknown object class in a template', async () => {
    const session = await host.openSession(slotId);
    const error = await rejection(host.findObjects(session, { template: { class: 'CKO_NOT_A_CLASS' }, attributes: ['label'] }));
    await host.closeSession(session);
    expect(error).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_TEMPLATE_INCONSISTENT' });
  });
});
