import { appendFile, mkdir, mkdtemp, open as openFile, readFile, rm, stat, truncate, writeFile, type FileHandle } from 'node:fs/promises';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WorkbenchError } from '../../shared/errors';
import { AUDIT_LOCK_FILE, openAuditLog, readAuditLog, readAuditRecords, verifyChain, type AuditLog } from '../../main/audit/audit-log';
import { computeRecordHash, GENESIS_HASH } from '../../main/audit/record-hash';
import { rejection } from '../fixtures/outcomes';
import { arriveAndWait } from '../fixtures/start-barrier';
import { runWriter } from './state-writer-process';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hsmwb-audit-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function open(): Promise<AuditLog> {
  return openAuditLog({ stateDir: dir, userAgent: 'hsm-workbench-gui/0.1.0', region: 'local-1' });
}

describe('audit log', () => {
  it('writes CloudTrail-shaped records chained from a genesis hash', async () => {
    const log = await open();
    const first = await log.append({ eventName: 'CreateCluster', readOnly: false, requestParameters: { ClusterName: 'a' }, responseElements: { Cluster: { ClusterId: 'cluster-x' } }, requestID: 'req-1' });
    const second = await log.append({ eventName: 'DeleteCluster', readOnly: false, requestParameters: { ClusterId: 'cluster-nope' }, errorCode: 'CloudHsmClusterNotFoundException', errorMessage: 'There is no cluster cluster-nope.' });

    expect(log.path).toBe(join(dir, 'audit', 'audit-log.jsonl'));
    expect((await stat(log.path)).mode & 0o777).toBe(0o600);
    expect(first).toMatchObject({
      eventVersion: '1.08',
      eventName: 'CreateCluster',
      eventSource: 'hsm-workbench.local',
      eventType: 'AwsApiCall',
      awsRegion: 'local-1',
      sourceIPAddress: 'localhost',
      userAgent: 'hsm-workbench-gui/0.1.0',
      userIdentity: { type: 'LocalUser', userName: userInfo().username, uid: userInfo().uid, hostname: hostname() },
      requestParameters: { ClusterName: 'a' },
      responseElements: { Cluster: { ClusterId: 'cluster-x' } },
      readOnly: false,
      requestID: 'req-1',
      sequenceNumber: 1,
      previousHash: GENESIS_HASH,
    });
    expect(first.eventID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Date(first.eventTime).toISOString()).toBe(first.eventTime);
    expect(first.hash).toBe(computeRecordHash(first as unknown as Record<string, unknown>));
    expect(second).toMatchObject({ sequenceNumber: 2, previousHash: first.hash, responseElements: null, errorCode: 'CloudHsmClusterNotFoundException' });
    expect(second.requestID).toMatch(/^[0-9a-f-]{36}$/);

    expect(await readAuditRecords(log.path)).toEqual([first, second]);
    expect(verifyChain([first, second])).toMatchObject({ valid: true, count: 2 });
  });

  it('syncs a record unless it is a step, and anchors only synced records: a step is made durable by the next record', async () => {
    const log = await open();
    const started = await log.append({ eventName: 'CreateKey', readOnly: false, requestParameters: {}, additionalEventData: { auditPhase: 'Started' } });
    const probe = await openFile(log.path, 'r');
    const fileHandle = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    const sync = vi.spyOn(fileHandle, 'sync');
    try {
      const step = await log.append({ eventName: 'CreateKey', readOnly: false, requestParameters: null, additionalEventData: { auditPhase: 'Step' }, durable: false });
      expect(sync).not.toHaveBeenCalled();
      // A state change now must not anchor the step: a power cut could take it, and the log would read as shortened.
      expect(log.anchor()?.sequenceNumber).toBe(started.sequenceNumber);
      const completed = await log.append({ eventName: 'CreateKey', readOnly: false, requestParameters: {}, additionalEventData: { auditPhase: 'Completed' } });
      expect(sync).toHaveBeenCalledTimes(1);
      expect(log.anchor()?.sequenceNumber).toBe(completed.sequenceNumber);
      expect((await readAuditRecords(log.path)).map((r) => r.eventID)).toEqual([started, step, completed].map((r) => r.eventID));
      expect(verifyChain(await readAuditRecords(log.path))).toMatchObject({ valid: true });
    } finally {
      sync.mockRestore();
    }
  });

  it('keeps one unbroken chain when two processes and this one append at once', async () => {
    // All three start once all three are there: a child that loads late on a busy machine would otherwise never contend.
    const barrier = join(dir, 'start-barrier');
    await mkdir(barrier);
    const together = { START_BARRIER: barrier, START_PARTIES: '3' };
    const log = await open();
    const [a, b] = await Promise.all([
      runWriter(['audit', dir, '120', 'a'], together),
      runWriter(['audit', dir, '120', 'b'], together),
      (async () => {
        await arriveAndWait(barrier, 3, 'test');
        for (let i = 0; i < 20; i += 1) await log.append({ eventName: 'DescribeClusters', readOnly: true, requestParameters: { i } });
      })(),
    ]);
    expect(a?.output, a?.stderr).toEqual({ ok: true, result: { written: 120 } });
    expect(b?.output, b?.stderr).toEqual({ ok: true, result: { written: 120 } });

    const { records, damagedLines } = await readAuditLog(log.path);
    expect(damagedLines).toEqual([]);
    expect(records.map((r) => r.sequenceNumber)).toEqual(Array.from({ length: 260 }, (_, i) => i + 1));
    expect(verifyChain(records)).toMatchObject({ valid: true, count: 260 });
    // The two processes really interleaved (otherwise this proves little about the lock).
    const writers = records.flatMap((r) => {
      const name = (r.requestParameters as { ClusterName?: string } | null)?.ClusterName;
      return name ? [name.slice(0, 1)] : [];
    });
    const switches = writers.filter((w, i) => i > 0 && w !== writers[i - 1]).length;
    expect(switches).toBeGreaterThanOrEqual(2);
  });

  it('survives a torn last line: the next record starts a new line and carries the chain on', async () => {
    const log = await open();
    await log.append({ eventName: 'CreateCluster', readOnly: false, requestParameters: { n: 1 } });
    const second = await log.append({ eventName: 'CreateCluster', readOnly: false, requestParameters: { n: 2 } });
    const torn = '{"eventVersion":"1.08","eventTime":"2026-';
    await appendFile(log.path, torn); // a process killed mid-append
    const before = await readFile(log.path);

    const third = await log.append({ eventName: 'CreateCluster', readOnly: false, requestParameters: { n: 3 } });
    const fourth = await log.append({ eventName: 'CreateCluster', readOnly: false, requestParameters: { n: 4 } });

    const after = await readFile(log.path);
    expect(after.subarray(0, before.length)).toEqual(before); // earlier bytes never rewritten
    expect(third).toMatchObject({ sequenceNumber: 3, previousHash: second.hash });
    expect(third.additionalEventData?.auditLogRecovery).toMatchObject({ damagedBytes: Buffer.byteLength(torn), resumedAfterSequenceNumber: 2 });
    expect(fourth).toMatchObject({ sequenceNumber: 4, previousHash: third.hash });
    expect(fourth.additionalEventData).toBeUndefined();

    const { records, damagedLines } = await readAuditLog(log.path);
    expect(damagedLines).toEqual([{ lineNumber: 3, bytes: Buffer.byteLength(torn) }]);
    expect(verifyChain(records)).toMatchObject({ valid: true, count: 4 });
  });

  it('survives a torn first line', async () => {
    const log = await open();
    await writeFile(log.path, '{"eventVer');
    const first = await log.append({ eventName: 'CreateCluster', readOnly: false, requestParameters: {} });
    expect(first).toMatchObject({ sequenceNumber: 1, previousHash: GENESIS_HASH, additionalEventData: { auditLogRecovery: { resumedAfterSequenceNumber: 0 } } });
  });

  it('keeps a last record that lost only its newline: it was written whole', async () => {
    const log = await open();
    await log.append({ eventName: 'CreateCluster', readOnly: false, requestParameters: { n: 1 } });
    const second = await log.append({ eventName: 'CreateCluster', readOnly: false, requestParameters: { n: 2 } });
    await truncate(log.path, (await stat(log.path)).size - 1);

    const third = await log.append({ eventName: 'CreateCluster', readOnly: false, requestParameters: { n: 3 } });
    expect(third).toMatchObject({ sequenceNumber: 3, previousHash: second.hash });
    expect(third.additionalEventData).toBeUndefined();
    const { records, damagedLines } = await readAuditLog(log.path);
    expect(damagedLines).toEqual([]);
    expect(verifyChain(records)).toMatchObject({ valid: true, count: 3 });
  });

  describe('refuses a complete last line that breaks the chain as tampering, and writes nothing', () => {
    async function expectTampering(edit: (lines: string[]) => string[], problem: RegExp): Promise<void> {
      const log = await open();
      for (let n = 1; n <= 3; n += 1) await log.append({ eventName: 'CreateCluster', readOnly: false, requestParameters: { n } });
      const lines = (await readFile(log.path, 'utf8')).split('\n').filter((l) => l !== '');
      await writeFile(log.path, `${edit(lines).join('\n')}\n`);
      const before = await readFile(log.path);

      const error = await rejection(log.append({ eventName: 'DeleteCluster', readOnly: false, requestParameters: {} }));
      expect(error.name).toBe('AuditLogException');
      expect(error.message).toMatch(new RegExp(`The audit log ${log.path} ends with a complete line \\(at byte \\d+\\) that ${problem.source}`));
      expect(error.message).toMatch(/so the log was edited\. Nothing was written\. .*restore the log from a backup/);
      expect(await readFile(log.path)).toEqual(before);
    }

    it('a line that is not a record, in place of the last record (a torn append would have left no newline)', async () => {
      await expectTampering((lines) => [...lines.slice(0, 2), 'garbage'], /is not an audit record/);
    });

    it('a line of valid JSON that is not a record', async () => {
      await expectTampering((lines) => [...lines, '{"note":"valid JSON, not a record"}'], /is not an audit record/);
    });

    it('a last record edited after it was written', async () => {
      await expectTampering((lines) => [...lines.slice(0, 2), (lines[2] ?? '').replace('"n":3', '"n":4')], /has a hash that does not match its content/);
    });

    it('a last record that does not follow the one before it (a record removed before it)', async () => {
      await expectTampering((lines) => [lines[0] ?? '', lines[2] ?? ''], /has sequence number 3 where 2 was expected/);
    });

    it('a last record after a line that is not a record, without saying it stepped over it', async () => {
      await expectTampering((lines) => [lines[0] ?? '', lines[1] ?? '', 'garbage', lines[2] ?? ''], /follows a line that is not a record/);
    });
  });

  it('chains across a long record that spans several read chunks', async () => {
    const log = await open();
    const big = await log.append({ eventName: 'ListSlots', readOnly: true, requestParameters: { blob: 'x'.repeat(200_000) } });
    const next = await log.append({ eventName: 'ListSlots', readOnly: true, requestParameters: {} });
    expect(next).toMatchObject({ sequenceNumber: 2, previousHash: big.hash });
  });

  it('never writes a secret, from this process or another', async () => {
    const secrets = ['kmsuser-Pa55word!', 'so-pin-8642', 'declared-secret-label', 'nested-passphrase', 'key-material-hex', 'fixture-Secret-77'];
    const log = await open();
    const request = {
      ClusterName: 'visible-name',
      KmsuserPassword: secrets[0],
      Hsms: [{ TokenLabel: 'visible-token', SoPin: secrets[1] }],
      Label: secrets[2],
      Options: { deep: { Passphrase: secrets[3] } },
    };
    const record = await log.append({
      eventName: 'CheckCluster',
      readOnly: true,
      requestParameters: request,
      responseElements: { KeyMaterial: secrets[4] },
      additionalEventData: { userPin: secrets[1] },
      secretFields: ['Label'],
    });
    const run = await runWriter(['audit', dir, '2', 'fixture'], { TEST_SECRET: secrets[5] ?? '' });
    expect(run.output.ok).toBe(true);

    const raw = await readFile(log.path, 'utf8');
    for (const secret of secrets) expect(raw).not.toContain(secret);
    expect(raw).toContain('visible-name');
    expect(raw).toContain('visible-token');
    expect(record.requestParameters).toMatchObject({ KmsuserPassword: '[REDACTED]', Hsms: [{ SoPin: '[REDACTED]' }], Label: '[REDACTED]' });
    expect(request.KmsuserPassword).toBe(secrets[0]); // the caller's object is not changed
  });

  it('names the holder when another process keeps the audit lock', async () => {
    const log = await openAuditLog({ stateDir: dir, userAgent: 'hsm-workbench-cli/0.1.0', region: 'local-1', lockWaitMs: 100 });
    // This process is alive, so its pid in the lock file stands for a live holder.
    await writeFile(join(dir, 'audit', AUDIT_LOCK_FILE), JSON.stringify({ pid: process.pid, hostname: hostname(), program: 'gui', startedAt: new Date().toISOString(), nonce: 'n' }));
    const error = await log.append({ eventName: 'CreateCluster', readOnly: false, requestParameters: {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkbenchError);
    expect((error as WorkbenchError).name).toBe('AuditLogException');
    expect((error as WorkbenchError).message).toContain(`hsm-workbench gui, pid ${process.pid}`);
  });
});
