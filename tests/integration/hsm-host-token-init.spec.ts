import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlotInfo } from '../../shared/contract/hsm';
import type { WorkbenchError } from '../../shared/errors';
import { createHsmHostPool } from '../../main/hsm/hsm-host-client';
import { createSoftHsmConfig } from '../../main/softhsm/softhsm-config';
import type { HsmHost, HsmHostPool } from '../../main/hsm/hsm-host';
import { HOST_CHILD_ENTRY } from '../fixtures/workbench';
import { rejection } from '../fixtures/outcomes';

// Every secret of this file: none may appear in any error the host returns.
const SO_PIN = 'so-secret-pin-9931';
const WRONG_SO_PIN = 'not-the-so-pin-5517';
const USER_PIN = 'kmsuser-first-pin-2211';
const NEW_USER_PIN = 'kmsuser-rotated-pin-8842';
const WRONG_OLD_PIN = 'not-the-user-pin-6604';
const SECRETS = [SO_PIN, WRONG_SO_PIN, USER_PIN, NEW_USER_PIN, WRONG_OLD_PIN];
// Multi-byte on purpose: the label is padded to 32 *bytes* of UTF-8, not 32 characters.
const LABEL = 'kms-hsm-ä-1';

let dir: string;
let env: { SOFTHSM2_CONF: string };
let modulePath: string;
let pool: HsmHostPool;
let host: HsmHost;
const errors: WorkbenchError[] = [];

/** The WorkbenchError, remembered so the file can assert afterwards that no PIN leaked into any of them. */
async function failure(promise: Promise<unknown>): Promise<WorkbenchError> {
  const error = await rejection(promise);
  errors.push(error);
  return error;
}

function uninitialised(slots: SlotInfo[]): SlotInfo | undefined {
  return slots.find((s) => s.TokenPresent && !(s.Token?.Flags ?? []).includes('CKF_TOKEN_INITIALIZED'));
}

beforeAll(async () => {
  // A fresh SoftHSM2 configuration with no tokens: SoftHSM offers just its one free, uninitialised slot.
  dir = await mkdtemp(join(tmpdir(), 'hsm-workbench-inittoken-'));
  const setup = await createSoftHsmConfig(dir);
  env = setup.env;
  modulePath = setup.modulePath;
  pool = createHsmHostPool({ childEntry: HOST_CHILD_ENTRY, defaultTimeoutMs: 10_000 });
  host = pool.get({ ModulePath: modulePath, ModuleEnvironment: env });
});

afterAll(async () => {
  await pool?.disposeAll();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('token initialisation through the HSM host (C_InitToken, C_InitPIN, C_SetPIN) on real SoftHSM2', () => {
  it('initialises a free slot, sets the user PIN as SO, then the user changes it', async () => {
    const before = await host.listSlots();
    expect(before.filter((s) => s.Token?.Flags.includes('CKF_TOKEN_INITIALIZED'))).toEqual([]);
    const free = uninitialised(before);
    expect(free).toBeDefined();
    await host.initToken(free?.SlotId ?? '', SO_PIN, LABEL);
    // Found by label: SoftHSM gives an initialised token a slot id derived from its serial (at the latest on the next C_Initialize).
    const initialised = (await host.listSlots()).find((s) => s.Token?.Label === LABEL);
    const slotId = initialised?.SlotId ?? '';
    expect(initialised?.Token?.Flags).toContain('CKF_TOKEN_INITIALIZED');
    expect(initialised?.Token?.Flags).not.toContain('CKF_USER_PIN_INITIALIZED');

    const session = await host.openSession(slotId, { readWrite: true });
    try {
      // A wrong SO PIN is refused by C_Login, and named only by its CKR code.
      const wrongSo = await failure(host.login(session, 'SO', WRONG_SO_PIN));
      expect(wrongSo).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_PIN_INCORRECT', details: { function: 'C_Login', userType: 'SO' } });
      expect(wrongSo.details?.tokenFlags).toContain('CKF_SO_PIN_COUNT_LOW');
      // C_InitPIN needs the SO logged in.
      expect(await failure(host.initPin(session, USER_PIN))).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_USER_NOT_LOGGED_IN' });

      await host.login(session, 'SO', SO_PIN);
      await host.initPin(session, USER_PIN);
      await host.logout(session);
      expect((await host.listSlots()).find((s) => s.SlotId === slotId)?.Token?.Flags).toContain('CKF_USER_PIN_INITIALIZED');

      await host.login(session, 'USER', USER_PIN);
      // C_SetPIN checks the old PIN.
      const wrongOld = await failure(host.setPin(session, WRONG_OLD_PIN, NEW_USER_PIN));
      expect(wrongOld).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_PIN_INCORRECT' });
      expect(wrongOld.message).toMatch(/^C_SetPIN failed with CKR_PIN_INCORRECT\./);
      expect(wrongOld.details?.tokenFlags).toContain('CKF_USER_PIN_COUNT_LOW');
      await host.setPin(session, USER_PIN, NEW_USER_PIN);
      await host.logout(session);

      await host.login(session, 'USER', NEW_USER_PIN);
      expect((await host.getSessionInfo(session)).State).toBe('CKS_RW_USER_FUNCTIONS');
      await host.logout(session);
      const oldPin = await failure(host.login(session, 'USER', USER_PIN));
      expect(oldPin).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_PIN_INCORRECT' });
    } finally {
      await host.closeSession(session);
    }

    // Re-initialising needs the SO PIN: a wrong one is refused by C_InitToken.
    const reinit = await failure(host.initToken(slotId, WRONG_SO_PIN, LABEL));
    expect(reinit).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_PIN_INCORRECT' });
    expect(reinit.message).toMatch(/^C_InitToken failed with CKR_PIN_INCORRECT\./);

    // Independent peers, in fresh processes: both see the token, initialised, with its user PIN set.
    const peerEnv = { ...process.env, ...env };
    const { stdout: shown } = await promisify(execFile)('softhsm2-util', ['--show-slots'], { env: peerEnv });
    // Blocks start "Slot <id>", with "Initialized:", "User PIN init.:", "Label:" and "Serial number:" lines.
    const block = shown.split(/\n(?=Slot \d+)/).find((b) => /^\s*Label:[ \t]*(.*?)\s*$/m.exec(b)?.[1] === LABEL) ?? '';
    expect(block).toMatch(/^\s*Initialized:\s*yes\s*$/m);
    expect(block).toMatch(/^\s*User PIN init\.:\s*yes\s*$/m);
    expect(block).toMatch(/^\s*Serial number:\s*[0-9a-f]{16}\s*$/m);
    const { stdout: listed } = await promisify(execFile)('pkcs11-tool', ['--module', modulePath, '-L'], { env: peerEnv });
    const tokenBlock = listed.split(/\n(?=Slot \d+ \()/).find((b) => /^\s*token label\s*:\s*(.*?)\s*$/m.exec(b)?.[1] === LABEL) ?? '';
    expect(tokenBlock).toMatch(/^\s*token flags\s*:.*\btoken initialized\b.*, PIN initialized\b/m);
  });

  it('refuses a label longer than the 32 bytes of CK_TOKEN_INFO.label before calling the module', async () => {
    const slotId = uninitialised(await host.listSlots())?.SlotId ?? '';
    expect(slotId).not.toBe('');
    // 31 ASCII bytes + one two-byte character: 16 characters would fit, 33 bytes do not.
    const error = await failure(host.initToken(slotId, SO_PIN, `${'x'.repeat(31)}é`));
    expect(error).toMatchObject({ name: 'ValidationException' });
    expect(error.message).toMatch(/32 bytes/);
    expect(uninitialised(await host.listSlots())?.SlotId).toBe(slotId);
  });

  it('let no PIN into any error along the way', () => {
    expect(errors.length).toBeGreaterThanOrEqual(6);
    const everything = errors.map((e) => [e.message, String(e.stack), JSON.stringify(e.toInfo()), JSON.stringify(e.details)].join('\n')).join('\n');
    for (const secret of SECRETS) expect(everything).not.toContain(secret);
  });
});
