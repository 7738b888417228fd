import { copyFile, mkdtemp, readFile, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorInfo, Result } from '../../shared/errors';
import { AUDIT_DIR, AUDIT_FILE, AUDIT_LOCK_FILE, type AuditAnchor } from '../../main/audit/audit-log';
import { STATE_FILE } from '../../main/state/state-store';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { ok } from '../fixtures/outcomes';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';

/**
 * The audit log against its adversaries, through the real core on real SoftHSM2 tokens: a log
 * replaced by a link, deleted, cut short or swapped for another is refused before the operation
 * runs, and the refusal changes nothing.
 */

const KMSUSER_PASSWORD = 'kmsuser-pass-1';

let hsm: SoftHsmCluster;
beforeAll(async () => {
  hsm = await createSoftHsmCluster({ tokens: 2, userPin: KMSUSER_PASSWORD, labelPrefix: 'aud' });
});
afterAll(async () => {
  await hsm?.cleanup();
});

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A core over `stateDir`: a second one on the same directory stands for the next CLI command. */
async function workbench(stateDir: string): Promise<TestWorkbench> {
  const wb = await createTestWorkbench({ stateDir });
  cleanups.push(() => wb.dispose());
  return wb;
}

async function createCluster(wb: TestWorkbench, name: string, tokenIndex: number): Promise<string> {
  const serial = hsm.tokens[tokenIndex]?.serial ?? '';
  const { Cluster } = ok(await wb.call('CreateCluster', { ClusterName: name, ModulePath: hsm.modulePath, ModuleEnvironment: hsm.env, Hsms: [{ TokenSerial: serial }] }));
  return Cluster.ClusterId;
}

function failure(result: Result<unknown>): ErrorInfo {
  if (result.ok) throw new Error('expected a refusal, got success');
  return result.error;
}

function anchorOf(stateText: string | null): AuditAnchor {
  const anchor = (JSON.parse(stateText ?? '{}') as { auditAnchor?: AuditAnchor }).auditAnchor;
  if (!anchor) throw new Error('the state file has no audit anchor');
  return anchor;
}

/** Runs a mutating operation that must be refused, and proves the refusal changed neither the state nor the log. */
async function expectRefused(wb: TestWorkbench, clusterId: string, message: RegExp): Promise<ErrorInfo> {
  const stateBefore = await wb.stateText();
  const auditBefore = await readFile(join(wb.stateDir, AUDIT_DIR, AUDIT_FILE)).catch(() => null);
  const error = failure(await wb.call('DeleteCluster', { ClusterId: clusterId }));
  expect(error.name).toBe('AuditLogException');
  expect(error.message).toMatch(message);
  expect(await wb.stateText()).toBe(stateBefore);
  expect(await readFile(join(wb.stateDir, AUDIT_DIR, AUDIT_FILE)).catch(() => null)).toEqual(auditBefore);
  return error;
}

describe('audit log integrity on real state', () => {
  it('anchors the last audit record in the state file with each change', async () => {
    const wb = await workbench(await tempDir('hsmwb-anchor-'));
    await createCluster(wb, 'anchored', 0);
    const records = await wb.auditRecords();
    // The change is made between its Started and Completed records: the anchor is the Started one.
    const started = records.find((r) => r.eventName === 'CreateCluster' && (r.additionalEventData as { auditPhase?: string }).auditPhase === 'Started');
    const text = await wb.auditText();
    const byteOffset = Buffer.byteLength(text.slice(0, text.indexOf(`"hash":"${String(started?.hash)}"`)).replace(/[^\n]*$/, ''));
    expect(anchorOf(await wb.stateText())).toEqual({ sequenceNumber: started?.sequenceNumber, hash: started?.hash, byteOffset });
  });

  it('refuses an audit log that is a symbolic link, and writes nothing through it', async () => {
    const stateDir = await tempDir('hsmwb-audit-link-');
    const wb = await workbench(stateDir);
    const clusterId = await createCluster(wb, 'linked', 0);
    const logPath = join(stateDir, AUDIT_DIR, AUDIT_FILE);
    const elsewhere = join(await tempDir('hsmwb-audit-target-'), 'audit-log.jsonl');
    await copyFile(logPath, elsewhere);
    await unlink(logPath);
    await symlink(elsewhere, logPath);
    const target = await readFile(elsewhere);

    const error = await expectRefused(wb, clusterId, /audit log .*audit-log\.jsonl is a symbolic link \(to .*\)\. .*Nothing was changed/);
    expect(error.message).toContain(elsewhere);
    expect(await readFile(elsewhere)).toEqual(target);
    // The next process too.
    await expectRefused(await workbench(stateDir), clusterId, /is a symbolic link/);
  });

  it("refuses an audit log whose lock is a symbolic link", async () => {
    const stateDir = await tempDir('hsmwb-audit-locklink-');
    const wb = await workbench(stateDir);
    const clusterId = await createCluster(wb, 'lock-linked', 0);
    const elsewhere = join(await tempDir('hsmwb-audit-target-'), 'somefile');
    await writeFile(elsewhere, 'not a lock\n');
    await symlink(elsewhere, join(stateDir, AUDIT_DIR, AUDIT_LOCK_FILE));

    await expectRefused(wb, clusterId, /audit log's lock .*audit-log\.lock is a symbolic link/);
    expect(await readFile(elsewhere, 'utf8')).toBe('not a lock\n');
  });

  it('refuses an audit directory that is a symbolic link: O_NOFOLLOW guards only the file name', async () => {
    const stateDir = await tempDir('hsmwb-audit-dirlink-');
    const wb = await workbench(stateDir);
    const clusterId = await createCluster(wb, 'dir-linked', 0);
    const elsewhere = await tempDir('hsmwb-audit-dir-target-');
    await rename(join(stateDir, AUDIT_DIR), join(elsewhere, AUDIT_DIR));
    await symlink(join(elsewhere, AUDIT_DIR), join(stateDir, AUDIT_DIR));
    const before = await readFile(join(elsewhere, AUDIT_DIR, AUDIT_FILE), 'utf8');

    await expectRefused(wb, clusterId, /audit directory .*audit is a symbolic link/);
    expect(await readFile(join(elsewhere, AUDIT_DIR, AUDIT_FILE), 'utf8')).toBe(before);
  });

  it('refuses a deleted audit log while the state file anchors records, in this process and the next', async () => {
    const stateDir = await tempDir('hsmwb-audit-missing-');
    const wb = await workbench(stateDir);
    const clusterId = await createCluster(wb, 'kept', 0);
    const anchor = anchorOf(await wb.stateText());
    await unlink(join(stateDir, AUDIT_DIR, AUDIT_FILE));

    await expectRefused(wb, clusterId, /audit-log\.jsonl is missing, but the last record known from this workbench process is sequence number 2 .*Restore the audit log from a backup/);
    const next = await workbench(stateDir);
    const error = await expectRefused(next, clusterId, /audit-log\.jsonl is missing/);
    expect(error.message).toContain(`the last record known from the state file ${join(stateDir, STATE_FILE)} is sequence number ${anchor.sequenceNumber} (hash ${anchor.hash}, at byte ${anchor.byteOffset})`);
    expect(error.message).toContain('set "auditAnchor" to null');
    // Nothing was created in the log's place.
    expect(await next.auditText()).toBe('');
    // Read-only operations that write no audit record still answer, so the admin can look around.
    expect(ok(await next.call('DescribeClusters', {})).Clusters.map((c) => c.ClusterId)).toEqual([clusterId]);
  });

  it('refuses a deleted audit log when a state file from before anchors holds clusters, and starts a new chain only on purpose', async () => {
    const stateDir = await tempDir('hsmwb-audit-legacy-');
    const wb = await workbench(stateDir);
    const clusterId = await createCluster(wb, 'legacy', 0);
    await wb.editState((s) => {
      delete s.auditAnchor;
    });
    await unlink(join(stateDir, AUDIT_DIR, AUDIT_FILE));

    const next = await workbench(stateDir);
    await expectRefused(next, clusterId, /is missing, but the state file .* holds 1 cluster\(s\), which were created with audit records/);

    // The admin's explicit "the old log is gone": a new chain starts at 1 and is anchored again.
    await next.editState((s) => {
      s.auditAnchor = null;
    });
    ok(await next.call('DeleteCluster', { ClusterId: clusterId }));
    const records = await next.auditRecords();
    expect(records.map((r) => r.sequenceNumber)).toEqual([1, 2]);
    expect(anchorOf(await next.stateText())).toMatchObject({ sequenceNumber: 1 });
  });

  it('refuses an audit log cut short below the anchor', async () => {
    const stateDir = await tempDir('hsmwb-audit-short-');
    const wb = await workbench(stateDir);
    await createCluster(wb, 'first', 0);
    const clusterId = await createCluster(wb, 'second', 1);
    expect(anchorOf(await wb.stateText()).sequenceNumber).toBe(3);
    const logPath = join(stateDir, AUDIT_DIR, AUDIT_FILE);
    const lines = (await readFile(logPath, 'utf8')).split('\n').filter((l) => l !== '');
    await writeFile(logPath, `${lines.slice(0, 2).join('\n')}\n`); // the last 2 records cut: the log still chains

    await expectRefused(wb, clusterId, /ends at sequence number 2, but the last record known from this workbench process is sequence number 4/);
    await expectRefused(await workbench(stateDir), clusterId, /ends at sequence number 2, but the last record known from the state file .* is sequence number 3 .*: 1 record\(s\) are missing from its end/);
  });

  it('refuses an audit log swapped for another chain of the same length', async () => {
    const stateDir = await tempDir('hsmwb-audit-swap-');
    const wb = await workbench(stateDir);
    const clusterId = await createCluster(wb, 'original', 0);
    const other = await workbench(await tempDir('hsmwb-audit-other-'));
    await createCluster(other, 'impostor', 1);
    await copyFile(join(other.stateDir, AUDIT_DIR, AUDIT_FILE), join(stateDir, AUDIT_DIR, AUDIT_FILE));

    const { hash } = anchorOf(await wb.stateText());
    const error = await expectRefused(await workbench(stateDir), clusterId, /has hash [0-9a-f]{64} at sequence number 1, but the last record known from the state file/);
    expect(error.message).toContain(hash);
  });

  it('refuses an audit log whose earlier lines were rewritten, even where the chain cannot see it', async () => {
    const stateDir = await tempDir('hsmwb-audit-rewritten-');
    const wb = await workbench(stateDir);
    await createCluster(wb, 'first', 0);
    const clusterId = await createCluster(wb, 'second', 1);
    const logPath = join(stateDir, AUDIT_DIR, AUDIT_FILE);
    // Whitespace inside the first record: same parsed content, same hash, but every later byte moved.
    await writeFile(logPath, (await readFile(logPath, 'utf8')).replace('{"eventVersion"', '{ "eventVersion"'));

    await expectRefused(await workbench(stateDir), clusterId, /has no record with sequence number 3 at byte \d+, but the last record known from the state file/);
  });

  it('accepts a log that grew past the anchor in other processes', async () => {
    const stateDir = await tempDir('hsmwb-audit-grown-');
    const wb = await workbench(stateDir);
    const clusterId = await createCluster(wb, 'grown', 0);
    const other = await workbench(stateDir);
    for (let i = 0; i < 3; i += 1) failure(await other.call('DeleteCluster', { ClusterId: 'cluster-aaaaaaaaaaa' }));
    const next = await workbench(stateDir);
    ok(await next.call('DeleteCluster', { ClusterId: clusterId }));
  });
});

describe('CheckCluster audit records say whether a password was given', () => {
  it('records [REDACTED] when a kmsuser password was given, and no password field when none was', async () => {
    const wb = await workbench(await tempDir('hsmwb-audit-check-'));
    const clusterId = await createCluster(wb, 'checked', 0);
    ok(await wb.call('CheckCluster', { ClusterId: clusterId }));
    // What the CLI sends when --kmsuser-password-stdin is not given.
    ok(await wb.call('CheckCluster', { ClusterId: clusterId, KmsuserPassword: undefined }));
    ok(await wb.call('CheckCluster', { ClusterId: clusterId, KmsuserPassword: KMSUSER_PASSWORD }));

    const checks = (await wb.auditRecords()).filter((r) => r.eventName === 'CheckCluster' && (r.additionalEventData as { auditPhase?: string }).auditPhase === 'Started');
    expect(checks.map((r) => r.requestParameters)).toEqual([{ ClusterId: clusterId }, { ClusterId: clusterId }, { ClusterId: clusterId, KmsuserPassword: '[REDACTED]' }]);
    expect(await wb.auditText()).not.toContain(KMSUSER_PASSWORD);
  });
});
