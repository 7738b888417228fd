import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CustomKeyStoreInfo, KeyStoreMemberConnection } from '../../shared/contract/key-stores';
import type { ModuleRef } from '../../shared/contract/hsm';
import { cli } from '../fixtures/cli';
import { activateCluster, makeClusterPki, type ClusterPki } from '../fixtures/cluster-pki';
import { injectFaults, type FaultInjection } from '../fixtures/fault-module';
import { holdLogin } from '../fixtures/login-holder';
import { ok } from '../fixtures/outcomes';
import { P11KIT_CLIENT_MODULE, startP11KitServer, type P11KitServer } from '../fixtures/p11kit-server';
import { expectNoSecretInText, expectNoSecretOnDisk } from '../fixtures/secret-scan';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';

/**
 * Every ConnectionErrorCode real tokens can produce, from real tokens (SoftHSM2, a p11-kit network member),
 * and the rest from the fault module; a failed rotation rolled back, and its journal finished by the next
 * connect; the health probe turning a store FAILED when its network HSM dies.
 */

const PASSWORD = 'kmsuser-pass-2';
/** What the admin sets with kmsuser change-password to recover from USER_NOT_FOUND. */
const RESET_PASSWORD = 'kmsuser-reset-3';
let hsm: SoftHsmCluster;
let wb: TestWorkbench;
let pki: ClusterPki;
let faults: FaultInjection;
let serial = 0;

function tokenFlags(label: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('pkcs11-tool', ['--module', hsm.modulePath, '-T'], { env: { ...process.env, ...hsm.env } }, (error, stdout) => {
      if (error) reject(error);
      // pkcs11-tool -T: one block per slot, "token label : …" then "token flags : …".
      else resolve(new RegExp(`token label\\s*: ${label}\\s*\\n[^]*?token flags\\s*: ([^\\n]*)`).exec(stdout)?.[1] ?? '');
    });
  });
}

function login(h: { modulePath: string; env: Record<string, string> }, label: string, pin: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('pkcs11-tool', ['--module', h.modulePath, '--token-label', label, '--login', '--pin', pin, '-O'], { env: { ...process.env, ...h.env } }, (error) => resolve(error === null));
  });
}

/** An ACTIVE cluster over `labels` of `module`, and a store on it holding `password`. */
async function storeOn(module: ModuleRef, labels: readonly string[], password = PASSWORD): Promise<{ clusterId: string; id: string }> {
  serial += 1;
  const clusterId = ok(await wb.call('CreateCluster', { ClusterName: `c${serial}`, ...module, Hsms: labels.map((TokenLabel) => ({ TokenLabel })) })).Cluster.ClusterId;
  await wb.editState((s) => activateCluster(s, clusterId, pki));
  const id = ok(await wb.call('CreateCustomKeyStore', { CustomKeyStoreName: `s${serial}`, CloudHsmClusterId: clusterId, TrustAnchorCertificate: pki.trustAnchor, KeyStorePassword: password })).CustomKeyStoreId;
  return { clusterId, id };
}

async function settled(id: string, core = wb): Promise<CustomKeyStoreInfo> {
  for (let i = 0; i < 400; i += 1) {
    const [store] = ok(await core.call('DescribeCustomKeyStores', { CustomKeyStoreId: id })).CustomKeyStores;
    if (store && store.ConnectionState !== 'CONNECTING') return store;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('still CONNECTING');
}

/** The store's recorded state, polled until `done` says so or `ms` pass. */
async function recordedUntil(id: string, done: (store: CustomKeyStoreInfo, held: readonly boolean[]) => boolean, ms: number): Promise<{ store?: CustomKeyStoreInfo; held: readonly boolean[] }> {
  const until = Date.now() + ms;
  for (;;) {
    const [store] = ok(await wb.call('DescribeCustomKeyStores', { CustomKeyStoreId: id })).CustomKeyStores;
    const held = ok(await wb.call('DescribeKeyStoreConnection', { CustomKeyStoreId: id })).Connection.Hsms.map((h) => h.SessionHeld);
    if ((store && done(store, held)) || Date.now() > until) return { store, held };
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function connectOutcome(id: string): Promise<CustomKeyStoreInfo> {
  ok(await wb.call('ConnectCustomKeyStore', { CustomKeyStoreId: id }));
  return settled(id);
}

beforeAll(async () => {
  hsm = await createSoftHsmCluster({ tokens: 20, userPin: PASSWORD, labelPrefix: 'ce' });
  wb = await createTestWorkbench({ hsmTimeoutMs: 5_000 });
  pki = await makeClusterPki();
  faults = await injectFaults(hsm);
}, 120_000);

afterAll(async () => {
  await wb?.dispose();
  // Later workbenches reopen the first one's state directory, and so leave it behind.
  if (wb) await rm(wb.stateDir, { recursive: true, force: true });
  await faults?.cleanup();
  await hsm?.cleanup();
});

/** The serial of the token labelled `label`, for a fault rule on that member only (each member's calls run in a host child of its own). */
const serialOf = (label: string): string => hsm.tokens.find((t) => t.label === label)?.serial ?? '';
const softhsm = (): ModuleRef => ({ ModulePath: hsm.modulePath, ModuleEnvironment: hsm.env });
const faulty = (): ModuleRef => ({ ModulePath: faults.modulePath, ModuleEnvironment: faults.env });

describe('connection error codes', () => {
  it('INVALID_CREDENTIALS from a wrong password; a FAILED store must be disconnected before it reconnects', async () => {
    const { id } = await storeOn(softhsm(), ['ce-1', 'ce-2'], 'not-the-password');
    const store = await connectOutcome(id);
    expect(store).toMatchObject({ ConnectionState: 'FAILED', ConnectionErrorCode: 'INVALID_CREDENTIALS' });
    const refused = await wb.call('ConnectCustomKeyStore', { CustomKeyStoreId: id });
    expect(refused.ok ? '' : refused.error.name).toBe('CustomKeyStoreInvalidStateException');
    expect(refused.ok ? '' : refused.error.message).toMatch(/is FAILED; disconnect it first/);
    const connection = ok(await wb.call('DescribeKeyStoreConnection', { CustomKeyStoreId: id })).Connection;
    expect(connection.Remedy).toMatch(/kmsuser change-password/);
    // The remedy starts with the disconnect because a FAILED store's password cannot change yet.
    expect(connection.Remedy).toMatch(/^Disconnect the key store first/);
    const early = await wb.call('UpdateCustomKeyStore', { CustomKeyStoreId: id, KeyStorePassword: PASSWORD });
    expect(early.ok ? '' : early.error.name).toBe('CustomKeyStoreInvalidStateException');
    // One wrong try spent, on the first member only: the second was never asked.
    const [first, second] = JSON.parse((await wb.stateText()) ?? '{}').clusters.at(-1).Hsms;
    expect(first.Kmsuser.FailedLoginsCaused).toBe(1);
    expect(second.Kmsuser).toBeUndefined();
    ok(await wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: id }));
    const [after] = ok(await wb.call('DescribeCustomKeyStores', { CustomKeyStoreId: id })).CustomKeyStores;
    expect(after?.ConnectionState).toBe('DISCONNECTED');
    expect(after?.ConnectionErrorCode).toBeUndefined();
    // The password never changed anywhere.
    expect(await login(hsm, 'ce-1', PASSWORD)).toBe(true);
  });

  it('INSUFFICIENT_CLOUDHSM_HSMS when a member token is removed, and no other member is rotated', async () => {
    const { id } = await storeOn(softhsm(), ['ce-3', 'ce-4']);
    await hsm.removeToken(3); // ce-4: indexes count from 0
    expect(await connectOutcome(id)).toMatchObject({ ConnectionState: 'FAILED', ConnectionErrorCode: 'INSUFFICIENT_CLOUDHSM_HSMS' });
    const connection = ok(await wb.call('DescribeKeyStoreConnection', { CustomKeyStoreId: id })).Connection;
    expect(connection.Hsms.find((h) => h.TokenLabel === 'ce-4')).toMatchObject({ ConnectionErrorCode: 'INSUFFICIENT_CLOUDHSM_HSMS', Detail: expect.stringMatching(/is not present/) });
    expect(connection.Explanation).toMatch(/lists no token that is that member/);
    expect(await login(hsm, 'ce-3', PASSWORD)).toBe(true);
  });

  it('USER_NOT_FOUND when one member was re-initialised (its user PIN gone), naming that member; the remedy recovers it', async () => {
    const { clusterId, id } = await storeOn(softhsm(), ['ce-13', 'ce-14']);
    // An admin re-initialises the second HSM: SoftHSM keeps its label and serial, so it is still the member, but kmsuser is gone.
    expect(await tokenFlags('ce-14')).toMatch(/PIN initialized/);
    await hsm.reinitializeToken(13);
    expect(await tokenFlags('ce-14')).not.toMatch(/PIN initialized/);
    expect(await tokenFlags('ce-14')).toMatch(/token initialized/);
    // This workbench's host child loaded SoftHSM before the re-initialisation: its C_Login still accepts the wiped
    // PIN, so the workbench goes by the token's flags, as a fresh process (a CLI run) would meet the refusal.

    expect(await connectOutcome(id)).toMatchObject({ ConnectionState: 'FAILED', ConnectionErrorCode: 'USER_NOT_FOUND' });
    const connection = ok(await wb.call('DescribeKeyStoreConnection', { CustomKeyStoreId: id })).Connection;
    const member = (label: string): KeyStoreMemberConnection | undefined => connection.Hsms.find((h) => h.TokenLabel === label);
    expect(member('ce-14')).toMatchObject({ SessionHeld: false, ConnectionErrorCode: 'USER_NOT_FOUND', Detail: expect.stringMatching(/CKF_USER_PIN_INITIALIZED is not set/) });
    expect(member('ce-13')).toMatchObject({ SessionHeld: false });
    expect(member('ce-13')?.ConnectionErrorCode).toBeUndefined();
    expect(connection.Explanation).toMatch(/CKF_USER_PIN_INITIALIZED/);
    // ce-13 logged in, then was released unrotated: nothing changed on any HSM.
    expect(await login(hsm, 'ce-13', PASSWORD)).toBe(true);

    // The remedy, step by step as it reads: kmsuser create refuses (ce-13 has one); change-password sets it everywhere.
    expect(connection.Remedy).toMatch(/^Disconnect the key store.*kmsuser change-password.*update-custom-key-store --key-store-password-stdin.*connect it again/);
    ok(await wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: id }));
    const created = await wb.call('CreateKmsuser', { ClusterId: clusterId, SoPin: hsm.soPin, KmsuserPassword: RESET_PASSWORD });
    expect(created.ok ? '' : created.error.name).toBe('KmsuserAlreadyExistsException');
    ok(await wb.call('ChangeKmsuserPassword', { ClusterId: clusterId, SoPin: hsm.soPin, NewKmsuserPassword: RESET_PASSWORD }));
    ok(await wb.call('UpdateCustomKeyStore', { CustomKeyStoreId: id, KeyStorePassword: RESET_PASSWORD }));
    expect(await connectOutcome(id)).toMatchObject({ ConnectionState: 'CONNECTED' });
    ok(await wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: id }));
  });

  it.each([
    ['CKR_PIN_LOCKED', 'USER_LOCKED_OUT'],
    ['CKR_USER_ALREADY_LOGGED_IN', 'USER_LOGGED_IN'],
    ['CKR_USER_PIN_NOT_INITIALIZED', 'USER_NOT_FOUND'],
  ])('%s from the fault module is %s', async (ckr, code) => {
    const label = ckr === 'CKR_PIN_LOCKED' ? 'ce-5' : ckr === 'CKR_USER_ALREADY_LOGGED_IN' ? 'ce-6' : 'ce-7';
    const { id } = await storeOn(faulty(), [label]);
    await faults.setFaults([{ function: 'C_Login', userType: 'CKU_USER', returns: ckr }]);
    try {
      expect(await connectOutcome(id)).toMatchObject({ ConnectionState: 'FAILED', ConnectionErrorCode: code });
    } finally {
      await faults.setFaults([]);
    }
  });

  it('a member refusing C_SetPIN: the members already rotated are rolled back, and no journal is left', async () => {
    const { id } = await storeOn(faulty(), ['ce-8', 'ce-9']);
    await faults.setFaults([{ function: 'C_SetPIN', returns: 'CKR_PIN_INVALID', count: 1, slot: serialOf('ce-9') }]);
    try {
      expect(await connectOutcome(id)).toMatchObject({ ConnectionState: 'FAILED', ConnectionErrorCode: 'INTERNAL_ERROR' });
    } finally {
      await faults.setFaults([]);
    }
    // ce-8 was rotated and rolled back; ce-9 refused: both still take the original password.
    expect(await login(hsm, 'ce-8', PASSWORD)).toBe(true);
    expect(await login(hsm, 'ce-9', PASSWORD)).toBe(true);
    expect(JSON.parse((await wb.stateText()) ?? '{}').customKeyStores.find((k: { CustomKeyStoreId: string }) => k.CustomKeyStoreId === id).Rotation).toBeUndefined();
    // INTERNAL_ERROR's remedy points at the workbench log: it has what the member said.
    expect(ok(await wb.call('DescribeKeyStoreConnection', { CustomKeyStoreId: id })).Connection.Remedy).toMatch(/logs\/workbench\.log/);
    expect(await readFile(join(wb.stateDir, 'logs', 'workbench.log'), 'utf8')).toMatch(new RegExp(`"customKeyStoreId":"${id}","connectionErrorCode":"INTERNAL_ERROR".*C_SetPIN failed with CKR_PIN_INVALID`));
    ok(await wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: id }));
  });

  it('a member going silent in C_SetPIN leaves a journal that names a password for every member; the next connect finishes the rotation', async () => {
    const { id } = await storeOn(faulty(), ['ce-11', 'ce-12']);
    // ce-12 goes silent in its C_SetPIN; ce-11's rollback (its second C_SetPIN) meets a device error too.
    await faults.setFaults([
      { function: 'C_SetPIN', returns: 'CKR_DEVICE_ERROR', count: 1, slot: serialOf('ce-12') },
      { function: 'C_SetPIN', returns: 'CKR_DEVICE_ERROR', after: 1, count: 1, slot: serialOf('ce-11') },
    ]);
    try {
      expect(await connectOutcome(id)).toMatchObject({ ConnectionState: 'FAILED', ConnectionErrorCode: 'NETWORK_ERRORS' });
    } finally {
      await faults.setFaults([]);
    }
    // ce-11's rollback failed: the journal names both passwords for it.
    const journal = JSON.parse((await wb.stateText()) ?? '{}').customKeyStores.find((k: { CustomKeyStoreId: string }) => k.CustomKeyStoreId === id).Rotation;
    expect(journal.Step).toBe('ROLLING_BACK');
    expect(Object.values(journal.Hsms)).toEqual(['SETTING', 'SETTING']);
    expect(await login(hsm, 'ce-11', PASSWORD)).toBe(false);
    expect(await login(hsm, 'ce-12', PASSWORD)).toBe(true);

    ok(await wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: id }));
    expect(await connectOutcome(id)).toMatchObject({ ConnectionState: 'CONNECTED' });
    const connection = ok(await wb.call('DescribeKeyStoreConnection', { CustomKeyStoreId: id })).Connection;
    expect(connection.LastRecovery).toMatchObject({ Step: 'ROLLING_BACK', Message: expect.stringMatching(/interrupted at step ROLLING_BACK .*every HSM has it now/) });
    expect(await login(hsm, 'ce-12', PASSWORD)).toBe(false);
    expect(JSON.parse((await wb.stateText()) ?? '{}').customKeyStores.find((k: { CustomKeyStoreId: string }) => k.CustomKeyStoreId === id).Rotation).toBeUndefined();
    ok(await wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: id }));
  });

  it('C_SetPIN calls that acted but answered an error (rotation and rollback) leave both passwords candidates: the next connect spends at most one wrong try per member', async () => {
    const { id } = await storeOn(faulty(), ['ce-15', 'ce-16']);
    // ce-15 rotates; ce-16 takes the new password but its answer is an error (not a refusal); ce-15's rollback acts and answers CKR_DEVICE_ERROR.
    await faults.setFaults([
      { function: 'C_SetPIN', returns: 'CKR_SESSION_HANDLE_INVALID', applied: true, count: 1, slot: serialOf('ce-16') },
      { function: 'C_SetPIN', returns: 'CKR_DEVICE_ERROR', applied: true, after: 1, count: 1, slot: serialOf('ce-15') },
    ]);
    try {
      expect(await connectOutcome(id)).toMatchObject({ ConnectionState: 'FAILED' });
    } finally {
      await faults.setFaults([]);
    }
    expect(await login(hsm, 'ce-15', PASSWORD)).toBe(true);
    expect(await login(hsm, 'ce-16', PASSWORD)).toBe(false);
    const journal = JSON.parse((await wb.stateText()) ?? '{}').customKeyStores.find((k: { CustomKeyStoreId: string }) => k.CustomKeyStoreId === id).Rotation;
    expect(Object.values(journal.Hsms)).toEqual(['SETTING', 'SETTING']);

    ok(await wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: id }));
    expect(await connectOutcome(id)).toMatchObject({ ConnectionState: 'CONNECTED' });
    const members = JSON.parse((await wb.stateText()) ?? '{}').clusters.at(-1).Hsms as Array<{ Kmsuser?: { FailedLoginsCaused?: number } }>;
    for (const member of members) expect(member.Kmsuser?.FailedLoginsCaused ?? 0).toBeLessThanOrEqual(1);
    expect(await login(hsm, 'ce-15', PASSWORD)).toBe(false);
    ok(await wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: id }));
  });

  it('update-custom-key-store with a password after a half-done rotation keeps the pending password: the next connect still finds every member', async () => {
    const { id } = await storeOn(faulty(), ['ce-17', 'ce-18']);
    // ce-18 goes silent in its C_SetPIN, and ce-17's rollback meets a device error: ce-17 keeps the pending password.
    await faults.setFaults([
      { function: 'C_SetPIN', returns: 'CKR_DEVICE_ERROR', count: 1, slot: serialOf('ce-18') },
      { function: 'C_SetPIN', returns: 'CKR_DEVICE_ERROR', after: 1, count: 1, slot: serialOf('ce-17') },
    ]);
    try {
      expect(await connectOutcome(id)).toMatchObject({ ConnectionState: 'FAILED', ConnectionErrorCode: 'NETWORK_ERRORS' });
    } finally {
      await faults.setFaults([]);
    }
    // ce-17 has the pending password, ce-18 the old one; the admin tells the store the old one.
    expect(await login(hsm, 'ce-17', PASSWORD)).toBe(false);
    ok(await wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: id }));
    ok(await wb.call('UpdateCustomKeyStore', { CustomKeyStoreId: id, KeyStorePassword: PASSWORD }));
    expect(await connectOutcome(id)).toMatchObject({ ConnectionState: 'CONNECTED' });
    expect(await login(hsm, 'ce-18', PASSWORD)).toBe(false);
    ok(await wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: id }));
  });

  it('an interrupted connect (its process gone) is FAILED/INTERNAL_ERROR until disconnected, and says so', async () => {
    const { id } = await storeOn(softhsm(), ['ce-10']);
    await wb.editState((s) => {
      const store = s.customKeyStores.find((k) => k.CustomKeyStoreId === id);
      if (store) Object.assign(store, { ConnectionState: 'CONNECTING', Owner: { Pid: 2 ** 22 + 1, Host: hostname(), Since: new Date().toISOString() } });
    });
    const [store] = ok(await wb.call('DescribeCustomKeyStores', { CustomKeyStoreId: id })).CustomKeyStores;
    expect(store).toMatchObject({ ConnectionState: 'FAILED', ConnectionErrorCode: 'INTERNAL_ERROR' });
    expect(ok(await wb.call('DescribeKeyStoreConnection', { CustomKeyStoreId: id })).Connection.Explanation).toMatch(/ended before it finished/);
    ok(await wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: id }));
    expect(await connectOutcome(id)).toMatchObject({ ConnectionState: 'CONNECTED' });
    ok(await wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: id }));
  });

  it('a device error on the session of a store\'s only member fails the store (NETWORK_ERRORS) with no health probe running; one on another flow of the module does not', async () => {
    const { id } = await storeOn(faulty(), ['ce-19']);
    expect(await connectOutcome(id)).toMatchObject({ ConnectionState: 'CONNECTED' });
    await faults.setFaults([{ function: 'C_GetSlotList', returns: 'CKR_DEVICE_ERROR', count: 1 }]);
    try {
      // Another flow on the same module meets a device error: its host child retires, the member's own child does not.
      const listed = await wb.call('ListSlots', faulty());
      expect(listed.ok ? '' : listed.error.code).toBe('CKR_DEVICE_ERROR');
      expect((await recordedUntil(id, () => true, 0)).held).toEqual([true]);
      // A call on the member's session meets one: the session is lost, and with the only member the store.
      await faults.setFaults([{ function: 'C_GenerateRandom', returns: 'CKR_DEVICE_ERROR' }]);
      const random = await wb.call('GenerateRandom', { NumberOfBytes: 8, CustomKeyStoreId: id });
      expect(random.ok).toBe(false);
      const { store, held } = await recordedUntil(id, (s) => s.ConnectionState !== 'CONNECTED', 5_000);
      expect(store).toMatchObject({ ConnectionState: 'FAILED', ConnectionErrorCode: 'NETWORK_ERRORS' });
      expect(held).toEqual([false]);
    } finally {
      await faults.setFaults([]);
    }
    // The service event is appended after the FAILED state is written: wait for it rather than race it.
    const lastLoss = async (): Promise<unknown> => (await wb.auditRecords()).filter((r) => r.eventName === 'CustomKeyStoreConnectionLost').at(-1);
    await expect.poll(lastLoss, { timeout: 5_000 }).toMatchObject({ additionalEventData: { customKeyStoreId: id, connectionErrorCode: 'NETWORK_ERRORS' } });
    ok(await wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: id }));
  });

  it('the GUI logs out of a store another process disconnected, as soon as the state file changes', async () => {
    const { id } = await storeOn(softhsm(), ['ce-20']);
    await wb.core.dispose();
    // The GUI's core, with a probe too slow to be what notices.
    wb = await createTestWorkbench({ stateDir: wb.stateDir, healthProbeMs: 600_000, hsmTimeoutMs: 5_000 });
    expect(await connectOutcome(id)).toMatchObject({ ConnectionState: 'CONNECTED' });
    expect((await recordedUntil(id, () => true, 0)).held).toEqual([true]);
    const disconnected = await cli(wb.stateDir, ['kms', 'disconnect-custom-key-store', '--custom-key-store-id', id]);
    expect(disconnected.code, disconnected.stderr).toBe(0);
    const { store, held } = await recordedUntil(id, (_s, h) => !h.includes(true), 5_000);
    expect(store?.ConnectionState).toBe('DISCONNECTED');
    expect(held).toEqual([false]);
  });

  it('keeps every password out of the state directory, the audit log and the log', async () => {
    await expectNoSecretOnDisk(wb.stateDir, [PASSWORD, 'not-the-password', RESET_PASSWORD]);
    expectNoSecretInText(await wb.auditText(), [PASSWORD, 'not-the-password', RESET_PASSWORD], 'audit log');
  });
});

describe('a network member (p11-kit)', () => {
  let net: SoftHsmCluster;
  let server: P11KitServer;
  beforeAll(async () => {
    net = await createSoftHsmCluster({ tokens: 2, userPin: PASSWORD, labelPrefix: 'net' });
    server = await startP11KitServer({ providerModule: net.modulePath, env: net.env });
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
    await net?.cleanup();
  });

  // Why USER_LOGGED_IN comes from the fault module: SoftHSM keeps login state per process, and p11-kit server runs
  // one p11-kit-remote (its own SoftHSM) per client, so no real module here answers CKR_USER_ALREADY_LOGGED_IN
  // to the workbench's C_Login because of another program's login; only a second login in the same process meets it.
  it("another program's kmsuser login through the same p11-kit server does not stop a connect; only its own process meets CKR_USER_ALREADY_LOGGED_IN", async () => {
    const holder = await holdLogin({ modulePath: P11KIT_CLIENT_MODULE, env: server.env, tokenLabel: 'net-2', pin: PASSWORD });
    try {
      expect(holder.secondLogin).toBe('CKR_USER_ALREADY_LOGGED_IN');
      const { id } = await storeOn({ ModulePath: P11KIT_CLIENT_MODULE, ModuleEnvironment: server.env }, ['net-2']);
      expect(await connectOutcome(id)).toMatchObject({ ConnectionState: 'CONNECTED' });
      ok(await wb.call('DisconnectCustomKeyStore', { CustomKeyStoreId: id }));
    } finally {
      await holder.release();
    }
  });

  it('the health probe turns a held store FAILED/NETWORK_ERRORS within 10 s of its server being killed, with no call made', async () => {
    const { id } = await storeOn({ ModulePath: P11KIT_CLIENT_MODULE, ModuleEnvironment: server.env }, ['net-1']);
    await wb.core.dispose();
    // The GUI's core: it logs in for the CONNECTED store and probes its sessions.
    const gui = await createTestWorkbench({ stateDir: wb.stateDir, healthProbeMs: 1_000, hsmTimeoutMs: 3_000 });
    wb = gui;
    expect(await connectOutcome(id)).toMatchObject({ ConnectionState: 'CONNECTED' });
    server.kill('SIGKILL');
    const killedAt = Date.now();
    let store: CustomKeyStoreInfo | undefined;
    while (Date.now() - killedAt < 10_000) {
      const text = (await gui.stateText()) ?? '{}';
      const record = JSON.parse(text).customKeyStores.find((k: { CustomKeyStoreId: string }) => k.CustomKeyStoreId === id);
      if (record.ConnectionState === 'FAILED') {
        [store] = ok(await gui.call('DescribeCustomKeyStores', { CustomKeyStoreId: id })).CustomKeyStores;
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(store).toMatchObject({ ConnectionState: 'FAILED', ConnectionErrorCode: 'NETWORK_ERRORS' });
    // Appended after the FAILED state is written: waited for, not raced.
    const lastLoss = async (): Promise<unknown> => (await gui.auditRecords()).filter((r) => r.eventName === 'CustomKeyStoreConnectionLost').at(-1);
    await expect.poll(lastLoss, { timeout: 5_000 }).toMatchObject({ eventType: 'AwsServiceEvent', additionalEventData: { customKeyStoreId: id, connectionErrorCode: 'NETWORK_ERRORS' } });
  }, 40_000);
});
