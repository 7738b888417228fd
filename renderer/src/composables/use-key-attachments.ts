import { ref, type Ref } from 'vue';
import type { ErrorInfo, Result } from '../../../shared/index';

export interface KeyAttachments {
  /** What the last change did, for the panel's status line. */
  readonly notice: Ref<string>;
  readonly adding: Ref<boolean>;
  readonly addError: Ref<ErrorInfo | null>;
  /** The name whose removal awaits confirmation; null while no confirmation is open. */
  readonly removing: Ref<string | null>;
  readonly removeBusy: Ref<boolean>;
  readonly removeError: Ref<ErrorInfo | null>;
  /** Runs `call` unless an add is unanswered; on success shows what `added` says (it clears the form first). */
  add(call: () => Promise<Result<unknown>>, added: () => string): Promise<void>;
  askRemove(name: string): void;
  /** Removes the name being confirmed; a refusal stays in the confirmation so the admin can retry or cancel. */
  remove(): Promise<void>;
}

/**
 * Aliases and tags, the names attached to a CMK on its detail page: added from a form, removed after a
 * confirmation, each change answered by one notice. The key itself is never changed by either.
 */
export function useKeyAttachments(removal: { call: (name: string) => Promise<Result<unknown>>; removed: (name: string) => string }): KeyAttachments {
  const notice = ref('');
  const adding = ref(false);
  const addError = ref<ErrorInfo | null>(null);
  const removing = ref<string | null>(null);
  const removeBusy = ref(false);
  const removeError = ref<ErrorInfo | null>(null);

  async function add(call: () => Promise<Result<unknown>>, added: () => string): Promise<void> {
    if (adding.value) return;
    adding.value = true;
    notice.value = '';
    const result = await call();
    adding.value = false;
    addError.value = result.ok ? null : result.error;
    if (result.ok) notice.value = added();
  }

  function askRemove(name: string): void {
    removing.value = name;
    removeError.value = null;
    notice.value = '';
  }

  async function remove(): Promise<void> {
    const name = removing.value;
    if (name === null || removeBusy.value) return;
    removeBusy.value = true;
    const result = await removal.call(name);
    removeBusy.value = false;
    if (!result.ok) {
      removeError.value = result.error;
      return;
    }
    removing.value = null;
    notice.value = removal.removed(name);
  }

  return { notice, adding, addError, removing, removeBusy, removeError, add, askRemove, remove };
}
