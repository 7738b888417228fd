import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWorkbenchApi, type CallOptions, type ErrorInfo, type OperationName, type Result } from '../../../shared/index';
import { useLongRun } from './use-long-run';

interface Progress {
  step: number;
}

/** A run the test drives: it pushes progress to the run's listener and answers when told. */
function drivenRun(): {
  call: (options: Required<CallOptions<Progress>>) => Promise<Result<string>>;
  push: (step: number) => void;
  answer: (result: Result<string>) => void;
  callIds: string[];
} {
  let listener: ((progress: Progress) => void) | undefined;
  let finish: ((result: Result<string>) => void) | undefined;
  const callIds: string[] = [];
  return {
    callIds,
    call: (options) => {
      callIds.push(options.callId);
      listener = options.onProgress;
      return new Promise((resolve) => (finish = resolve));
    },
    push: (step) => listener?.({ step }),
    answer: (result) => finish?.(result),
  };
}

const cancelledInMain: Result<string> = { ok: false, error: { name: 'OperationCancelledException', message: 'cancelled' } };

describe('useLongRun', () => {
  const sent: Array<{ operation: OperationName; request: unknown }> = [];
  let cancelAnswer: Result<unknown> = { ok: true, value: { Cancelled: true } };

  beforeEach(() => {
    sent.length = 0;
    cancelAnswer = { ok: true, value: { Cancelled: true } };
    const transport = {
      invoke: async (operation: OperationName, request: unknown): Promise<Result<unknown>> => {
        sent.push({ operation, request });
        return cancelAnswer;
      },
      onProgress: () => () => undefined,
    };
    Object.assign(globalThis, { window: { workbench: createWorkbenchApi(transport) } });
  });

  afterEach(() => {
    Reflect.deleteProperty(globalThis, 'window');
  });

  it('runs under a fresh call id with the prefix, passes progress on, and hands the value over as running ends', async () => {
    const longRun = useLongRun<Progress>('scan');
    const driven = drivenRun();
    const seen: number[] = [];
    let runningWhenValueArrived: boolean | undefined;
    const started = longRun.start(driven.call, {
      onProgress: (p) => seen.push(p.step),
      onValue: () => (runningWhenValueArrived = longRun.running.value),
    });
    expect(longRun.running.value).toBe(true);
    driven.push(1);
    driven.push(2);
    driven.answer({ ok: true, value: 'done' });

    expect(await started).toBe(true);
    expect(driven.callIds[0]).toMatch(/^scan-/);
    expect(seen).toEqual([1, 2]);
    // Same tick: no render shows the run finished but its value missing.
    expect(runningWhenValueArrived).toBe(true);
    expect({ running: longRun.running.value, error: longRun.error.value, cancelled: longRun.cancelled.value }).toEqual({ running: false, error: null, cancelled: false });
  });

  it('keeps a refusal as the error', async () => {
    const longRun = useLongRun<Progress>('scan');
    const driven = drivenRun();
    const refusal: ErrorInfo = { name: 'CloudHsmClusterNotFoundException', message: 'gone' };
    const started = longRun.start(driven.call, { onProgress: () => undefined, onValue: () => undefined });
    driven.answer({ ok: false, error: refusal });
    expect(await started).toBe(false);
    expect(longRun.error.value).toEqual(refusal);
  });

  it('cancels by the run’s call id and reports the admin’s cancel as cancelled, not as an error', async () => {
    const longRun = useLongRun<Progress>('scan');
    const driven = drivenRun();
    const started = longRun.start(driven.call, { onProgress: () => undefined, onValue: () => undefined });
    await longRun.cancel();
    expect(longRun.cancelling.value).toBe(true);
    driven.answer(cancelledInMain);

    expect(await started).toBe(false);
    expect(sent).toEqual([{ operation: 'CancelOperation', request: { CallId: driven.callIds[0] } }]);
    expect({ cancelled: longRun.cancelled.value, cancelling: longRun.cancelling.value, error: longRun.error.value }).toEqual({ cancelled: true, cancelling: false, error: null });
  });

  it('reports a cancel nobody here asked for as an error', async () => {
    const longRun = useLongRun<Progress>('scan');
    const driven = drivenRun();
    const started = longRun.start(driven.call, { onProgress: () => undefined, onValue: () => undefined });
    driven.answer(cancelledInMain);
    await started;
    expect(longRun.cancelled.value).toBe(false);
    expect(longRun.error.value?.name).toBe('OperationCancelledException');
  });

  it('shows a refused cancel as the error of the run it was for', async () => {
    cancelAnswer = { ok: false, error: { name: 'ValidationException', message: 'bad call id' } };
    const longRun = useLongRun<Progress>('scan');
    const driven = drivenRun();
    void longRun.start(driven.call, { onProgress: () => undefined, onValue: () => undefined });
    await longRun.cancel();
    expect(longRun.error.value?.message).toBe('bad call id');
  });

  it('does nothing on cancel when no run is going', async () => {
    await useLongRun<Progress>('scan').cancel();
    expect(sent).toEqual([]);
  });

  it('ignores the late progress and value of a run it no longer tracks, after reset() or a newer start', async () => {
    const longRun = useLongRun<Progress>('scan');
    const first = drivenRun();
    const second = drivenRun();
    const seen: string[] = [];
    const handlers = (label: string): { onProgress: (p: Progress) => void; onValue: (v: string) => void } => ({
      onProgress: (p) => seen.push(`${label} progress ${p.step}`),
      onValue: (v) => seen.push(`${label} value ${v}`),
    });

    const reset = longRun.start(first.call, handlers('first'));
    longRun.reset();
    first.push(1);
    first.answer({ ok: false, error: { name: 'KMSInternalException', message: 'late' } });
    expect(await reset).toBe(false);
    expect({ running: longRun.running.value, error: longRun.error.value }).toEqual({ running: false, error: null });

    const superseded = longRun.start(first.call, handlers('again'));
    const newer = longRun.start(second.call, handlers('second'));
    first.push(2);
    first.answer({ ok: true, value: 'stale' });
    expect(await superseded).toBe(false);
    expect(longRun.running.value).toBe(true);
    second.answer({ ok: true, value: 'fresh' });
    expect(await newer).toBe(true);

    expect(seen).toEqual(['second value fresh']);
    expect(new Set([...first.callIds, ...second.callIds]).size).toBe(3);
  });
});
