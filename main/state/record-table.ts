/** One record-level change of a table, as a transaction made it and the state journal holds it. */
export type TableChange<R> = { put: R } | { delete: string };

/**
 * A collection of records keyed by one id field, as a transaction sees it (the CMKs, the aliases). A map
 * rather than the array the file holds: a CreateKey must not cost more with every key that exists, so a
 * lookup, an insert and a delete touch one record, and the store can tell which records a transaction
 * changed without comparing them all.
 *
 * A table is either committed (the records, no changes) or an overlay over a committed one: the overlay
 * shares the committed records and keeps only what it put or deleted, so handing a transaction its draft
 * costs nothing at 10,000 keys, and `changes()` is what the journal writes.
 *
 * `get` hands out a copy: change it and `put` it back. `values` hands out the records themselves, read-only.
 */
export class RecordTable<R extends object> {
  private base: Map<string, R>;
  /** Per id changed through this table: the record put, or undefined when deleted. */
  private readonly changed = new Map<string, R | undefined>();
  private count: number;
  /** An overlay handed out for a read may outlive the next commit: that commit copies the records first. */
  private shared = false;

  constructor(
    /** The field that identifies a record: unique within the table. */
    readonly idField: keyof R & string,
    records: Iterable<R> = [],
  ) {
    this.base = new Map();
    for (const record of records) this.base.set(this.idOf(record), record);
    this.count = this.base.size;
  }

  get size(): number {
    return this.count;
  }

  has(id: string): boolean {
    return this.changed.has(id) ? this.changed.get(id) !== undefined : this.base.has(id);
  }

  get(id: string): R | undefined {
    const record = this.changed.has(id) ? this.changed.get(id) : this.base.get(id);
    return record === undefined ? undefined : structuredClone(record);
  }

  /** Inserts the record, or replaces the one with its id. */
  put(record: R): void {
    const id = this.idOf(record);
    if (!this.has(id)) this.count += 1;
    this.changed.set(id, structuredClone(record));
  }

  delete(id: string): boolean {
    if (!this.has(id)) return false;
    this.count -= 1;
    // An id the committed records never had leaves no trace: deleting it changes nothing on disk.
    if (this.base.has(id)) this.changed.set(id, undefined);
    else this.changed.delete(id);
    return true;
  }

  /** In insertion order (a replaced record keeps its place). Read-only: a record changed in place would skip the change tracking. */
  *values(): IterableIterator<Readonly<R>> {
    for (const [id, record] of this.base) {
      const current = this.changed.has(id) ? this.changed.get(id) : record;
      if (current !== undefined) yield current;
    }
    for (const [id, record] of this.changed) if (record !== undefined && !this.base.has(id)) yield record;
  }

  /** The records as the file holds them, in insertion order. */
  toArray(): R[] {
    return [...this.values()];
  }

  /** What was put or deleted through this overlay, one change per id. */
  changes(): Array<TableChange<R>> {
    return [...this.changed].map(([id, record]) => (record === undefined ? { delete: id } : { put: record }));
  }

  /**
   * A draft over this committed table: reads see these records, writes stay in the overlay. `forRead`: the
   * overlay may be kept after the next commit (a read's result), so that commit leaves these records alone.
   */
  overlay(options: { forRead?: boolean } = {}): RecordTable<R> {
    if (this.changed.size > 0) throw new Error('only a committed table can be overlaid');
    const draft = new RecordTable<R>(this.idField);
    draft.base = this.base;
    draft.count = this.count;
    if (options.forRead) this.shared = true;
    return draft;
  }

  /** Folds committed changes (a transaction's, or the journal's) into this committed table. */
  apply(changes: Iterable<TableChange<R>>): void {
    if (this.shared) {
      this.base = new Map(this.base);
      this.shared = false;
    }
    for (const change of changes) {
      if ('put' in change) this.base.set(this.idOf(change.put), change.put);
      else this.base.delete(change.delete);
    }
    this.count = this.base.size;
  }

  private idOf(record: R): string {
    const id = record[this.idField];
    if (typeof id !== 'string') throw new TypeError(`a record of this table needs a string ${this.idField}`);
    return id;
  }
}
