import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkbenchError } from '../../shared/errors';
import { openAuditLog } from '../audit/audit-log';
import { createDispatcher, type Dispatcher, type OperationHandlers } from './dispatcher';
import type { Logger } from './logger';

const SECRET = 'Sup3r-Secret-kmsuser';
const CLUSTER_ID = 'cluster-aaaaaaaaaaa';

/** Handlers are plain functions here: the dispatcher's job (validate, audit, encode errors) is what is under test. */
function handlers(overrides: Partial<OperationHandlers>): OperationHandlers {
  const unexpected = (): never => {
    throw new Error('not called in this test');
  };
  return new Proxy(overrides, { get: (target, key: string) => target[key as keyof OperationHandlers] ?? unexpected }) as OperationHandlers;
}

describe('dispatcher', () => {
  let stateDir: string;
  let logged: string[];
  let auditText: () => Promise<string>;
  let make: (h: Partial<OperationHandlers>) => Promise<Dispatcher>;

  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'hsm-workbench-dispatch-'));
    logged = [];
    const logger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (m, f) => logged.push(`${m} ${JSON.stringify(f)}`) };
    const audit = await openAuditLog({ stateDir, userAgent: 'hsm-workbench-test/0', region: 'local-1' });
    auditText = async () => readFile(audit.path, 'utf8').catch(() => '');
    make = async (h) => createDispatcher({ handlers: handlers(h), audit, logger });
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('audits a secret-bearing operation without the secret, even when it succeeds', async () => {
    let received: string | undefined;
    const d = await make({
      CheckCluster: async (request) => {
        received = request.KmsuserPassword;
        throw new WorkbenchError('CloudHsmClusterNotFoundException', 'no such cluster');
      },
    });
    const result = await d.dispatch('CheckCluster', { ClusterId: CLUSTER_ID, KmsuserPassword: SECRET }, { callId: '1' });
    expect(received).toBe(SECRET);
    expect(result).toMatchObject({ ok: false, error: { name: 'CloudHsmClusterNotFoundException' } });
    const text = await auditText();
    expect(text).toContain('"KmsuserPassword":"[REDACTED]"');
    expect(text).not.toContain(SECRET);
  });

  it('refuses an invalid request before any handler runs, and audits field names but not values', async () => {
    let called = false;
    const d = await make({ CheckCluster: async () => ((called = true), Promise.reject(new Error('unreachable'))) });
    const result = await d.dispatch('CheckCluster', { ClusterId: 'bogus', KmsuserPassword: 'short' }, { callId: '1' });
    expect(called).toBe(false);
    expect(result).toMatchObject({ ok: false, error: { name: 'ValidationException', details: { issues: expect.any(Array) } } });
    const text = await auditText();
    expect(text).toContain('"fieldNames":["ClusterId","KmsuserPassword"]');
    expect(text).not.toContain('short');
    expect(JSON.stringify(result)).not.toContain('short"');
  });

  it('does not echo unexpected errors (they may carry anything) and logs them instead', async () => {
    const d = await make({ DescribeClusters: async () => Promise.reject(new Error(`driver said ${SECRET}`)) });
    const result = await d.dispatch('DescribeClusters', {}, { callId: '1' });
    expect(result).toMatchObject({ ok: false, error: { name: 'KMSInternalException' } });
    expect(JSON.stringify(result)).not.toContain(SECRET);
    expect(await auditText()).not.toContain(SECRET);
    expect(logged.join('\n')).toContain('DescribeClusters failed unexpectedly');
  });

  it('warns when an operation raises an error its contract does not declare', async () => {
    const warned: string[] = [];
    const audit = await openAuditLog({ stateDir, userAgent: 'hsm-workbench-test/0', region: 'local-1' });
    const logger: Logger = { debug: () => undefined, info: () => undefined, warn: (m) => warned.push(m), error: () => undefined };
    const d = createDispatcher({
      handlers: handlers({ DescribeClusters: async () => Promise.reject(new WorkbenchError('TokenNotFoundException', 'no token')) }),
      audit,
      logger,
    });
    expect(await d.dispatch('DescribeClusters', {}, { callId: '1' })).toMatchObject({ ok: false, error: { name: 'TokenNotFoundException' } });
    expect(warned).toEqual(['DescribeClusters raised TokenNotFoundException, which its contract does not declare']);
  });

  it('refuses a response that does not match the contract', async () => {
    const d = await make({ DescribeClusters: async () => ({ Clusters: [{ ClusterId: 'oops' }] }) as never });
    expect(await d.dispatch('DescribeClusters', {}, { callId: '1' })).toMatchObject({ ok: false, error: { name: 'KMSInternalException' } });
  });

  it('audits mutations and refusals, not successful reads', async () => {
    const d = await make({ DescribeClusters: async () => ({ Clusters: [] }) });
    await d.dispatch('DescribeClusters', {}, { callId: '1' });
    expect(await auditText()).toBe('');
    await d.dispatch('NoSuchOperation', {}, { callId: '2' });
    const records = (await auditText()).trim().split('\n').map((l) => JSON.parse(l) as { eventName: string; errorCode: string });
    expect(records.map((r) => [r.eventName, r.errorCode])).toEqual([['UnknownOperation', 'UnknownOperationException']]);
  });

  it('audits a call a front door refused before dispatching it', async () => {
    const d = await make({});
    await d.recordRefusal('DeleteCluster', { name: 'UntrustedSenderException', message: 'not our window' });
    const record = JSON.parse((await auditText()).trim()) as Record<string, unknown>;
    expect(record).toMatchObject({ eventName: 'DeleteCluster', readOnly: false, errorCode: 'UntrustedSenderException', requestParameters: null });
  });

  it('writes the Started record before a change is made, and the outcome after', async () => {
    let seenByHandler = '';
    const d = await make({
      DeleteCluster: async () => {
        seenByHandler = await auditText();
        throw new WorkbenchError('CloudHsmClusterNotFoundException', 'no such cluster');
      },
    });
    await d.dispatch('DeleteCluster', { ClusterId: CLUSTER_ID }, { callId: '1' });
    expect(seenByHandler).toContain('"auditPhase":"Started"');
    const records = (await auditText()).trim().split('\n').map((l) => JSON.parse(l) as { requestID: string; additionalEventData: { auditPhase: string } });
    expect(records.map((r) => r.additionalEventData.auditPhase)).toEqual(['Started', 'Failed']);
    expect(records[0]?.requestID).toBe(records[1]?.requestID);
  });

  it('journals each step of a call between its Started and outcome records, under the same requestID', async () => {
    const d = await make({
      DeleteCluster: async (_request, context) => {
        await context.journal({ name: 'ForgetMember', hsmId: 'hsm-aaaaaaaaaaa', details: { tokenSerial: '0011' } });
        await context.journal({ name: 'ForgetMember', hsmId: 'hsm-bbbbbbbbbbb' });
        throw new WorkbenchError('CloudHsmClusterNotFoundException', 'no such cluster');
      },
    });
    await d.dispatch('DeleteCluster', { ClusterId: CLUSTER_ID }, { callId: '1' });
    type Rec = { requestID: string; eventName: string; additionalEventData: { auditPhase: string; step?: { hsmId: string } } };
    const records = (await auditText()).trim().split('\n').map((l) => JSON.parse(l) as Rec);
    expect(records.map((r) => [r.additionalEventData.auditPhase, r.additionalEventData.step?.hsmId])).toEqual([
      ['Started', undefined],
      ['Step', 'hsm-aaaaaaaaaaa'],
      ['Step', 'hsm-bbbbbbbbbbb'],
      ['Failed', undefined],
    ]);
    expect(new Set(records.map((r) => r.requestID)).size).toBe(1);
    expect(records.every((r) => r.eventName === 'DeleteCluster')).toBe(true);
  });

  it('stops a step whose journal record cannot be written', async () => {
    let stepped = false;
    const d = await make({
      DeleteCluster: async (_request, context) => {
        // A directory where the log was: even root cannot append to it.
        const log = join(stateDir, 'audit', 'audit-log.jsonl');
        await rm(log);
        await mkdir(log);
        await context.journal({ name: 'ForgetMember' });
        stepped = true;
        return { Cluster: undefined as never };
      },
    });
    const result = await d.dispatch('DeleteCluster', { ClusterId: CLUSTER_ID }, { callId: '1' });
    expect(stepped).toBe(false);
    expect(result).toMatchObject({ ok: false, error: { name: 'AuditLogException' } });
  });

  it('records what the workbench does on its own as an AwsServiceEvent, apart from any call', async () => {
    const d = await make({});
    await d.recordServiceEvent({ eventName: 'DeleteKey', additionalEventData: { customKeyStoreId: 'cks-1234567890abcdef0' } });
    const [record] = (await auditText()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(record).toMatchObject({
      eventName: 'DeleteKey',
      eventType: 'AwsServiceEvent',
      sourceIPAddress: 'hsm-workbench internal',
      userIdentity: { invokedBy: 'hsm-workbench' },
      requestParameters: null,
      responseElements: null,
      readOnly: false,
      additionalEventData: { customKeyStoreId: 'cks-1234567890abcdef0' },
    });
  });

  it('refuses a second call under a call id that is still running', async () => {
    let release: () => void = () => undefined;
    const d = await make({ CheckCluster: () => new Promise((resolve) => (release = () => resolve({ Report: undefined as never }))) });
    const first = d.dispatch('CheckCluster', { ClusterId: CLUSTER_ID }, { callId: 'same' });
    await new Promise((r) => setTimeout(r, 50));
    expect(await d.dispatch('CheckCluster', { ClusterId: CLUSTER_ID }, { callId: 'same' })).toMatchObject({ ok: false, error: { name: 'ValidationException' } });
    release();
    await first;
  });

  it('cancels a running call by its id', async () => {
    const d = await make({
      CheckCluster: (_request, context) =>
        new Promise((_resolve, reject) => {
          context.signal.addEventListener('abort', () => reject(new WorkbenchError('OperationCancelledException', 'cancelled')));
        }),
    });
    const running = d.dispatch('CheckCluster', { ClusterId: CLUSTER_ID }, { callId: 'long' });
    expect(d.cancel('nope')).toBe(false);
    expect(d.cancel('long')).toBe(true);
    expect(await running).toMatchObject({ ok: false, error: { name: 'OperationCancelledException' } });
  });
});
