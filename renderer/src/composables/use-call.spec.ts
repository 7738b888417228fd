import { describe, expect, it } from 'vitest';
import type { ErrorInfo, Result } from '../../../shared/index';
import { useCall } from './use-call';

const refusal: ErrorInfo = { name: 'ValidationException', message: 'no' };

/** A call the test answers by hand, one pending answer per run. */
function handAnswered<T>(): { call: (label: string) => Promise<Result<T>>; answer: (label: string, result: Result<T>) => void; asked: string[] } {
  const pending = new Map<string, (result: Result<T>) => void>();
  const asked: string[] = [];
  return {
    asked,
    call: (label) => {
      asked.push(label);
      return new Promise((resolve) => pending.set(label, resolve));
    },
    answer: (label, result) => pending.get(label)?.(result),
  };
}

describe('useCall', () => {
  it('is loading until the call answers, then hands back the value with no error', async () => {
    const calls = handAnswered<number>();
    const { loading, error, run } = useCall(calls.call);
    const running = run('a');
    expect(calls.asked).toEqual(['a']);
    expect(loading.value).toBe(true);
    calls.answer('a', { ok: true, value: 7 });
    expect(await running).toBe(7);
    expect({ loading: loading.value, error: error.value }).toEqual({ loading: false, error: null });
  });

  it('keeps a refusal as the error and resolves undefined', async () => {
    const { loading, error, run } = useCall(async (): Promise<Result<number>> => ({ ok: false, error: refusal }));
    expect(await run()).toBeUndefined();
    expect({ loading: loading.value, error: error.value }).toEqual({ loading: false, error: refusal });
  });

  it('clears the last refusal as a new attempt starts, so a form shows a repeated refusal afresh', async () => {
    const calls = handAnswered<number>();
    const { error, run } = useCall(calls.call);
    const first = run('a');
    calls.answer('a', { ok: false, error: refusal });
    await first;
    void run('b');
    expect(error.value).toBeNull();
  });

  it('with clearError "settled", keeps the refusal on screen until the next call answers', async () => {
    const calls = handAnswered<number>();
    const { error, run } = useCall(calls.call, { clearError: 'settled' });
    const first = run('a');
    calls.answer('a', { ok: false, error: refusal });
    await first;
    const second = run('b');
    expect(error.value).toEqual(refusal);
    calls.answer('b', { ok: true, value: 2 });
    await second;
    expect(error.value).toBeNull();
  });

  it('lets only the latest call’s answer count: an earlier one answering late changes nothing', async () => {
    const calls = handAnswered<string>();
    const { loading, error, run } = useCall(calls.call);
    const older = run('older');
    const newer = run('newer');
    calls.answer('newer', { ok: true, value: 'fresh' });
    expect(await newer).toBe('fresh');
    calls.answer('older', { ok: false, error: refusal });
    expect(await older).toBe('fresh');
    expect({ loading: loading.value, error: error.value }).toEqual({ loading: false, error: null });
  });

  it('resolves an overtaken call as the newer one does, once that one answers: its caller still gets the fresh outcome', async () => {
    const calls = handAnswered<string>();
    const { loading, run } = useCall(calls.call);
    const older = run('older');
    const newer = run('newer');
    let olderOutcome: string | undefined = 'pending';
    void older.then((value) => (olderOutcome = value));
    calls.answer('older', { ok: true, value: 'stale' });
    await Promise.resolve();
    await Promise.resolve();
    expect(olderOutcome).toBe('pending');
    expect(loading.value).toBe(true);
    calls.answer('newer', { ok: true, value: 'fresh' });
    expect(await older).toBe('fresh');
    expect(await newer).toBe('fresh');
    expect(loading.value).toBe(false);
  });

  it('is not left busy by a call that rejects', async () => {
    const { loading, run } = useCall(async (): Promise<Result<number>> => Promise.reject(new Error('a bug')));
    await expect(run()).rejects.toThrow('a bug');
    expect(loading.value).toBe(false);
  });
});
