import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHsmHostPool } from '../../main/hsm/hsm-host-client';
import type { HsmHostPool } from '../../main/hsm/hsm-host';
import { rejection } from '../fixtures/outcomes';
import { P11KIT_CLIENT_MODULE } from '../fixtures/p11kit-server';
import { HOST_CHILD_ENTRY } from '../fixtures/workbench';

/** A module that cannot start is reported by what is actually wrong, so the admin fixes the right thing. */
describe('messages of modules that cannot be loaded', () => {
  let pool: HsmHostPool;
  let dir: string;

  beforeAll(async () => {
    pool = createHsmHostPool({ childEntry: HOST_CHILD_ENTRY, defaultTimeoutMs: 10_000 });
    dir = await mkdtemp(join(tmpdir(), 'hsm-workbench-load-'));
  });
  afterAll(async () => {
    await pool?.disposeAll();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('names a character device as a device, not a directory', async () => {
    const error = await rejection(pool.get({ ModulePath: '/dev/zero', ModuleEnvironment: {} }).listSlots());
    expect(error).toMatchObject({ name: 'Pkcs11ModuleLoadException', code: 'NOT_A_PKCS11_MODULE' });
    expect(error.message).toBe("/dev/zero is a character device, not a shared library. Give the path of the HSM vendor's PKCS#11 library (a .so, .dylib or .dll file).");
  });

  it('names a FIFO as a named pipe, without opening it', async () => {
    const fifo = join(dir, 'module.so');
    await promisify(execFile)('mkfifo', [fifo]);
    // Opening a FIFO blocks until a writer comes: a timeout here would mean the host tried to load it.
    const error = await rejection(pool.get({ ModulePath: fifo, ModuleEnvironment: {} }).listSlots({ timeoutMs: 5000 }));
    expect(error).toMatchObject({ name: 'Pkcs11ModuleLoadException', code: 'NOT_A_PKCS11_MODULE' });
    expect(error.message).toMatch(/is a named pipe \(FIFO\), not a shared library/);
  });

  it("names a malformed P11_KIT_SERVER_ADDRESS instead of calling p11-kit's client not a PKCS#11 module", async () => {
    const error = await rejection(pool.get({ ModulePath: P11KIT_CLIENT_MODULE, ModuleEnvironment: { P11_KIT_SERVER_ADDRESS: 'garbage' } }).listSlots());
    expect(error).toMatchObject({ name: 'Pkcs11ModuleLoadException', code: 'INITIALIZE_FAILED', details: { ckr: 'CKR_GENERAL_ERROR', environmentVariable: 'P11_KIT_SERVER_ADDRESS' } });
    expect(error.message).toMatch(/refused to start \(C_GetFunctionList answered CKR_GENERAL_ERROR\): P11_KIT_SERVER_ADDRESS "garbage" is not an address p11-kit's client can use\. Give unix:path=<socket>/);
    expect(error.message).not.toMatch(/not a PKCS#11 module/);
  });
});
