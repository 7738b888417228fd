import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWorkbenchApi, type CheckResult, type ClusterCheckReport, type OperationName, type Result, type WorkbenchTransport } from '../../../shared/index';
import { useClusterChecksStore } from './cluster-checks-store';

const PASSWORD = 'kmsuser-secret-77';
const CLUSTER_ID = 'cluster-abcdefghijk';

interface Sent {
  operation: OperationName;
  request: unknown;
  callId: string;
}

const check = (CheckId: string): CheckResult => ({ CheckId, Title: CheckId, Status: 'pass', HsmId: null, Evidence: [], Remedy: null, PredictedConnectionErrorCode: null });

const passingReport = (checks: CheckResult[]): ClusterCheckReport => ({
  ClusterId: CLUSTER_ID,
  ClusterName: 'c',
  StartedAt: '2026-01-01T00:00:00Z',
  CompletedAt: '2026-01-01T00:00:01Z',
  Checks: checks,
  Summary: { Pass: checks.length, Warn: 0, Fail: 0, Skipped: 0 },
  ActiveHsmCount: 1,
  Passed: true,
});

/**
 * A unit-level transport standing in for the preload; it records what crossed the boundary. `answer` decides
 * each call's result and may push progress to the call's listeners first, as the main process does.
 */
function recordingTransport(sent: Sent[], answer: (call: Sent, emit: (progress: unknown) => void) => Promise<Result<unknown>>): WorkbenchTransport {
  const listeners = new Map<string, (progress: unknown) => void>();
  return {
    async invoke(operation, request, callId): Promise<Result<unknown>> {
      const call = { operation, request, callId };
      sent.push(call);
      return answer(call, (progress) => listeners.get(callId)?.(progress));
    },
    onProgress: (callId, listener) => {
      listeners.set(callId, listener);
      return () => listeners.delete(callId);
    },
  };
}

const cancelledByTheTest = async (): Promise<Result<unknown>> => ({ ok: false, error: { name: 'OperationCancelledException', message: 'stopped by the test' } });

describe('the kmsuser password in the renderer', () => {
  const sent: Sent[] = [];
  let pinia = createPinia();

  function useTransport(answer: (call: Sent, emit: (progress: unknown) => void) => Promise<Result<unknown>>): void {
    Object.assign(globalThis, { window: { workbench: createWorkbenchApi(recordingTransport(sent, answer)) } });
  }

  beforeEach(() => {
    sent.length = 0;
    pinia = createPinia();
    setActivePinia(pinia);
    useTransport(cancelledByTheTest);
  });

  afterEach(() => {
    Reflect.deleteProperty(globalThis, 'window');
  });

  it('goes into the CheckCluster request and nowhere in Pinia state', async () => {
    const store = useClusterChecksStore();
    await store.run(CLUSTER_ID, PASSWORD);
    expect(sent.map(({ operation, request }) => ({ operation, request }))).toEqual([{ operation: 'CheckCluster', request: { ClusterId: CLUSTER_ID, KmsuserPassword: PASSWORD } }]);
    expect(JSON.stringify(pinia.state.value)).not.toContain(PASSWORD);
    expect(store.error?.name).toBe('OperationCancelledException');
  });

  it('is nowhere in Pinia state during or after a run that reports progress and passes', async () => {
    const checks = [check('module.loads'), check('module.slots')];
    const seenDuringRun: string[] = [];
    useTransport(async (_call, emit) => {
      checks.forEach((c, index) => {
        emit({ Completed: index + 1, Total: checks.length, Check: c });
        seenDuringRun.push(JSON.stringify(pinia.state.value));
      });
      return { ok: true, value: { Report: passingReport(checks) } };
    });
    const store = useClusterChecksStore();

    expect(await store.run(CLUSTER_ID, PASSWORD)).toBe(true);

    expect(seenDuringRun).toHaveLength(2);
    expect(seenDuringRun.join('\n')).toContain('module.slots');
    for (const state of seenDuringRun) expect(state).not.toContain(PASSWORD);
    expect(JSON.stringify(pinia.state.value)).not.toContain(PASSWORD);
    expect(store.report?.Passed).toBe(true);
    expect(store.arrived.map((c) => c.CheckId)).toEqual(['module.loads', 'module.slots']);
    expect(store.loginTested).toBe(true);
    expect(store.running).toBe(false);
  });

  it('is left out of the request when the admin gave none', async () => {
    await useClusterChecksStore().run(CLUSTER_ID, undefined);
    expect(sent[0]?.request).toEqual({ ClusterId: CLUSTER_ID });
  });
});

describe('a run the store no longer tracks', () => {
  const sent: Sent[] = [];

  beforeEach(() => {
    sent.length = 0;
    setActivePinia(createPinia());
  });

  afterEach(() => {
    Reflect.deleteProperty(globalThis, 'window');
  });

  it('is cancelled by its call id, and its late progress and result do not reach the store after reset()', async () => {
    let finish: (() => void) | undefined;
    const transport = recordingTransport(sent, async (call, emit) => {
      if (call.operation !== 'CheckCluster') return { ok: true, value: { Cancelled: true } };
      emit({ Completed: 1, Total: 2, Check: check('module.loads') });
      await new Promise<void>((resolve) => (finish = resolve));
      emit({ Completed: 2, Total: 2, Check: check('module.slots') });
      return { ok: false, error: { name: 'OperationCancelledException', message: 'cancelled' } };
    });
    Object.assign(globalThis, { window: { workbench: createWorkbenchApi(transport) } });
    const store = useClusterChecksStore();

    const running = store.run(CLUSTER_ID, undefined);
    expect(store.completed).toBe(1);
    // What the wizard does when it unmounts.
    const cancelled = store.cancel();
    store.reset();
    await cancelled;
    finish?.();

    expect(await running).toBe(false);
    expect(sent[1]).toMatchObject({ operation: 'CancelOperation', request: { CallId: sent[0]?.callId } });
    expect({ running: store.running, cancelling: store.cancelling, completed: store.completed, arrived: store.arrived, error: store.error }).toEqual({
      running: false,
      cancelling: false,
      completed: 0,
      arrived: [],
      error: null,
    });
  });

  it('reports a cancel the admin asked for as cancelled, not as an error', async () => {
    let finish: (() => void) | undefined;
    const transport = recordingTransport(sent, async (call) => {
      if (call.operation !== 'CheckCluster') return { ok: true, value: { Cancelled: true } };
      await new Promise<void>((resolve) => (finish = resolve));
      return { ok: false, error: { name: 'OperationCancelledException', message: 'cancelled' } };
    });
    Object.assign(globalThis, { window: { workbench: createWorkbenchApi(transport) } });
    const store = useClusterChecksStore();

    const running = store.run(CLUSTER_ID, undefined);
    await store.cancel();
    finish?.();
    await running;

    expect(store.cancelled).toBe(true);
    expect(store.error).toBeNull();
  });
});
