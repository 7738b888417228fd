/** The state file as JSON.parse gave it: migrators work on plain JSON, before any validation. */
export type StateJson = Record<string, unknown>;

/**
 * One step of the state file's schema, from version `from` to `from + 1`. It runs on whatever the
 * file holds, before validation, so it must cope with anything: it transforms what it recognises,
 * leaves what it does not for the validation that follows to refuse, and calls `refuse` for what it
 * cannot carry over without changing its meaning. A migrator never guesses, and never writes: the
 * store writes the migrated state with the next change.
 */
export interface StateMigration {
  from: number;
  /** What the step changes, for the reader of the code and of a refusal. */
  summary: string;
  migrate(state: StateJson, refuse: (reason: string) => never): StateJson;
}

export function isJsonObject(value: unknown): value is StateJson {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
