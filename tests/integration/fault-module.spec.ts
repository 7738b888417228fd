import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ModuleRef } from '../../shared/contract/hsm';
import { createHsmHostPool } from '../../main/hsm/hsm-host-client';
import type { HsmHost, HsmHostPool } from '../../main/hsm/hsm-host';
import { FAULT_FUNCTIONS, FAULT_MODULE_SOURCE, faultRuleLine, injectFaults, type FaultInjection } from '../fixtures/fault-module';
import { rejection } from '../fixtures/outcomes';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { HOST_CHILD_ENTRY } from '../fixtures/workbench';

/** The fault-injecting module, loaded by the workbench's own HSM host over real SoftHSM2 tokens. */

const USER_PIN = 'fault-user-pin-1';
const SO_PIN = 'fault-so-pin-2';

let cluster: SoftHsmCluster;
let faults: FaultInjection;
let pool: HsmHostPool;
let host: HsmHost;

beforeAll(async () => {
  cluster = await createSoftHsmCluster({ tokens: 2, userPin: USER_PIN, soPin: SO_PIN, labelPrefix: 'fault', inMemory: true });
  faults = await injectFaults(cluster);
  pool = createHsmHostPool({ childEntry: HOST_CHILD_ENTRY, defaultTimeoutMs: 10_000 });
  host = pool.get({ ModulePath: faults.modulePath, ModuleEnvironment: faults.env });
});

afterEach(() => faults.setFaults([]));

afterAll(async () => {
  await pool?.disposeAll();
  await Promise.all([cluster?.cleanup(), faults?.cleanup()]);
});

function slotOf(index: number): string {
  return cluster.tokens[index]?.slotId ?? '';
}

/** Logs in as the user on a fresh session of token `index`, then logs out and closes it: the token is left as found. */
async function userLogin(index: number): Promise<void> {
  const session = await host.openSession(slotOf(index));
  try {
    await host.login(session, 'USER', USER_PIN);
    await host.logout(session);
  } finally {
    await host.closeSession(session);
  }
}

describe('the fault module passes through to SoftHSM2', () => {
  it('lists the tokens SoftHSM2 lists, with their serials and flags, and logs in', async () => {
    const slots = await host.listSlots();
    for (const token of cluster.tokens) {
      const slot = slots.find((s) => s.SlotId === token.slotId);
      expect(slot?.Token).toMatchObject({ Label: token.label, SerialNumber: token.serial, ManufacturerId: 'SoftHSM project' });
      expect(slot?.Token?.Flags).toContain('CKF_USER_PIN_INITIALIZED');
      expect(slot?.Token?.Flags).not.toContain('CKF_USER_PIN_LOCKED');
    }
    await userLogin(0);
  });

  it('is a module environment the workbench accepts (it goes into the state file with a cluster)', () => {
    expect(ModuleRef.parse({ ModulePath: faults.modulePath, ModuleEnvironment: faults.env }).ModuleEnvironment).toEqual(faults.env);
  });

  it('is a module pkcs11-tool (an independent peer) loads and uses alike, with SoftHSM2 as the built-in default target', async () => {
    const run = promisify(execFile);
    const defaultTarget = { ...process.env, ...cluster.env, FAULT_P11_RULES_FILE: faults.rulesFile };
    const { stdout } = await run('pkcs11-tool', ['--module', faults.modulePath, '-L'], { env: defaultTarget });
    for (const token of cluster.tokens) expect(stdout).toContain(token.label);
    const env = { ...process.env, ...faults.env };
    const listed = await run('pkcs11-tool', ['--module', faults.modulePath, '--slot', slotOf(0), '--login', '--pin', USER_PIN, '-O'], { env });
    expect(listed.stderr).not.toMatch(/error/i);

    await faults.setFaults([{ function: 'C_Login', returns: 'CKR_PIN_LOCKED' }]);
    const refused = await run('pkcs11-tool', ['--module', faults.modulePath, '--slot', slotOf(0), '--login', '--pin', USER_PIN, '-O'], { env }).then(
      () => undefined,
      (error: { stderr?: string }) => error.stderr ?? '',
    );
    expect(refused).toContain('CKR_PIN_LOCKED');
  });
});

describe('faults on chosen calls', () => {
  it('answers C_Login with CKR_PIN_LOCKED once, then logs in normally', async () => {
    await faults.setFaults([{ function: 'C_Login', returns: 'CKR_PIN_LOCKED', count: 1 }]);
    const locked = await rejection(userLogin(0));
    expect(locked).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_PIN_LOCKED', details: { function: 'C_Login', userType: 'USER' } });
    await userLogin(0);
  });

  it('restarts the counters on every setFaults, even with the same rules', async () => {
    const once = [{ function: 'C_Login', returns: 'CKR_PIN_LOCKED', count: 1 }] as const;
    for (let round = 0; round < 2; round++) {
      await faults.setFaults(once);
      expect(await rejection(userLogin(0))).toMatchObject({ code: 'CKR_PIN_LOCKED' });
      await userLogin(0);
    }
  });

  it('takes a rule written after the module is loaded and a session is open', async () => {
    const session = await host.openSession(slotOf(0));
    try {
      expect((await host.getSessionInfo(session)).SlotId).toBe(slotOf(0));
      await faults.setFaults([{ function: 'C_GetSessionInfo', returns: 'CKR_FUNCTION_FAILED' }]);
      expect(await rejection(host.getSessionInfo(session))).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_FUNCTION_FAILED' });
      await faults.setFaults([]);
      expect((await host.getSessionInfo(session)).SlotId).toBe(slotOf(0));
    } finally {
      await host.closeSession(session);
    }
  });

  it('fails a held session with CKR_DEVICE_ERROR mid-connection; a fresh host passes through again', async () => {
    const session = await host.openSession(slotOf(0));
    await host.login(session, 'USER', USER_PIN);
    await faults.setFaults([{ function: 'C_GetSessionInfo', returns: 'CKR_DEVICE_ERROR' }]);
    expect(await rejection(host.getSessionInfo(session))).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_DEVICE_ERROR' });
    await faults.setFaults([]);
    // The host retires a child after CKR_DEVICE_ERROR: its sessions are gone, the next call gets a new C_Initialize.
    expect((await rejection(host.getSessionInfo(session))).message).toMatch(/earlier HSM host process/);
    await userLogin(0);
  });

  it('alters the token flags of the one token named by serial', async () => {
    const locked = cluster.tokens[1];
    await faults.setFaults([{ function: 'C_GetTokenInfo', addFlags: ['CKF_USER_PIN_LOCKED'], removeFlags: ['CKF_RNG'], slot: locked?.serial }]);
    const slots = await host.listSlots();
    const flags = (index: number): string[] => slots.find((s) => s.SlotId === slotOf(index))?.Token?.Flags ?? [];
    expect(flags(1)).toEqual(expect.arrayContaining(['CKF_USER_PIN_LOCKED', 'CKF_USER_PIN_INITIALIZED']));
    expect(flags(1)).not.toContain('CKF_RNG');
    expect(flags(0)).not.toContain('CKF_USER_PIN_LOCKED');
    expect(flags(0)).toContain('CKF_RNG');
  });

  it('filters C_Login by user type: the user is refused, the SO is not', async () => {
    await faults.setFaults([{ function: 'C_Login', returns: 'CKR_USER_ALREADY_LOGGED_IN', userType: 'CKU_USER' }]);
    expect(await rejection(userLogin(0))).toMatchObject({ code: 'CKR_USER_ALREADY_LOGGED_IN' });
    const session = await host.openSession(slotOf(0), { readWrite: true });
    try {
      await host.login(session, 'SO', SO_PIN);
      await host.logout(session);
    } finally {
      await host.closeSession(session);
    }
  });

  it('lets `after` calls through before failing, and only on the slot named by id', async () => {
    await faults.setFaults([{ function: 'C_OpenSession', returns: 'CKR_DEVICE_ERROR', after: 1, count: 1, slot: slotOf(1) }]);
    await userLogin(0);
    await userLogin(1);
    await userLogin(0);
    expect(await rejection(host.openSession(slotOf(1)))).toMatchObject({ code: 'CKR_DEVICE_ERROR', details: { function: 'C_OpenSession' } });
    await userLogin(1);
  });

  it('delays a call on the slot named, then passes it through or answers its code; past the caller timeout it is a hung HSM', async () => {
    await faults.setFaults([{ function: 'C_OpenSession', delayMs: 700, slot: slotOf(1) }, { function: 'C_Login', delayMs: 300, returns: 'CKR_PIN_LOCKED', userType: 'CKU_USER' }]);
    const slow = Date.now();
    const session = await host.openSession(slotOf(1));
    expect(Date.now() - slow).toBeGreaterThanOrEqual(700);
    const refused = Date.now();
    expect(await rejection(host.login(session, 'USER', USER_PIN))).toMatchObject({ code: 'CKR_PIN_LOCKED' });
    expect(Date.now() - refused).toBeGreaterThanOrEqual(300);
    await host.closeSession(session);
    const quick = Date.now();
    await host.closeSession(await host.openSession(slotOf(0)));
    expect(Date.now() - quick).toBeLessThan(700);
    await faults.setFaults([{ function: 'C_OpenSession', delayMs: 5_000, slot: slotOf(1) }]);
    expect(await rejection(host.openSession(slotOf(1), undefined, { timeoutMs: 500 }))).toMatchObject({ name: 'HsmHostTimeoutException' });
  });
});

describe('setFaults refuses a rule the module would ignore', () => {
  it('knows exactly the functions the C source wraps', () => {
    const wrapped = [...readFileSync(FAULT_MODULE_SOURCE, 'utf8').matchAll(/^WRAP\((C_\w+),/gm)].map((match) => match[1]);
    expect([...FAULT_FUNCTIONS].sort()).toEqual(wrapped.sort());
  });


  it.each([
    [{ function: 'C_Login', returns: 'CKR_NOT_A_CODE' }, /not a CKR_ name/],
    [{ function: 'C_Login', addFlags: ['CKF_USER_PIN_LOCKED'] }, /C_GetTokenInfo only/],
    [{ function: 'C_Login' }, /either returns or flag edits/],
    [{ function: 'C_Login', delayMs: 0 }, /either returns or flag edits/],
    [{ function: 'C_GetTokenInfo', delayMs: 10, addFlags: ['CKF_USER_PIN_LOCKED'] }, /either returns or flag edits/],
    [{ function: 'C_OpenSession', returns: 'CKR_OK', userType: 'CKU_SO' }, /C_Login only/],
    [{ function: 'C_Login', returns: 'CKR_PIN_LOCKED', count: -1 }, /whole number/],
  ] as const)('%j', (rule, message) => {
    expect(() => faultRuleLine(rule)).toThrow(message);
  });
});
