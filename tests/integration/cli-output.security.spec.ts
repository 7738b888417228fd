import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, type CliRun } from '../fixtures/cli';
import { createSoftHsmCluster, DEFAULT_SO_PIN, DEFAULT_USER_PIN, type SoftHsmCluster } from '../fixtures/softhsm';

/**
 * A token label an adversary chose (the issue's, plus C1 CSI, a bidi override and a line separator):
 * recolours, retitles the window, rings the bell, reverses and splits whatever follows. 31 bytes of
 * UTF-8, so it fits CK_TOKEN_INFO.label.
 */
const HOSTILE_LABEL = '\x1b[31mEVIL\x1b[0m\x1b]0;pwned\x07\u009b\u202e\u2028';
/** Anything a terminal acts on, except the newlines of the output's own layout. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

function expectTerminalSafe(run: CliRun): void {
  expect(run.stdout).not.toMatch(RAW_CONTROL);
  expect(run.stderr).not.toMatch(RAW_CONTROL);
}

describe('CLI output with a hostile token label on a real SoftHSM token', () => {
  let hsm: SoftHsmCluster;
  let stateDir: string;
  let module: string[];
  let serial: string;

  beforeAll(async () => {
    hsm = await createSoftHsmCluster({ tokens: 1 });
    // The adversary's token, initialised by SoftHSM's own tool beside a normal one.
    await promisify(execFile)('softhsm2-util', ['--init-token', '--free', '--label', HOSTILE_LABEL, '--so-pin', DEFAULT_SO_PIN, '--pin', DEFAULT_USER_PIN], {
      env: { ...process.env, ...hsm.env },
    });
    stateDir = await mkdtemp(join(tmpdir(), 'hsm-workbench-cli-hostile-'));
    module = ['--module', hsm.modulePath, '--env', `SOFTHSM2_CONF=${hsm.conf}`];
  });
  afterAll(async () => {
    await hsm.cleanup();
    await rm(stateDir, { recursive: true, force: true });
  });

  it('hsm list-slots shows the label escaped in the table, and as an exact, \\u-escaped string in JSON', async () => {
    const json = await cli(stateDir, ['--output', 'json', 'hsm', 'list-slots', ...module]);
    expect(json.code).toBe(0);
    expectTerminalSafe(json);
    const slots = (JSON.parse(json.stdout) as { Slots: Array<{ Token: { Label: string; SerialNumber: string } | null }> }).Slots;
    // The label really reached the workbench byte for byte: what follows tests the output, not a mangled input.
    const hostile = slots.find((s) => s.Token?.Label === HOSTILE_LABEL)?.Token;
    expect(hostile).toBeDefined();
    serial = hostile?.SerialNumber ?? '';
    expect(json.stdout).toContain('\\u009b\\u202e\\u2028');

    const table = await cli(stateDir, ['hsm', 'list-slots', ...module]);
    expect(table.code).toBe(0);
    expectTerminalSafe(table);
    expect(table.stdout).toContain('\\x1b[31mEVIL\\x1b[0m\\x1b]0;pwned\\x07\\x9b\\u202e\\u2028');
  });

  it('cluster create, describe and check evidence print the label escaped', { timeout: 60_000 }, async () => {
    const created = await cli(stateDir, ['--output', 'json', 'cluster', 'create', '--name', 'hostile', ...module, '--token-serial', serial]);
    expect(created.code).toBe(0);
    expectTerminalSafe(created);
    const { Cluster } = JSON.parse(created.stdout) as { Cluster: { ClusterId: string; Hsms: Array<{ TokenLabel: string }> } };
    expect(Cluster.Hsms[0]?.TokenLabel).toBe(HOSTILE_LABEL);

    const described = await cli(stateDir, ['cluster', 'describe', Cluster.ClusterId]);
    expect(described.code).toBe(0);
    expectTerminalSafe(described);
    expect(described.stdout).toContain('\\x1b]0;pwned\\x07');

    // module.slots lists every initialised token's label as evidence, live, line by line.
    const checked = await cli(stateDir, ['cluster', 'check', Cluster.ClusterId]);
    expectTerminalSafe(checked);
    expect(checked.stdout).toMatch(/Slot \d+: "\\x1b\[31mEVIL/);
    expectTerminalSafe(await cli(stateDir, ['--output', 'json', 'cluster', 'check', Cluster.ClusterId]));
  });

  it('error messages that quote the label, or hostile argv, are escaped too', async () => {
    // TokenNotFoundException lists the tokens present, the hostile one among them.
    for (const output of ['table', 'json']) {
      const missing = await cli(stateDir, ['--output', output, 'cluster', 'create', '--name', 'ghost', ...module, '--token-serial', '0000000000000000']);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(/TokenNotFoundException/);
      expect(missing.stderr).toMatch(/EVIL/);
      expectTerminalSafe(missing);
    }
    // Commander's own messages quote what was typed (or pasted from a label).
    const unknown = await cli(stateDir, ['cluster', 'list', `--${HOSTILE_LABEL}`]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--\\x1b\[31mEVIL/);
    expectTerminalSafe(unknown);
  });
});
