import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHsmHostPool } from '../../main/hsm/hsm-host-client';
import type { HostExit, HsmHost, HsmHostPool } from '../../main/hsm/hsm-host';
import { buildBrokenModules, type BrokenModules } from '../fixtures/broken-modules';
import { rejection } from '../fixtures/outcomes';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { createSecretKeys, openDirectSession } from '../fixtures/token-objects';
import { HOST_CHILD_ENTRY } from '../fixtures/workbench';

const USER_PIN = 'kmsuser-pin-42';
const SO_PIN = 'so-officer-pin-99';

let cluster: SoftHsmCluster;
let spare: SoftHsmCluster;
let broken: BrokenModules;
let pool: HsmHostPool;
let host: HsmHost;

beforeAll(async () => {
  [cluster, spare, broken] = await Promise.all([
    createSoftHsmCluster({ tokens: 1, userPin: USER_PIN, soPin: SO_PIN, labelPrefix: 'flows' }),
    createSoftHsmCluster({ tokens: 1, userPin: null, soPin: SO_PIN, labelPrefix: 'nopin' }),
    buildBrokenModules(),
  ]);
  pool = createHsmHostPool({ childEntry: HOST_CHILD_ENTRY, defaultTimeoutMs: 10_000 });
  host = pool.get({ ModulePath: cluster.modulePath, ModuleEnvironment: cluster.env });
});

afterAll(async () => {
  await pool?.disposeAll();
  await Promise.all([cluster?.cleanup(), spare?.cleanup(), broken?.cleanup()]);
});

function slot(c: SoftHsmCluster): string {
  return c.tokens[0]?.slotId ?? '';
}

describe('one login owner per token in a host child', () => {
  it("keeps one flow's kmsuser login when another session of the same token logs out, and says who holds it", async () => {
    const owner = await host.openSession(slot(cluster));
    const other = await host.openSession(slot(cluster), { readWrite: true });
    try {
      await host.login(owner, 'USER', USER_PIN);
      // PKCS#11 would log out every session of the token here; the owner refuses instead.
      const logout = await rejection(host.logout(other));
      expect(logout).toMatchObject({ name: 'Pkcs11Exception', code: 'LOGIN_HELD_BY_ANOTHER_SESSION' });
      expect((await host.getSessionInfo(owner)).State).toBe('CKS_RO_USER_FUNCTIONS');

      // SO work meets a named refusal, not a bare CKR code.
      const so = await rejection(host.login(other, 'SO', SO_PIN));
      expect(so).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_USER_ANOTHER_ALREADY_LOGGED_IN' });
      expect(so.message).toMatch(/logged in as kmsuser .* by another session/);
      expect(JSON.stringify(so.toInfo())).not.toContain(SO_PIN);
      const again = await rejection(host.login(other, 'USER', USER_PIN));
      expect(again.code).toBe('CKR_USER_ALREADY_LOGGED_IN');
    } finally {
      // Closing the owning session ends its login, so the SO can log in on the other one.
      await host.closeSession(owner);
    }
    await host.login(other, 'SO', SO_PIN);
    expect((await host.getSessionInfo(other)).State).toBe('CKS_RW_SO_FUNCTIONS');
    await host.logout(other);
    await host.closeSession(other);
  });
});

describe('flows run inside the child as one request', () => {
  it('sets the kmsuser PIN as the SO in one call, and leaves the token logged out', async () => {
    const spareHost = pool.get({ ModulePath: spare.modulePath, ModuleEnvironment: spare.env });
    const wrong = await rejection(spareHost.initUserPin(slot(spare), 'not-the-so-pin', USER_PIN));
    expect(wrong).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_PIN_INCORRECT' });
    expect(JSON.stringify(wrong.toInfo())).not.toContain(USER_PIN);

    await spareHost.initUserPin(slot(spare), SO_PIN, USER_PIN);
    const flags = (await spareHost.listSlots()).find((s) => s.SlotId === slot(spare))?.Token?.Flags;
    expect(flags).toContain('CKF_USER_PIN_INITIALIZED');
    // No login outlived the flow: the user logs in, on a fresh session, with the PIN the flow set.
    const session = await spareHost.openSession(slot(spare));
    await spareHost.login(session, 'USER', USER_PIN);
    expect((await spareHost.getSessionInfo(session)).State).toBe('CKS_RO_USER_FUNCTIONS');
    await spareHost.closeSession(session);
  });
});

describe('cancel', () => {
  it('overtakes the serial queue: a call cancelled while it waits behind a slow one never runs', async () => {
    const slow = pool.get({ ModulePath: broken.slowSlotList, ModuleEnvironment: { SLOW_SLOT_LIST_SECONDS: '2' } });
    await slow.getModuleInfo();
    const controller = new AbortController();
    // The child is blocked in the first listSlots while the second one and its cancel arrive.
    const first = slow.listSlots();
    const second = slow.listSlots({ signal: controller.signal });
    await new Promise((r) => setTimeout(r, 300));
    controller.abort();
    expect(await first).toEqual([]);
    // listSlots has no step to stop at: a cancellation can only have come before it started.
    const error = await rejection(second);
    expect(error.name).toBe('OperationCancelledException');
    expect((await slow.getModuleInfo()).ModulePath).toBe(broken.slowSlotList);
  });

  it('refuses a call whose signal is already aborted without sending it', async () => {
    const controller = new AbortController();
    controller.abort();
    expect((await rejection(host.listSlots({ signal: controller.signal }))).name).toBe('OperationCancelledException');
  });
});

describe('an unexpected error in the child', () => {
  it('is a named KMSInternalException saying what failed, not a pointer to a log nothing wrote', async () => {
    const direct = openDirectSession(cluster.modulePath, cluster.env, slot(cluster), USER_PIN);
    try {
      createSecretKeys(direct, 1, { labelPrefix: 'unexpected', private: false });
    } finally {
      direct.close();
    }
    const session = await host.openSession(slot(cluster));
    try {
      // An attribute name the converter does not know: a TypeError inside the child, not a PKCS#11 return value.
      const error = await rejection(host.findObjects(session, { template: {}, attributes: ['no-such-attribute' as never] }));
      expect(error).toMatchObject({ name: 'KMSInternalException', details: { verb: 'findObjects', errorType: 'TypeError' } });
      expect(error.message).toMatch(/^The HSM host failed in findObjects with an unexpected TypeError, not a PKCS#11 error\./);
      expect(error.message).not.toMatch(/workbench log/);
      // The child is still there and serves the next call.
      expect((await host.getSessionInfo(session)).State).toBe('CKS_RO_PUBLIC_SESSION');
    } finally {
      await host.closeSession(session);
    }
  });
});

describe('the host tells its owner when a child exits', () => {
  it('reports a crash as unexpected and a dispose as expected', async () => {
    const crashing = pool.get({ ModulePath: broken.crashingSlotList, ModuleEnvironment: {} });
    const exits: HostExit[] = [];
    const unsubscribe = crashing.onExit((exit) => exits.push(exit));
    await rejection(crashing.listSlots());
    expect(exits).toEqual([{ reason: 'crashed', expected: false, exitCode: null, signal: 'SIGABRT' }]);

    await crashing.getModuleInfo();
    await crashing.dispose();
    expect(exits.at(-1)).toMatchObject({ reason: 'stopped', expected: true });
    unsubscribe();
  });
});

describe('the host pool', () => {
  it('keeps at most maxHosts children, stopping the least recently used idle one, never one with a session open', async () => {
    const small = createHsmHostPool({ childEntry: HOST_CHILD_ENTRY, defaultTimeoutMs: 10_000, maxHosts: 2 });
    try {
      // Each environment is a host of its own (a module reads its environment at C_Initialize).
      const hostWith = (n: number): HsmHost => small.get({ ModulePath: cluster.modulePath, ModuleEnvironment: { ...cluster.env, POOL_TEST: String(n) } });
      const exits: string[] = [];
      const first = hostWith(1);
      first.onExit((exit) => exits.push(`first ${exit.reason}`));
      const session = await first.openSession(slot(cluster));
      const second = hostWith(2);
      second.onExit((exit) => exits.push(`second ${exit.reason}`));
      await second.listSlots();

      // A third host: the first is older, but a session is open on it, so the idle second one goes.
      await hostWith(3).listSlots();
      for (let waited = 0; exits.length === 0 && waited < 5_000; waited += 25) await new Promise((r) => setTimeout(r, 25));
      expect(exits).toEqual(['second stopped']);
      expect((await first.getSessionInfo(session)).State).toBe('CKS_RO_PUBLIC_SESSION');
      await first.closeSession(session);
    } finally {
      await small.disposeAll();
    }
  });
});
