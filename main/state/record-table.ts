/**
 * A collection of records keyed by one id field, as a transaction sees it (the CMKs, the aliases). A map
 * rather than the array the file holds: a CreateKey must not cost more with every key that exists, so a
 * lookup, an insert and a delete touch one record, and the store can tell which records a transaction
 * changed without comparing them all.
 *
 * `get` hands out a copy: change it and `put` it back. `values` hands out the records themselves, read-only.
 */
export class RecordTable<R extends object> {
  private readonly records = new Map<string, R>();

  constructor(
    /** The field that identifies a record: unique within the table. */
    readonly idField: keyof R & string,
    records: Iterable<R> = [],
  ) {
    for (const record of records) this.records.set(this.idOf(record), record);
  }

  get size(): number {
    return this.records.size;
  }

  has(id: string): boolean {
    return this.records.has(id);
  }

  get(id: string): R | undefined {
    const record = this.records.get(id);
    return record === undefined ? undefined : structuredClone(record);
  }

  /** Inserts the record, or replaces the one with its id. */
  put(record: R): void {
    this.records.set(this.idOf(record), structuredClone(record));
  }

  delete(id: string): boolean {
    return this.records.delete(id);
  }

  /** In insertion order. Read-only: a record changed in place would skip the change tracking of a transaction. */
  values(): IterableIterator<Readonly<R>> {
    return this.records.values();
  }

  /** The records as the file holds them, in insertion order. */
  toArray(): R[] {
    return [...this.records.values()];
  }

  private idOf(record: R): string {
    const id = record[this.idField];
    if (typeof id !== 'string') throw new TypeError(`a record of this table needs a string ${this.idField}`);
    return id;
  }
}
