import { describe, expect, it } from 'vitest';
import type { ErrorInfo, Result } from '../../../shared/index';
import { useKeyAttachments } from './use-key-attachments';

const refusal: ErrorInfo = { name: 'NotFoundException', message: 'no' };

/** One call the test answers by hand. */
function handAnswered(): { call: () => Promise<Result<unknown>>; answer: (result: Result<unknown>) => void; calls: number } {
  let answer: (result: Result<unknown>) => void = () => undefined;
  const state = {
    calls: 0,
    call: (): Promise<Result<unknown>> => {
      state.calls += 1;
      return new Promise((resolve) => (answer = resolve));
    },
    answer: (result: Result<unknown>): void => answer(result),
  };
  return state;
}

describe('useKeyAttachments', () => {
  it('adds once at a time; a refusal stays beside the form, a success clears it and says what was added', async () => {
    const edits = useKeyAttachments({ call: () => Promise.resolve({ ok: true, value: {} }), removed: (name) => `${name} removed` });
    const adding = handAnswered();
    const first = edits.add(adding.call, () => 'added');
    await edits.add(adding.call, () => 'added twice');
    expect({ calls: adding.calls, adding: edits.adding.value }).toEqual({ calls: 1, adding: true });
    adding.answer({ ok: false, error: refusal });
    await first;
    expect({ adding: edits.adding.value, error: edits.addError.value, notice: edits.notice.value }).toEqual({ adding: false, error: refusal, notice: '' });

    const second = edits.add(adding.call, () => 'added');
    adding.answer({ ok: true, value: {} });
    await second;
    expect({ error: edits.addError.value, notice: edits.notice.value }).toEqual({ error: null, notice: 'added' });
  });

  it('removes only the confirmed name; a refusal keeps the confirmation open with the error, a success closes it', async () => {
    const removing = handAnswered();
    const asked: string[] = [];
    const edits = useKeyAttachments({
      call: (name) => {
        asked.push(name);
        return removing.call();
      },
      removed: (name) => `${name} removed`,
    });
    await edits.remove();
    expect(asked).toEqual([]);

    edits.askRemove('alias/a');
    const refused = edits.remove();
    await edits.remove();
    expect({ asked, busy: edits.removeBusy.value }).toEqual({ asked: ['alias/a'], busy: true });
    removing.answer({ ok: false, error: refusal });
    await refused;
    expect({ removing: edits.removing.value, error: edits.removeError.value, notice: edits.notice.value }).toEqual({ removing: 'alias/a', error: refusal, notice: '' });

    edits.askRemove('alias/a');
    expect(edits.removeError.value).toBeNull();
    const done = edits.remove();
    removing.answer({ ok: true, value: {} });
    await done;
    expect({ removing: edits.removing.value, notice: edits.notice.value }).toEqual({ removing: null, notice: 'alias/a removed' });
  });
});
