import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createHsmHostPool } from '../../main/hsm/hsm-host-client';
import type { HsmHost, HsmHostPool, SessionLostEvent } from '../../main/hsm/hsm-host';
import { startP11KitServer, type P11KitServer } from '../fixtures/p11kit-server';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { rejection } from '../fixtures/outcomes';
import { HOST_CHILD_ENTRY } from '../fixtures/workbench';

const USER_PIN = 'held-kmsuser-pin-4';

let pool: HsmHostPool;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(() => {
  pool = createHsmHostPool({ childEntry: HOST_CHILD_ENTRY, defaultTimeoutMs: 10_000 });
});

afterEach(async () => {
  await pool.disposeAll();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

afterAll(async () => {
  await pool?.disposeAll();
});

async function cluster(tokens: number): Promise<SoftHsmCluster> {
  const made = await createSoftHsmCluster({ tokens, userPin: USER_PIN, labelPrefix: 'held' });
  cleanups.push(made.cleanup);
  return made;
}

/** A logged-in session per slot, as a connected key store holds them. */
async function holdSessions(host: HsmHost, slotIds: readonly string[]): Promise<string[]> {
  const held: string[] = [];
  for (const slotId of slotIds) {
    const session = await host.openSession(slotId, { readWrite: true });
    await host.login(session, 'USER', USER_PIN);
    held.push(session);
  }
  return held;
}

function recordLosses(host: HsmHost): SessionLostEvent[] {
  const events: SessionLostEvent[] = [];
  host.onSessionLost((event) => events.push(event));
  return events;
}

async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  for (let waited = 0; !condition() && waited < ms; waited += 20) await new Promise((r) => setTimeout(r, 20));
}

describe('the owner of a held session is told when it is lost', () => {
  it('fires host-exit for every open session when the child is killed, not for a closed one', async () => {
    const made = await cluster(2);
    const host = pool.get({ ModulePath: made.modulePath, ModuleEnvironment: made.env });
    const [a, b] = await holdSessions(host, made.tokens.map((t) => t.slotId));
    const closed = await host.openSession(made.tokens[0]?.slotId ?? '');
    await host.closeSession(closed);
    const events = recordLosses(host);

    process.kill(host.pid ?? 0, 'SIGKILL');
    await until(() => events.length >= 2);
    expect(events).toEqual(expect.arrayContaining([{ session: a, reason: 'host-exit' }, { session: b, reason: 'host-exit' }]));
    expect(events).toHaveLength(2);

    // The probe of a lost session says so; the event is not repeated.
    expect(await rejection(host.getSessionInfo(a ?? ''))).toMatchObject({ code: 'CKR_SESSION_HANDLE_INVALID' });
    expect(events).toHaveLength(2);
  });

  it('fires host-exit when a call outlives its timeout and the child is killed', async () => {
    const made = await cluster(1);
    const host = pool.get({ ModulePath: made.modulePath, ModuleEnvironment: made.env });
    const [held] = await holdSessions(host, [made.tokens[0]?.slotId ?? '']);
    const events = recordLosses(host);
    const slow = host.generateKeyPair(held ?? '', { mechanism: 'CKM_RSA_PKCS_KEY_PAIR_GEN' }, { modulusBits: 4096, publicExponent: '010001', token: false }, { token: false }, { timeoutMs: 1 });
    expect(await rejection(slow)).toMatchObject({ name: 'HsmHostTimeoutException' });
    await until(() => events.length >= 1);
    expect(events).toEqual([{ session: held, reason: 'host-exit' }]);
  });

  it('fires token-removed when the probe finds the token gone (SoftHSM: its directory removed)', async () => {
    const made = await cluster(2);
    const host = pool.get({ ModulePath: made.modulePath, ModuleEnvironment: made.env });
    const [onRemoved, onKept] = await holdSessions(host, made.tokens.map((t) => t.slotId));
    const events = recordLosses(host);

    await made.removeToken(0);
    const error = await rejection(host.getSessionInfo(onRemoved ?? ''));
    expect(error).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_TOKEN_NOT_PRESENT' });
    expect(error.message).toMatch(/^C_GetSessionInfo failed with CKR_TOKEN_NOT_PRESENT\. No token is present/);
    expect(events).toEqual([{ session: onRemoved, reason: 'token-removed', code: 'CKR_TOKEN_NOT_PRESENT' }]);
    // The session ended with its token; the other token's session is untouched and still answers the probe.
    expect(await rejection(host.getSessionInfo(onRemoved ?? ''))).toMatchObject({ code: 'CKR_SESSION_HANDLE_INVALID' });
    expect((await host.getSessionInfo(onKept ?? '')).State).toBe('CKS_RW_USER_FUNCTIONS');
    expect(events).toHaveLength(1);
  });

  it('fires device-error for the session a failing call named when a p11-kit server dies, host-exit for the rest', async () => {
    const made = await cluster(2);
    const server: P11KitServer = await startP11KitServer({ providerModule: made.modulePath, env: made.env });
    cleanups.push(() => server.stop());
    const host = pool.get({ ModulePath: server.clientModulePath, ModuleEnvironment: server.env });
    const slots = (await host.listSlots()).filter((s) => s.Token?.Label.startsWith('held-')).map((s) => s.SlotId);
    expect(slots).toHaveLength(2);
    const [probed, other] = await holdSessions(host, slots);
    const events = recordLosses(host);

    server.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
    expect(await rejection(host.getSessionInfo(probed ?? ''))).toMatchObject({ code: 'CKR_DEVICE_ERROR' });
    // CKR_DEVICE_ERROR retires the child; once it has gone, the session it still held is reported too.
    await until(() => events.length >= 2);
    expect(events).toEqual([
      { session: probed, reason: 'device-error', code: 'CKR_DEVICE_ERROR' },
      { session: other, reason: 'host-exit' },
    ]);
  });

  it('stays quiet for sessions the owner closes and on dispose', async () => {
    const made = await cluster(1);
    const host = pool.get({ ModulePath: made.modulePath, ModuleEnvironment: made.env });
    const [held] = await holdSessions(host, [made.tokens[0]?.slotId ?? '']);
    const events = recordLosses(host);
    await host.closeSession(held ?? '');
    await host.openSession(made.tokens[0]?.slotId ?? '');
    await host.dispose();
    await new Promise((r) => setTimeout(r, 200));
    expect(events).toEqual([]);
  });
});
