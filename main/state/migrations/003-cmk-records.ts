import type { StateMigration } from './migration';

/**
 * Schema 3 → 4: `keys` and `aliases` hold CMK and alias records, and `orphans` the key material being destroyed
 * (main/state/records.ts). Before 4 they were
 * placeholders that no build filled with a CMK, so whatever a file holds there (a later same-version build's
 * placeholder, a hand edit) names no key material the workbench made. It is neither dropped nor guessed into a
 * CMK: it moves verbatim to `legacyKeyPlaceholders` / `legacyAliasPlaceholders`, which the file keeps.
 */
export const cmkRecords: StateMigration = {
  from: 3,
  summary: 'keys and aliases hold CMK and alias records; earlier placeholders are kept aside verbatim',
  migrate(state) {
    const { keys, aliases, ...rest } = state;
    const kept = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
    return {
      ...rest,
      schemaVersion: 4,
      keys: [],
      aliases: [],
      orphans: [],
      ...(kept(keys).length > 0 ? { legacyKeyPlaceholders: kept(keys) } : {}),
      ...(kept(aliases).length > 0 ? { legacyAliasPlaceholders: kept(aliases) } : {}),
    };
  },
};
