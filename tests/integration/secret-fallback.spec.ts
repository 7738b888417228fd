import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWorkbenchCore } from '../../main/core/workbench-core';
import type { ProtectionInfo } from '../../main/secrets/secret-vault';
import { secretsDirOf } from '../../main/secrets/secrets-dir';
import { expectNoSecretOnDisk, findSecretsInText, findSecretsOnDisk } from '../fixtures/secret-scan';
import { HOST_CHILD_ENTRY } from '../fixtures/workbench';

const PASSWORD = 'ci-box-Pa55word';
const CONTEXT = 'kmsuser-password:cks-00000000000000002';

let stateDir: string;
const savedBus = process.env.DBUS_SESSION_BUS_ADDRESS;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'hsmwb-fallback-'));
  // A CI box: no session bus, so no Secret Service to ask.
  delete process.env.DBUS_SESSION_BUS_ADDRESS;
});
afterEach(async () => {
  if (savedBus !== undefined) process.env.DBUS_SESSION_BUS_ADDRESS = savedBus;
  await rm(stateDir, { recursive: true, force: true });
});

describe('secrets at rest on a headless machine with no keyring daemon', () => {
  it('the core opens its vault on first use with the key-file fallback, says so once, and no password is on disk', async () => {
    const told: ProtectionInfo[] = [];
    const core = await createWorkbenchCore({ stateDir, program: 'test', hostChildEntry: HOST_CHILD_ENTRY, onSecretsUnprotected: (p) => told.push(p) });
    try {
      // Nothing is made before a secret is needed: a command without secrets never probes the keyring.
      await expect(readFile(join(secretsDirOf(stateDir), 'vault.json'))).rejects.toThrow(/ENOENT/);
      const started = Date.now();
      const vault = await core.secrets();
      expect(Date.now() - started).toBeLessThan(3000);
      const sealed = await vault.seal(PASSWORD, CONTEXT);
      await writeFile(join(stateDir, 'sealed.json'), JSON.stringify(sealed));
      expect(await (await core.secrets()).open(sealed, CONTEXT)).toBe(PASSWORD);
      expect(told).toHaveLength(1);
      expect(told[0]).toMatchObject({ kind: 'key-file', protected: false });
      expect(told[0]?.description).toMatch(/No OS keyring answered.*mode 0600.*anyone who can read your state directory as you can open them/);
      await expectNoSecretOnDisk(stateDir, [PASSWORD]);
    } finally {
      await core.dispose();
    }
  });

  it('DescribeSecretStore tells the GUI the fallback is in force and that it is not protected, and makes nothing before a secret is stored', async () => {
    const core = await createWorkbenchCore({ stateDir, program: 'test', hostChildEntry: HOST_CHILD_ENTRY });
    try {
      const before = await core.dispatch('DescribeSecretStore', {}, { callId: 'secret-store-1' });
      expect(before).toMatchObject({ ok: true, value: { Protector: null, Protected: null } });
      await expect(readFile(join(secretsDirOf(stateDir), 'vault.json'))).rejects.toThrow(/ENOENT/);
      await core.secrets();
      const after = await core.dispatch('DescribeSecretStore', {}, { callId: 'secret-store-2' });
      expect(after).toMatchObject({ ok: true, value: { Protector: 'key-file', Protected: false } });
      expect(after.ok && (after.value as { Description: string }).Description).toMatch(/No OS keyring answered/);
    } finally {
      await core.dispose();
    }
  });
});

describe('expectNoSecretOnDisk', () => {
  it('finds a secret in clear, hex and base64 (also inside a longer base64 text, at any alignment) in nested and hidden files', async () => {
    await mkdir(join(stateDir, 'logs', '.old'), { recursive: true });
    await writeFile(join(stateDir, 'clear.txt'), `pin=${PASSWORD}`);
    await writeFile(join(stateDir, 'logs', 'hex.log'), Buffer.from(PASSWORD).toString('hex').toUpperCase());
    for (const prefix of ['', 'x', 'xy']) {
      await writeFile(join(stateDir, 'logs', '.old', `b64-${prefix.length}.json`), JSON.stringify({ blob: Buffer.from(`${prefix}${PASSWORD}trailer`).toString('base64') }));
    }
    const hits = await findSecretsOnDisk(stateDir, [PASSWORD]);
    expect(hits.map((hit) => `${hit.where.slice(stateDir.length)} ${hit.form}`).sort()).toEqual([
      '/clear.txt clear',
      '/logs/.old/b64-0.json base64',
      '/logs/.old/b64-1.json base64',
      '/logs/.old/b64-2.json base64',
      '/logs/hex.log hex',
    ]);
    const error = await expectNoSecretOnDisk(stateDir, [PASSWORD]).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(/secret #0 in clear in .*clear\.txt/);
    expect(error?.message).not.toContain(PASSWORD);
  });

  it('finds URL-safe base64, does not scan through a symbolic link, and refuses an empty list or secret', async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), 'hsmwb-scan-link-'));
    try {
      const secret = 'a?>b?>c?>d';
      await writeFile(join(elsewhere, 'leak'), secret);
      await symlink(join(elsewhere, 'leak'), join(stateDir, 'link'));
      expect(await findSecretsOnDisk(stateDir, [secret])).toEqual([]);
      expect(findSecretsInText(Buffer.from(secret).toString('base64url'), [secret]).map((hit) => hit.form)).toEqual(['base64']);
      await expect(expectNoSecretOnDisk(stateDir, [])).rejects.toThrow(/no secrets given/);
      await expect(expectNoSecretOnDisk(stateDir, [''])).rejects.toThrow(/empty secret/);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });
});
