import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHsmHostPool } from '../../main/hsm/hsm-host-client';
import type { HsmHostPool } from '../../main/hsm/hsm-host';
import { buildBrokenModules, type BrokenModules } from '../fixtures/broken-modules';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { HOST_CHILD_ENTRY } from '../fixtures/workbench';
import { rejection } from '../fixtures/outcomes';

let broken: BrokenModules;
let cluster: SoftHsmCluster;
let pool: HsmHostPool;

beforeAll(async () => {
  [broken, cluster] = await Promise.all([buildBrokenModules(), createSoftHsmCluster({ tokens: 1, labelPrefix: 'fail' })]);
  pool = createHsmHostPool({ childEntry: HOST_CHILD_ENTRY, defaultTimeoutMs: 10_000 });
});

afterAll(async () => {
  await pool?.disposeAll();
  await Promise.all([broken?.cleanup(), cluster?.cleanup()]);
});

const softhsm = (): { ModulePath: string; ModuleEnvironment: Record<string, string> } => ({ ModulePath: cluster.modulePath, ModuleEnvironment: cluster.env });

/** Live processes whose command line has `arg` as one argument (the host child gets its module path as argv[2]). */
function processesWithArg(arg: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(arg)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Alive and not a zombie (a reaped-late orphan lingers as Z until its new parent waits for it). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function eventually(check: () => boolean, ms = 3000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

describe('modules that cannot be loaded', () => {
  it('names a missing module MODULE_NOT_FOUND and says what to do', async () => {
    const error = await rejection(pool.get({ ModulePath: '/nonexistent/libvendor-pkcs11.so', ModuleEnvironment: {} }).getModuleInfo());
    expect(error).toMatchObject({ name: 'Pkcs11ModuleLoadException', code: 'MODULE_NOT_FOUND' });
    expect(error.message).toMatch(/no PKCS#11 module at \/nonexistent\/libvendor-pkcs11\.so\. Check the path/);
  });

  it.each([
    ['an executable (/bin/ls)', '/bin/ls', /not a PKCS#11 module this system can load/],
    ['a shared library without C_GetFunctionList (libz)', '/usr/lib/x86_64-linux-gnu/libz.so.1', /has no C_GetFunctionList/],
    ['a directory', '/usr/lib', /not a file/],
  ])('names %s NOT_A_PKCS11_MODULE', async (_what, path, message) => {
    const error = await rejection(pool.get({ ModulePath: path, ModuleEnvironment: {} }).listSlots());
    expect(error).toMatchObject({ name: 'Pkcs11ModuleLoadException', code: 'NOT_A_PKCS11_MODULE' });
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/PKCS#11/);
  });

  it('names a text file NOT_A_PKCS11_MODULE', async () => {
    const error = await rejection(pool.get({ ModulePath: broken.textFile, ModuleEnvironment: {} }).getModuleInfo());
    expect(error).toMatchObject({ name: 'Pkcs11ModuleLoadException', code: 'NOT_A_PKCS11_MODULE' });
    expect(error.message).toMatch(/Choose the HSM vendor's PKCS#11 shared library/);
  });

  it('names a module whose C_Initialize fails INITIALIZE_FAILED, with the CKR code', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hsm-workbench-badconf-'));
    try {
      // SoftHSM refuses to initialise when its configuration names a token directory that does not exist.
      const conf = join(dir, 'softhsm2.conf');
      await writeFile(conf, `directories.tokendir = ${join(dir, 'missing')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
      const error = await rejection(pool.get({ ModulePath: cluster.modulePath, ModuleEnvironment: { SOFTHSM2_CONF: conf } }).getModuleInfo());
      expect(error).toMatchObject({ name: 'Pkcs11ModuleLoadException', code: 'INITIALIZE_FAILED', details: { ckr: expect.stringMatching(/^CKR_/) } });
      expect(error.message).toMatch(/C_Initialize failed with CKR_\w+\. Check the module's configuration and environment/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('modules that hang or crash', () => {
  it('kills a hung module after the call timeout, while other modules keep answering', async () => {
    const hung = pool.get({ ModulePath: broken.hangingInitialize, ModuleEnvironment: {} });
    const started = Date.now();
    const [first, queued, other] = await Promise.allSettled([
      hung.getModuleInfo({ timeoutMs: 800 }),
      hung.listSlots({ timeoutMs: 20_000 }), // queued behind the hung call in the same child
      pool.get(softhsm()).listSlots(),
    ]);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(first.status === 'rejected' && first.reason).toMatchObject({ name: 'HsmHostTimeoutException', details: { method: 'getModuleInfo', timeoutMs: 800 } });
    expect(first.status === 'rejected' && (first.reason as Error).message).toMatch(/did not answer getModuleInfo within 0\.8 s/);
    expect(queued.status === 'rejected' && queued.reason).toMatchObject({ name: 'HsmHostTimeoutException' });
    expect(other.status === 'fulfilled' && other.value.some((s) => s.Token?.Label === 'fail-1')).toBe(true);
    // SIGKILL, not a polite request: the hung process is gone.
    expect(await eventually(() => processesWithArg(broken.hangingInitialize).length === 0)).toBe(true);

    // The next request starts a fresh host (which hangs again, and is killed again).
    const again = await rejection(hung.getModuleInfo({ timeoutMs: 500 }));
    expect(again.name).toBe('HsmHostTimeoutException');
  });

  it('times only the call the child is serving: a short call queued behind a long one does not time out', async () => {
    const slow = pool.get({ ModulePath: broken.slowSlotList, ModuleEnvironment: { SLOW_SLOT_LIST_SECONDS: '3' } });
    const started = Date.now();
    // The child serves one request at a time: getModuleInfo waits ≈3 s for listSlots, longer than its own 2 s.
    const [slots, info] = await Promise.all([slow.listSlots({ timeoutMs: 10_000 }), slow.getModuleInfo({ timeoutMs: 2_000 })]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);
    expect(slots).toEqual([]);
    expect(info.ModulePath).toBe(broken.slowSlotList);

    // The head's own timeout still holds: a call slower than its timeout is cut off.
    const cut = await rejection(slow.listSlots({ timeoutMs: 1_000 }));
    expect(cut).toMatchObject({ name: 'HsmHostTimeoutException', details: { method: 'listSlots', timeoutMs: 1_000 } });
  });

  it('reports a crashing module as HsmHostCrashedException with the signal, and restarts it on the next request', async () => {
    const crashing = pool.get({ ModulePath: broken.crashingSlotList, ModuleEnvironment: {} });
    const softhsmHost = pool.get(softhsm());
    const session = await softhsmHost.openSession(cluster.tokens[0]?.slotId ?? '');

    const error = await rejection(crashing.listSlots());
    expect(error).toMatchObject({ name: 'HsmHostCrashedException', details: { signal: 'SIGABRT', method: 'listSlots' } });
    expect(error.message).toMatch(/was killed by SIGABRT during listSlots/);

    // A fresh child answers what does not crash, then crashes again where the module crashes.
    expect((await crashing.getModuleInfo()).ModulePath).toBe(broken.crashingSlotList);
    expect((await rejection(crashing.listSlots())).name).toBe('HsmHostCrashedException');

    // The other module's host, and its session, never noticed.
    expect((await softhsmHost.getSessionInfo(session)).State).toBe('CKS_RO_PUBLIC_SESSION');
    await softhsmHost.closeSession(session);
  });

  it('refuses, after a restart, a session reference from the previous child', async () => {
    const host = pool.get(softhsm());
    const session = await host.openSession(cluster.tokens[0]?.slotId ?? '');
    await host.dispose();
    const error = await rejection(host.getSessionInfo(session));
    expect(error).toMatchObject({ name: 'Pkcs11Exception', code: 'CKR_SESSION_HANDLE_INVALID' });
    expect(error.message).toMatch(/earlier HSM host process/);
  });

  it('says so when the host program itself is missing, instead of blaming the module', async () => {
    const orphan = createHsmHostPool({ childEntry: '/nonexistent/dist/main/hsm-host-child.js' });
    const error = await rejection(orphan.get(softhsm()).listSlots());
    expect(error).toMatchObject({ name: 'HsmHostCrashedException' });
    expect(error.message).toMatch(/HSM host program .* is missing\. Rebuild/);
  });

  it('disposeAll ends every child', async () => {
    const own = createHsmHostPool({ childEntry: HOST_CHILD_ENTRY });
    await own.get({ ModulePath: broken.crashingSlotList, ModuleEnvironment: { MARK: 'dispose' } }).getModuleInfo();
    expect(processesWithArg(broken.crashingSlotList).length).toBeGreaterThan(0);
    await own.disposeAll();
    expect(await eventually(() => processesWithArg(broken.crashingSlotList).length === 0)).toBe(true);
  });

  it('does not keep the parent process alive once idle', async () => {
    // A real Node program that uses a pool and never disposes it: it must still exit by itself.
    const dir = await mkdtemp(join(tmpdir(), 'hsm-workbench-unref-'));
    try {
      const script = join(dir, 'idle.ts');
      const hostClient = fileURLToPath(new URL('../../main/hsm/hsm-host-client.ts', import.meta.url));
      await writeFile(
        script,
        `import { createHsmHostPool } from ${JSON.stringify(hostClient)};
         const pool = createHsmHostPool({ childEntry: ${JSON.stringify(HOST_CHILD_ENTRY)} });
         const slots = await pool.get({ ModulePath: ${JSON.stringify(cluster.modulePath)}, ModuleEnvironment: ${JSON.stringify(cluster.env)} }).listSlots();
         console.log(slots.length);`,
      );
      const bundle = join(dir, 'idle.mjs');
      await build({ entryPoints: [script], outfile: bundle, bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'silent' });
      const started = Date.now();
      const { stdout } = await promisify(execFile)(process.execPath, [bundle], { timeout: 10_000, cwd: fileURLToPath(new URL('../..', import.meta.url)) });
      expect(stdout.trim()).toBe('2');
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a child blocked inside a PKCS#11 call dies when its parent is killed (no orphan)', async () => {
    // A real parent process that forks the bundled child, sends it a request that hangs in C_Initialize,
    // prints the child's pid and waits. The child's JS thread is stuck in native code, so only something
    // that runs beside it can notice the parent is gone.
    const dir = await mkdtemp(join(tmpdir(), 'hsm-workbench-orphan-'));
    let childPid = 0;
    try {
      const script = join(dir, 'parent.mjs');
      await writeFile(
        script,
        `import { fork } from 'node:child_process';
         const child = fork(${JSON.stringify(HOST_CHILD_ENTRY)}, [${JSON.stringify(broken.hangingInitialize)}], { execArgv: [], serialization: 'json', stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
         child.send({ kind: 'call', id: 1, verb: 'getModuleInfo', args: [] }, () => console.log(child.pid));
         setInterval(() => undefined, 60_000);`,
      );
      const parent = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'ignore'] });
      childPid = await new Promise<number>((resolve, reject) => {
        let out = '';
        parent.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(Number(out.trim()));
        });
        parent.once('exit', () => reject(new Error(`the intermediate parent exited early: ${out}`)));
      });
      expect(childPid).toBeGreaterThan(0);
      expect(readFileSync(`/proc/${childPid}/cmdline`, 'utf8').split('\0')).toContain(broken.hangingInitialize);
      // Let the child get into C_Initialize (it loads the module on the first request).
      await new Promise((r) => setTimeout(r, 1_000));
      expect(isRunning(childPid)).toBe(true);

      process.kill(parent.pid ?? 0, 'SIGKILL');
      expect(await eventually(() => !isRunning(childPid), 3_000)).toBe(true);
    } finally {
      // Without the watchdog the child would live on; do not leave it behind.
      if (childPid > 0 && isRunning(childPid)) process.kill(childPid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
