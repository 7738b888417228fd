import { WorkbenchStateSchema, type WorkbenchState } from './state-schema';
import type { JournalChanges, TableName } from './state-journal';
import type { RecordTable, TableChange } from './record-table';

/**
 * What a transaction changed, as the state journal holds it, and how a committed state takes it in. The tables
 * (CMKs, aliases, orphans) change record by record through their overlays; every other top-level field is small
 * (clusters, key stores, the audit anchor, fields of a later build) and is journaled whole when it changed.
 */

const TABLES: readonly TableName[] = ['keys', 'aliases', 'orphans'];

type Fields = Record<string, unknown>;

function smallFields(state: WorkbenchState): Fields {
  const fields: Fields = { ...state };
  for (const table of TABLES) delete fields[table];
  return fields;
}

/**
 * A draft over a committed state: the small fields copied (they are small), the tables as overlays, so nothing a
 * caller does to it reaches the committed state. `forRead`: handed out by `read()`, kept past later commits.
 */
export function draftOf(committed: WorkbenchState, options: { forRead?: boolean } = {}): WorkbenchState {
  return {
    ...(structuredClone(smallFields(committed)) as Omit<WorkbenchState, TableName>),
    keys: committed.keys.overlay(options),
    aliases: committed.aliases.overlay(options),
    orphans: committed.orphans.overlay(options),
  };
}

/** What `draft` changed from `committed` (the state it was drafted over); undefined when nothing. */
export function changesOf(committed: WorkbenchState, draft: WorkbenchState): JournalChanges | undefined {
  const before = smallFields(committed);
  const after = smallFields(draft);
  const changes: JournalChanges = {};
  for (const field of new Set([...Object.keys(before), ...Object.keys(after)])) {
    if (after[field] === undefined) {
      if (before[field] !== undefined) (changes.unset ??= []).push(field);
    } else if (JSON.stringify(after[field]) !== JSON.stringify(before[field])) {
      (changes.set ??= {})[field] = after[field];
    }
  }
  for (const table of TABLES) {
    const changed = (draft[table] as RecordTable<object>).changes();
    if (changed.length > 0) (changes.tables ??= {})[table] = changed;
  }
  return changes.set || changes.unset || changes.tables ? changes : undefined;
}

/**
 * Checks the changes against the schema as a whole file would be checked, but looking only at what changed:
 * the records put and the small fields after the change (their uniqueness rules included). A table's ids are
 * unique by construction. The problem, or undefined when there is none.
 */
export function problemOf(committed: WorkbenchState, changes: JournalChanges): string | undefined {
  const small = smallFields(committed);
  for (const field of changes.unset ?? []) delete small[field];
  const document: Fields = { ...small, ...changes.set };
  for (const table of TABLES) document[table] = (changes.tables?.[table] ?? []).flatMap((change) => ('put' in change ? [change.put] : []));
  const checked = WorkbenchStateSchema.safeParse(document);
  if (checked.success) return undefined;
  const issue = checked.error.issues[0];
  return issue ? `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}` : 'schema';
}

/** Folds committed changes (a transaction's, or the journal's) into the committed state. */
export function applyChanges(committed: WorkbenchState, changes: JournalChanges): void {
  const fields = committed as unknown as Fields;
  for (const field of changes.unset ?? []) delete fields[field];
  // Copies: the draft that produced them (or a caller holding part of it) must not reach into the committed state.
  for (const [field, value] of Object.entries(changes.set ?? {})) fields[field] = structuredClone(value);
  for (const table of TABLES) {
    const changed = changes.tables?.[table];
    if (changed) (committed[table] as RecordTable<object>).apply(changed as Array<TableChange<object>>);
  }
}
