import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { P11KIT_CLIENT_MODULE } from '../fixtures/p11kit-server';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';

/**
 * The HSM host child runs with the module environment over the workbench's own. Whatever reaches it
 * there must configure the module, never run code in the host: these requests try, on a real SoftHSM
 * token and p11-kit's real client, and leave a marker file if anything ran.
 */
describe('a module environment cannot run code in the HSM host', () => {
  let hsm: SoftHsmCluster;
  let wb: TestWorkbench;
  let dir: string;

  beforeAll(async () => {
    [hsm, wb, dir] = await Promise.all([
      createSoftHsmCluster({ tokens: 1, labelPrefix: 'env' }),
      createTestWorkbench(),
      mkdtemp(join(tmpdir(), 'hsm-workbench-env-')),
    ]);
  });
  afterAll(async () => {
    await wb?.dispose();
    await hsm?.cleanup();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses NODE_OPTIONS=--require before a host starts with it', async () => {
    const marker = join(dir, 'node-options-ran');
    const script = join(dir, 'preload.cjs');
    await writeFile(script, `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
    const result = await wb.call('ListSlots', { ModulePath: hsm.modulePath, ModuleEnvironment: { ...hsm.env, NODE_OPTIONS: `--require ${script}` } });
    expect(result.ok ? 'listed' : result.error.name).toBe('ValidationException');
    expect(result.ok ? '' : result.error.message).toMatch(/ModuleEnvironment\.NODE_OPTIONS: NODE_OPTIONS configures Node\.js in the HSM host process/);
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses a P11_KIT_SERVER_ADDRESS that p11-kit would run as a command', async () => {
    const marker = join(dir, 'p11-kit-command-ran');
    const result = await wb.call('ListSlots', { ModulePath: P11KIT_CLIENT_MODULE, ModuleEnvironment: { P11_KIT_SERVER_ADDRESS: `|touch ${marker}` } });
    expect(result.ok ? 'listed' : result.error.name).toBe('ValidationException');
    expect(result.ok ? '' : result.error.message).toMatch(/P11_KIT_SERVER_ADDRESS starting with \| makes p11-kit's client run a command/);
    expect(existsSync(marker)).toBe(false);
  });

  it('still gives the module what it reads (SOFTHSM2_CONF, PATH)', async () => {
    const result = await wb.call('ListSlots', { ModulePath: hsm.modulePath, ModuleEnvironment: { ...hsm.env, PATH: process.env['PATH'] ?? '/usr/bin' } });
    expect(result.ok ? result.value.Slots.some((s) => s.Token?.Label === hsm.tokens[0]?.label) : result.error.message).toBe(true);
  });
});
