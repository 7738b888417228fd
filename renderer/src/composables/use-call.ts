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
   * Resolves with the value, or undefined when the call was refused (see `error`) or a newer call was made before it
   * answered: only the latest call's answer counts, so a slow earlier answer never overwrites a fresher one.
   */
  run(...args: A): Promise<T | undefined>;
}

/** One call through window.workbench with its busy flag and its refusal, for stores and views. */
export function useCall<A extends unknown[], T>(call: (...args: A) => Promise<Result<T>>, options: UseCallOptions = {}): Call<A, T> {
  const loading = ref(false);
  const error = ref<ErrorInfo | null>(null);
  let latest = 0;

  async function run(...args: A): Promise<T | undefined> {
    latest += 1;
    const ticket = latest;
    loading.value = true;
    if (options.clearError !== 'settled') error.value = null;
    try {
      const result = await call(...args);
      if (ticket !== latest) return undefined;
      error.value = result.ok ? null : result.error;
      return result.ok ? result.value : undefined;
    } finally {
      if (ticket === latest) loading.value = false;
    }
  }

  return { loading, error, run };
}
