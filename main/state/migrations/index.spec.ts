import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS, STATE_SCHEMA_VERSION } from '.';

describe('state migrations', () => {
  it('are numbered from schema 1 without a gap, and the schema version is one past the last', () => {
    expect(MIGRATIONS.map((m) => m.from)).toEqual(Array.from({ length: MIGRATIONS.length }, (_, i) => i + 1));
    expect(STATE_SCHEMA_VERSION).toBe(MIGRATIONS.length + 1);
  });

  it('each have a frozen fixture of the version they migrate from', () => {
    const fixtures = readdirSync(new URL('../../../tests/fixtures/state/', import.meta.url));
    for (const { from } of MIGRATIONS) expect(fixtures.some((name) => name.startsWith(`v${from}-`) && name.endsWith('.json')), `tests/fixtures/state/v${from}-*.json`).toBe(true);
  });
});
