import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHsmHostPool } from '../../main/hsm/hsm-host-client';
import type { HsmHost, HsmHostPool } from '../../main/hsm/hsm-host';
import { startP11KitServer, type P11KitServer } from '../fixtures/p11kit-server';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { HOST_CHILD_ENTRY } from '../fixtures/workbench';
import { rejection } from '../fixtures/outcomes';

const USER_PIN = 'net-kmsuser-pin-9';

let cluster: SoftHsmCluster;
let pool: HsmHostPool;
let server: P11KitServer | undefined;

beforeAll(async () => {
  cluster = await createSoftHsmCluster({ tokens: 2, userPin: USER_PIN, labelPrefix: 'net' });
  pool = createHsmHostPool({ childEntry: HOST_CHILD_ENTRY, defaultTimeoutMs: 5_000 });
});

afterEach(async () => {
  // Each test gets its own server and socket, so its host (keyed by P11_KIT_SERVER_ADDRESS) is its own too.
  await pool.disposeAll();
  await server?.stop();
  server = undefined;
});

afterAll(async () => {
  await cluster?.cleanup();
});

async function networkHost(): Promise<{ host: HsmHost; running: P11KitServer }> {
  const running = await startP11KitServer({ providerModule: cluster.modulePath, env: cluster.env });
  server = running;
  return { host: pool.get({ ModulePath: running.clientModulePath, ModuleEnvironment: running.env }), running };
}

async function slotOf(host: HsmHost, label: string): Promise<string> {
  const slot = (await host.listSlots()).find((s) => s.Token?.Label === label);
  if (!slot) throw new Error(`no token ${label} behind the p11-kit server`);
  return slot.SlotId;
}

describe('a network HSM: p11-kit server fronting SoftHSM2, reached through p11-kit-client.so', () => {
  it('lists the tokens behind the server and logs in', async () => {
    const { host } = await networkHost();
    const info = await host.getModuleInfo();
    expect(info.ModulePath).toMatch(/p11-kit-client\.so$/);
    const slots = await host.listSlots();
    const tokens = slots.filter((s) => s.Token?.Flags.includes('CKF_TOKEN_INITIALIZED'));
    expect(tokens.map((s) => [s.Token?.Label, s.Token?.SerialNumber]).sort()).toEqual(cluster.tokens.map((t) => [t.label, t.serial]).sort());
    // p11-kit numbers its own slots; they are not SoftHSM's.
    expect(tokens.map((s) => s.SlotId).sort()).not.toEqual(cluster.tokens.map((t) => t.slotId).sort());

    const session = await host.openSession(await slotOf(host, 'net-2'), { readWrite: true });
    await host.login(session, 'USER', USER_PIN);
    expect((await host.getSessionInfo(session)).State).toBe('CKS_RW_USER_FUNCTIONS');
    const wrong = await rejection(host.login(session, 'SO', 'not-the-so-pin-1'));
    expect(wrong.code).toBe('CKR_USER_ANOTHER_ALREADY_LOGGED_IN');
    await host.logout(session);
    const refused = await rejection(host.login(session, 'USER', 'wrong-net-pin-2'));
    expect(refused).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_PIN_INCORRECT' });
    expect(JSON.stringify(refused.toInfo())).not.toContain('wrong-net-pin-2');
    await host.closeSession(session);
  });

  it('fails promptly with CKR_DEVICE_ERROR, not a hang, when the server dies mid-session', async () => {
    const { host, running } = await networkHost();
    const session = await host.openSession(await slotOf(host, 'net-1'));
    await host.login(session, 'USER', USER_PIN);

    running.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 100));

    const started = Date.now();
    const errors = await Promise.all([
      rejection(host.getSessionInfo(session)),
      rejection(host.findObjects(session, { template: {}, attributes: ['label'] })),
      rejection(host.listSlots()),
      rejection(host.getModuleInfo()),
    ]);
    expect(Date.now() - started).toBeLessThan(2000);
    for (const error of errors) {
      expect(error).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_DEVICE_ERROR' });
      expect(error.message).toMatch(/for a network HSM: that its server is running/);
    }

    // A fresh host against the dead address initialises fine and sees an empty module.
    await host.dispose();
    expect(await host.listSlots()).toEqual([]);
    expect((await host.getModuleInfo()).LibraryDescription).toBe('p11-kit (no connection)');
  });

  it('reconnects on the next call once the server is back at the same address', async () => {
    const socketDir = await mkdtemp(join(tmpdir(), 'hsm-workbench-p11kit-fixed-'));
    try {
      server = await startP11KitServer({ providerModule: cluster.modulePath, env: cluster.env, socketDir });
      const host = pool.get({ ModulePath: server.clientModulePath, ModuleEnvironment: server.env });
      expect((await host.listSlots()).some((s) => s.Token?.Label === 'net-1')).toBe(true);

      server.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 100));
      expect(await rejection(host.listSlots())).toMatchObject({ code: 'CKR_DEVICE_ERROR' });

      await server.stop();
      server = await startP11KitServer({ providerModule: cluster.modulePath, env: cluster.env, socketDir });
      // The dead connection's child was retired after CKR_DEVICE_ERROR: this call initialises the module afresh.
      expect((await host.listSlots()).some((s) => s.Token?.Label === 'net-1')).toBe(true);
    } finally {
      await rm(socketDir, { recursive: true, force: true });
    }
  });

  it('keeps an open connection alive when only the listening process dies (why kill() ends the whole group)', async () => {
    const { host, running } = await networkHost();
    const session = await host.openSession(await slotOf(host, 'net-1'));
    process.kill(running.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    // The per-connection p11-kit-remote still serves this host's connection...
    expect((await host.getSessionInfo(session)).State).toBe('CKS_RO_PUBLIC_SESSION');
    // ...but a new connection finds nobody listening.
    const fresh = pool.get({ ModulePath: running.clientModulePath, ModuleEnvironment: { ...running.env, P11_KIT_FRESH: '1' } });
    expect(await fresh.listSlots()).toEqual([]);
  });
});
