import { describe, expect, it } from 'vitest';
import { RecordTable } from './record-table';

interface Key {
  KeyId: string;
  Description?: string;
}

describe('RecordTable overlay', () => {
  it('keeps a draft apart from the committed records and says exactly what it changed', () => {
    const committed = new RecordTable<Key>('KeyId', [{ KeyId: 'a' }, { KeyId: 'b' }, { KeyId: 'c' }]);
    const draft = committed.overlay();
    draft.put({ KeyId: 'b', Description: 'changed' });
    draft.delete('c');
    draft.put({ KeyId: 'd' });
    draft.put({ KeyId: 'e' });
    draft.delete('e');
    expect(draft.toArray()).toEqual([{ KeyId: 'a' }, { KeyId: 'b', Description: 'changed' }, { KeyId: 'd' }]);
    expect(draft.size).toBe(3);
    expect(draft.has('c')).toBe(false);
    expect(committed.toArray()).toEqual([{ KeyId: 'a' }, { KeyId: 'b' }, { KeyId: 'c' }]);
    expect(draft.changes()).toEqual([{ put: { KeyId: 'b', Description: 'changed' } }, { delete: 'c' }, { put: { KeyId: 'd' } }]);
    committed.apply(draft.changes());
    expect(committed.toArray()).toEqual(draft.toArray());
    expect(committed.size).toBe(3);
  });

  it('a read overlay keeps what it saw after the next commit', () => {
    const committed = new RecordTable<Key>('KeyId', [{ KeyId: 'a' }]);
    const seen = committed.overlay({ forRead: true });
    committed.apply([{ put: { KeyId: 'b' } }, { delete: 'a' }]);
    expect(seen.toArray()).toEqual([{ KeyId: 'a' }]);
    expect(committed.toArray()).toEqual([{ KeyId: 'b' }]);
  });

  it('hands out copies from get', () => {
    const committed = new RecordTable<Key>('KeyId', [{ KeyId: 'a' }]);
    const copy = committed.get('a');
    if (copy) copy.Description = 'x';
    expect(committed.get('a')).toEqual({ KeyId: 'a' });
  });
});
