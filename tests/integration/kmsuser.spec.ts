import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DescribeKmsuserResponse, KmsuserPasswordResponse } from '../../shared/contract/kmsuser';
import { createHsmHostPool } from '../../main/hsm/hsm-host-client';
import type { HsmHost, HsmHostPool } from '../../main/hsm/hsm-host';
import { createKmsuserService } from '../../main/kmsuser/kmsuser-service';
import { openStateStore } from '../../main/state/state-store';
import { cli, type CliRun } from '../fixtures/cli';
import { rejection } from '../fixtures/outcomes';
import { HOST_CHILD_ENTRY } from '../fixtures/workbench';
import { createSoftHsmCluster, peerLogin, type SoftHsmCluster } from '../fixtures/softhsm';
import { keyStoreRecord } from '../fixtures/records';

const FIRST_PASSWORD = 'kmsuser-first-pw';
const NEW_PASSWORD = 'kmsuser-second-pw';
const THIRD_PASSWORD = 'kmsuser-third-pw';
const OTHER_SO_PIN = 'other-so-pin-42';

interface CliError {
  Error: { Name: string; Message: string; Code?: string; Details?: Record<string, unknown> };
}

/** Every file under `dir`, as text. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return Promise.all(entries.filter((e) => e.isFile()).map((e) => readFile(join(e.parentPath, e.name), 'utf8')));
}

/** A secret as it could leak: in clear, hex or base64. */
function encodings(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [secret, bytes.toString('hex'), bytes.toString('base64'), bytes.toString('base64url')];
}

describe('kmsuser create, status and change-password', () => {
  let hsm: SoftHsmCluster;
  let stateDir: string;
  let clusterId: string;
  let hsmIds: string[];
  /** Everything the CLI printed, for the leak check. */
  const printed: string[] = [];

  const run = async (args: string[], stdin = ''): Promise<CliRun> => {
    const result = await cli(stateDir, args, stdin);
    printed.push(result.stdout, result.stderr);
    return result;
  };
  const json = async <T>(args: string[], stdin = ''): Promise<{ run: CliRun; value: T }> => {
    const result = await run(['--output', 'json', ...args], stdin);
    return { run: result, value: JSON.parse(result.code === 0 ? result.stdout : result.stderr) as T };
  };
  const status = async (): Promise<DescribeKmsuserResponse> => (await json<DescribeKmsuserResponse>(['kmsuser', 'status', clusterId])).value;
  /** Whether pkcs11-tool, an independent peer, logs in as kmsuser with `pin` on each member. */
  const peerLogins = (pin: string): Promise<boolean[]> => Promise.all(hsm.tokens.map((t) => peerLogin(hsm.env, hsm.modulePath, t.label, pin)));
  const changeSoPin = (index: number, from: string, to: string): Promise<unknown> =>
    promisify(execFile)(
      'pkcs11-tool',
      ['--module', hsm.modulePath, '--token-label', hsm.tokens[index]?.label ?? '', '--login', '--login-type', 'so', '--so-pin', from, '--change-pin', '--new-pin', to],
      { env: { ...process.env, ...hsm.env } },
    );

  beforeAll(async () => {
    // Tokens with an SO PIN only: no kmsuser yet.
    hsm = await createSoftHsmCluster({ tokens: 2, userPin: null, labelPrefix: 'ku' });
    stateDir = await mkdtemp(join(tmpdir(), 'hsm-workbench-kmsuser-'));
    const env = Object.entries(hsm.env).map(([k, v]) => `${k}=${v}`);
    const created = await json<{ Cluster: { ClusterId: string; Hsms: Array<{ HsmId: string }> } }>([
      'cluster',
      'create',
      '--name',
      'kmsuser-spec',
      '--module',
      hsm.modulePath,
      ...env.flatMap((e) => ['--env', e]),
      ...hsm.tokens.flatMap((t) => ['--token-serial', t.serial]),
    ]);
    expect(created.run.code).toBe(0);
    clusterId = created.value.Cluster.ClusterId;
    hsmIds = created.value.Cluster.Hsms.map((h) => h.HsmId);
  });
  afterAll(async () => {
    await rm(stateDir, { recursive: true, force: true });
    await hsm.cleanup();
  });

  it('status reads every member without logging in: no kmsuser yet, nothing in the ledger', async () => {
    const text = await run(['kmsuser', 'status', clusterId]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Reachable/);
    const value = await status();
    expect(value.Hsms.map((h) => [h.HsmId, h.Reachable, h.KmsuserPresent, h.LastRotation])).toEqual(hsmIds.map((id) => [id, true, false, null]));
  });

  it('refuses a password of 6 or 33 characters with ValidationException (exit 2), changing nothing', async () => {
    const before = await readFile(join(stateDir, 'state.json'), 'utf8');
    for (const password of ['x'.repeat(6), 'x'.repeat(33)]) {
      const refused = await json<CliError>(['kmsuser', 'create', clusterId, '--stdin'], `${hsm.soPin}\n${password}\n`);
      expect(refused.run.code).toBe(2);
      expect(refused.value.Error.Name).toBe('ValidationException');
      expect(refused.value.Error.Message).toMatch(/7 to 32 characters/);
    }
    const missingLine = await json<CliError>(['kmsuser', 'create', clusterId, '--stdin'], `${hsm.soPin}\n`);
    expect(missingLine.run.code).toBe(2);
    expect(missingLine.value.Error.Message).toMatch(/line 2: the kmsuser password/);
    const noTerminal = await run(['kmsuser', 'create', clusterId]);
    expect(noTerminal.code).toBe(2);
    expect(noTerminal.stderr).toMatch(/--stdin/);
    expect(await readFile(join(stateDir, 'state.json'), 'utf8')).toBe(before);
    expect((await status()).Hsms.map((h) => h.KmsuserPresent)).toEqual([false, false]);
  });

  it('names the member that refuses the SO PIN, and changes nothing on any HSM', async () => {
    await changeSoPin(1, hsm.soPin, OTHER_SO_PIN);
    try {
      const refused = await json<CliError>(['kmsuser', 'create', clusterId, '--stdin'], `${hsm.soPin}\n${FIRST_PASSWORD}\n`);
      expect(refused.run.code).toBe(1);
      expect(refused.value.Error).toMatchObject({ Name: 'Pkcs11Exception', Code: 'CKR_PIN_INCORRECT', Details: { HsmId: hsmIds[1] } });
      expect(refused.value.Error.Message).toContain(`HSM ${hsmIds[1] ?? ''}`);
      expect(refused.value.Error.Message).toMatch(/refused the SO PIN.*nothing was changed on any HSM/);
      // The first member accepted the SO PIN in the check, but was not changed.
      expect((await status()).Hsms.map((h) => h.KmsuserPresent)).toEqual([false, false]);
      expect(await peerLogins(FIRST_PASSWORD)).toEqual([false, false]);
    } finally {
      await changeSoPin(1, OTHER_SO_PIN, hsm.soPin);
    }
  });

  it('create sets kmsuser on every member, journals each HSM and notes the rotation in the ledger', async () => {
    const created = await json<KmsuserPasswordResponse>(['kmsuser', 'create', clusterId, '--stdin'], `${hsm.soPin}\n${FIRST_PASSWORD}\n`);
    expect(created.run.code).toBe(0);
    expect(created.value.Hsms.map((h) => h.Outcome)).toEqual(['CHANGED', 'CHANGED']);
    expect(await peerLogins(FIRST_PASSWORD)).toEqual([true, true]);

    const value = await status();
    expect(value.Hsms.map((h) => h.KmsuserPresent)).toEqual([true, true]);
    for (const h of value.Hsms) expect(Date.parse(h.LastRotation ?? '')).toBeGreaterThan(Date.now() - 60_000);

    const audit = (await readFile(join(stateDir, 'audit', 'audit-log.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const steps = audit
      .filter((r) => r.eventName === 'CreateKmsuser')
      .map((r) => (r.additionalEventData as { step?: { name: string; hsmId?: string } } | undefined)?.step)
      .filter((s) => s !== undefined);
    expect(steps).toEqual(hsmIds.flatMap((hsmId) => [expect.objectContaining({ name: 'SetKmsuserPassword', hsmId }), expect.objectContaining({ name: 'KmsuserPasswordSet', hsmId })]));

    const again = await json<CliError>(['kmsuser', 'create', clusterId, '--stdin'], `${hsm.soPin}\n${NEW_PASSWORD}\n`);
    expect(again.run.code).toBe(1);
    expect(again.value.Error.Name).toBe('KmsuserAlreadyExistsException');
    expect(await peerLogins(FIRST_PASSWORD)).toEqual([true, true]);
  });

  it("the cluster check's login tests go into the ledger: a refused one counts, an accepted one resets the count", async () => {
    const wrong = await run(['cluster', 'check', clusterId, '--kmsuser-password-stdin'], 'not-the-password\n');
    expect(wrong.code).toBe(1);
    // Only the first HSM is asked a refused password.
    expect((await status()).Hsms.map((h) => h.FailedLoginsCaused)).toEqual([1, 0]);
    expect((await status()).Hsms[0]?.LastFailedLogin).not.toBeNull();

    const right = await run(['cluster', 'check', clusterId, '--kmsuser-password-stdin'], `${FIRST_PASSWORD}\n`);
    expect(right.code).toBe(0);
    const value = await status();
    expect(value.Hsms.map((h) => h.FailedLoginsCaused)).toEqual([0, 0]);
    for (const h of value.Hsms) expect(h.LastSuccessfulLogin).not.toBeNull();
    const table = await run(['kmsuser', 'status', clusterId]);
    expect(table.stdout).toContain(value.Hsms[0]?.LastSuccessfulLogin ?? 'missing');
  });

  it('change-password refuses while a key store using the cluster is CONNECTED', async () => {
    const store = await openStateStore({ stateDir, program: 'test' });
    await store.transact((state) => {
      state.customKeyStores.push({ ...keyStoreRecord('cks-0123456789abcdef0', clusterId), ConnectionState: 'CONNECTED' });
    });
    try {
      const refused = await json<CliError>(['kmsuser', 'change-password', clusterId, '--stdin'], `${hsm.soPin}\n${NEW_PASSWORD}\n`);
      expect(refused.run.code).toBe(1);
      expect(refused.value.Error.Name).toBe('CustomKeyStoreInvalidStateException');
      expect(refused.value.Error.Message).toMatch(/cks-0123456789abcdef0.*CONNECTED.*disconnect-custom-key-store/);
      expect(await peerLogins(FIRST_PASSWORD)).toEqual([true, true]);
    } finally {
      await store.transact((state) => {
        state.customKeyStores = [];
      });
    }
  });

  it('change-password sets the new password on every member as SO: the new one logs in, the old one no longer does', async () => {
    const before = await status();
    const changed = await json<KmsuserPasswordResponse>(['kmsuser', 'change-password', clusterId, '--stdin'], `${hsm.soPin}\n${NEW_PASSWORD}\n`);
    expect(changed.run.code).toBe(0);
    expect(changed.value).toEqual({ ClusterId: clusterId, Hsms: hsmIds.map((HsmId, i) => ({ HsmId, TokenSerial: hsm.tokens[i]?.serial, TokenLabel: hsm.tokens[i]?.label, Outcome: 'CHANGED' })), CustomKeyStoreId: null });
    expect(await peerLogins(NEW_PASSWORD)).toEqual([true, true]);
    expect(await peerLogins(FIRST_PASSWORD)).toEqual([false, false]);
    const after = await status();
    after.Hsms.forEach((h, i) => expect(h.LastRotation! > before.Hsms[i]!.LastRotation!).toBe(true));
  });

  it('a change that fails part-way says which HSMs have the new password and which the old', async () => {
    const before = await status();
    // The second member's SO PIN changes between the check of every member and that member's change: a real
    // refusal part-way, made by the token, at the moment the journal says the workbench is about to touch it.
    const hosts = createHsmHostPool({ childEntry: HOST_CHILD_ENTRY });
    const service = createKmsuserService({ state: await openStateStore({ stateDir, program: 'test' }), hosts });
    const journalled: string[] = [];
    try {
      const error = await rejection(
        service.changePassword(
          { ClusterId: clusterId, SoPin: hsm.soPin, NewKmsuserPassword: THIRD_PASSWORD },
          {
            signal: new AbortController().signal,
            journal: async (step) => {
              journalled.push(`${step.name} ${step.hsmId ?? ''}`);
              if (step.name !== 'SetKmsuserPassword' || step.hsmId !== hsmIds[1]) return;
              await changeSoPin(1, hsm.soPin, OTHER_SO_PIN);
              // SoftHSM reads a token's SO PIN when the module loads: the next call goes to a fresh child that sees the change.
              hosts.get({ ModulePath: hsm.modulePath, ModuleEnvironment: hsm.env }).retire();
            },
          },
        ),
      );
      printed.push(error.message, JSON.stringify(error.details));
      expect(error).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_PIN_INCORRECT' });
      expect((error.details?.Hsms as Array<{ HsmId: string; Outcome: string }>).map((h) => [h.HsmId, h.Outcome])).toEqual([
        [hsmIds[0], 'CHANGED'],
        [hsmIds[1], 'NOT_CHANGED'],
      ]);
      expect(error.message).toContain(`HSMs with the new password: ${hsmIds[0] ?? ''}`);
      expect(error.message).toContain(`HSMs that keep the previous password: ${hsmIds[1] ?? ''}`);
      expect(error.message).toMatch(/Nothing was rolled back: C_InitPIN cannot restore a password/);
      expect(error.message).not.toMatch(/never knew it/);
      expect(journalled).toEqual([`SetKmsuserPassword ${hsmIds[0] ?? ''}`, `KmsuserPasswordSet ${hsmIds[0] ?? ''}`, `SetKmsuserPassword ${hsmIds[1] ?? ''}`]);
    } finally {
      await hosts.disposeAll();
      await changeSoPin(1, OTHER_SO_PIN, hsm.soPin);
    }
    expect(await Promise.all([peerLogin(hsm.env, hsm.modulePath, hsm.tokens[0]?.label ?? '', THIRD_PASSWORD), peerLogin(hsm.env, hsm.modulePath, hsm.tokens[1]?.label ?? '', NEW_PASSWORD)])).toEqual([true, true]);
    const after = await status();
    expect(after.Hsms[0]?.LastRotation).not.toBe(before.Hsms[0]?.LastRotation);
    expect(after.Hsms[1]?.LastRotation).toBe(before.Hsms[1]?.LastRotation);

    // Run again once the cause is gone, as the message says: one password on every HSM.
    const again = await json<KmsuserPasswordResponse>(['kmsuser', 'change-password', clusterId, '--stdin'], `${hsm.soPin}\n${THIRD_PASSWORD}\n`);
    expect(again.run.code).toBe(0);
    expect(await peerLogins(THIRD_PASSWORD)).toEqual([true, true]);
  });

  // No re-run after it: SoftHSM killed while it writes a token file may leave that token unreadable.
  it('a host that dies during C_InitPIN leaves that HSM UNKNOWN, not NOT_CHANGED: the PIN may have been set', async () => {
    const hosts = createHsmHostPool({ childEntry: HOST_CHILD_ENTRY });
    let killDuring = false;
    // The real host, killed -9 the moment the second member's C_InitPIN is on its way: a crash mid-call.
    const crashing: HsmHostPool = {
      get: (module) => {
        const host = hosts.get(module);
        return new Proxy(host, {
          get: (target, key, receiver): unknown =>
            key !== 'initUserPin' || !killDuring
              ? Reflect.get(target, key, receiver)
              : (...args: Parameters<HsmHost['initUserPin']>): Promise<void> => {
                  const sent = target.initUserPin(...args);
                  if (target.pid !== undefined) process.kill(target.pid, 'SIGKILL');
                  return sent;
                },
        });
      },
      disposeAll: () => hosts.disposeAll(),
    };
    const service = createKmsuserService({ state: await openStateStore({ stateDir, program: 'test' }), hosts: crashing });
    try {
      const error = await rejection(
        service.changePassword(
          { ClusterId: clusterId, SoPin: hsm.soPin, NewKmsuserPassword: THIRD_PASSWORD },
          {
            signal: new AbortController().signal,
            journal: async (step) => {
              killDuring = step.name === 'SetKmsuserPassword' && step.hsmId === hsmIds[1];
            },
          },
        ),
      );
      printed.push(error.message, JSON.stringify(error.details));
      expect(error).toMatchObject({ name: 'HsmHostCrashedException' });
      expect((error.details?.Hsms as Array<{ HsmId: string; Outcome: string }>).map((h) => [h.HsmId, h.Outcome])).toEqual([
        [hsmIds[0], 'CHANGED'],
        [hsmIds[1], 'UNKNOWN'],
      ]);
      expect(error.message).toContain(`not known (the HSM or its host stopped answering during the change): ${hsmIds[1] ?? ''}`);
    } finally {
      await hosts.disposeAll();
    }
  });

  it('a member whose token is gone shows as unreachable in status, and change-password names it and changes nothing', async () => {
    await hsm.removeToken(1);
    const value = await status();
    expect(value.Hsms.map((h) => [h.Reachable, h.KmsuserPresent])).toEqual([
      [true, true],
      [false, null],
    ]);
    expect(value.Hsms[1]?.Problem).toMatch(/not present/);
    // The ledger is still shown for the member that cannot be read.
    expect(value.Hsms[1]?.LastRotation).not.toBeNull();

    const refused = await json<CliError>(['kmsuser', 'change-password', clusterId, '--stdin'], `${hsm.soPin}\n${FIRST_PASSWORD}\n`);
    expect(refused.run.code).toBe(1);
    expect(refused.value.Error).toMatchObject({ Name: 'TokenNotFoundException', Details: { HsmId: hsmIds[1] } });
    expect(refused.value.Error.Message).toMatch(/nothing was changed on any HSM/);
    expect(await peerLogin(hsm.env, hsm.modulePath, hsm.tokens[0]?.label ?? '', THIRD_PASSWORD)).toBe(true);
  });

  it('no PIN or password reaches the state directory (state, audit log, logs) or anything printed', async () => {
    const haystacks = [...(await filesUnder(stateDir)), ...printed];
    for (const secret of [hsm.soPin, OTHER_SO_PIN, FIRST_PASSWORD, NEW_PASSWORD, THIRD_PASSWORD]) {
      for (const encoded of encodings(secret)) {
        expect(haystacks.filter((text) => text.includes(encoded)), `${secret} as ${encoded}`).toEqual([]);
      }
    }
  });
});
