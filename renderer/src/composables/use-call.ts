import { ref, type Ref } from 'vue';
import type { ErrorInfo, Result } from '../../../shared/index';

export interface UseCallOptions {
  /**
   * When the last refusal is cleared. 'start' (the default): as a new attempt begins, so a form's repeated refusal is
   * shown, and announced, afresh. 'settled': only once the next call answers, so a background reload does not flicker.
   */
  clearError?: 'start' | 'settled';
}

export interface Call<A extends unknown[], T> {
  /** True while the latest call is unanswered. */
  readonly loading: Readonly<Ref<boolean>>;
  /** The latest call's refusal. Writable, so a form can put it away when it starts afresh. */
  readonly error: Ref<ErrorInfo | null>;
  /**
   * Resolves with the value, or undefined when the call was refused (see `error`). Only the latest call's answer
   * counts: a call overtaken by a newer one before it answered resolves as that newer one does, so a slow earlier
   * answer never overwrites a fresher one, and whoever awaits the earlier call still gets the fresh outcome.
   */
  run(...args: A): Promise<T | undefined>;
}

/** One call through window.workbench with its busy flag and its refusal, for stores and views. */
export function useCall<A extends unknown[], T>(call: (...args: A) => Promise<Result<T>>, options: UseCallOptions = {}): Call<A, T> {
  const loading = ref(false);
  const error = ref<ErrorInfo | null>(null);
  let latest: Promise<T | undefined> | undefined;

  function run(...args: A): Promise<T | undefined> {
    loading.value = true;
    if (options.clearError !== 'settled') error.value = null;
    const attempt: Promise<T | undefined> = call(...args).then(
      (result) => {
        if (attempt !== latest) return latest;
        loading.value = false;
        error.value = result.ok ? null : result.error;
        return result.ok ? result.value : undefined;
      },
      (failure: unknown) => {
        // window.workbench answers refusals as data; a rejection is a bug, but must not leave the page busy forever.
        if (attempt === latest) loading.value = false;
        throw failure;
      },
    );
    latest = attempt;
    return attempt;
  }

  return { loading, error, run };
}
