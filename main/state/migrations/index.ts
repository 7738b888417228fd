import { keyStoreNamesItsCluster } from './001-key-store-names-its-cluster';
import { keyStoresComplete } from './002-key-stores-complete';
import { cmkRecords } from './003-cmk-records';
import type { StateJson, StateMigration } from './migration';

/** Every schema step in order: MIGRATIONS[n - 1] takes a version n file to n + 1. Append, never edit a released step. */
export const MIGRATIONS: readonly StateMigration[] = [keyStoreNamesItsCluster, keyStoresComplete, cmkRecords];

/** The state file schema this build reads and writes: one past the last migration, so a new step cannot forget the bump. */
export const STATE_SCHEMA_VERSION = MIGRATIONS.length + 1;

/**
 * Brings a file of schema `version` (1 ≤ version ≤ STATE_SCHEMA_VERSION) up to this build's, one step
 * at a time. `refuse` is told which step could not carry the file over, and why.
 */
export function migrateState(state: StateJson, version: number, refuse: (step: StateMigration, reason: string) => never): StateJson {
  let current = state;
  for (const step of MIGRATIONS.slice(version - 1)) current = step.migrate(current, (reason) => refuse(step, reason));
  return current;
}
