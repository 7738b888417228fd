import { ref, type Ref } from 'vue';
import { newCallId, type CallOptions, type ErrorInfo, type Result } from '../../../shared/index';
import { workbench } from '../lib/workbench';

export interface LongRunHandlers<P, T> {
  onProgress(progress: P): void;
  onValue(value: T): void;
}

export interface LongRun<P> {
  readonly running: Readonly<Ref<boolean>>;
  /** Cancel was asked for and the run has not answered yet. */
  readonly cancelling: Readonly<Ref<boolean>>;
  /** The admin's own Cancel stopped the last run: a notice, not an error. */
  readonly cancelled: Readonly<Ref<boolean>>;
  /** Why the last run stopped, when it was not the admin's Cancel. */
  readonly error: Readonly<Ref<ErrorInfo | null>>;
  /**
   * Starts a run under a fresh call id, forgetting any earlier one. Its progress and its value reach `handlers` only
   * while it is the run tracked (not after reset() or a newer start), the value in the same tick as `running` ends.
   * Resolves true when the value was handed over; false when the run was refused, cancelled, or is no longer tracked.
   */
  start<T>(call: (options: Required<CallOptions<P>>) => Promise<Result<T>>, handlers: LongRunHandlers<P, T>): Promise<boolean>;
  /** Asks main to stop the tracked run (system.cancel by its call id); the run then answers OperationCancelledException. */
  cancel(): Promise<void>;
  /**
   * Forgets the tracked run, including one still going: its late progress and answer are then ignored. Whoever
   * leaves a running call behind cancels it first.
   */
  reset(): void;
}

/** A long call with progress: its call id, cancel, and the rule that a run nobody tracks writes nowhere. */
export function useLongRun<P>(callIdPrefix: string): LongRun<P> {
  const running = ref(false);
  const cancelling = ref(false);
  const cancelled = ref(false);
  const error = ref<ErrorInfo | null>(null);
  // Not state: only cancel() needs it, and start() uses it to tell its own run from a newer one.
  let callId: string | null = null;

  function reset(): void {
    callId = null;
    running.value = false;
    cancelling.value = false;
    cancelled.value = false;
    error.value = null;
  }

  async function start<T>(call: (options: Required<CallOptions<P>>) => Promise<Result<T>>, handlers: LongRunHandlers<P, T>): Promise<boolean> {
    reset();
    const id = newCallId(callIdPrefix);
    callId = id;
    running.value = true;
    const current = (): boolean => callId === id;
    try {
      const result = await call({
        callId: id,
        onProgress: (progress) => {
          if (current()) handlers.onProgress(progress);
        },
      });
      if (!current()) return false;
      if (result.ok) {
        handlers.onValue(result.value);
        return true;
      }
      if (result.error.name === 'OperationCancelledException' && cancelling.value) cancelled.value = true;
      else error.value = result.error;
      return false;
    } finally {
      if (current()) {
        running.value = false;
        cancelling.value = false;
        callId = null;
      }
    }
  }

  async function cancel(): Promise<void> {
    const id = callId;
    if (id === null) return;
    cancelling.value = true;
    const result = await workbench().system.cancel({ CallId: id });
    if (!result.ok && callId === id) error.value = result.error;
  }

  return { running, cancelling, cancelled, error, start, cancel, reset };
}
