import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WorkbenchStateSchema } from '../state-schema';
import { cmkRecords } from './003-cmk-records';
import type { StateJson } from './migration';

const v3File = (): StateJson => JSON.parse(readFileSync(new URL('../../../tests/fixtures/state/v3-placeholder-key.json', import.meta.url), 'utf8')) as StateJson;

function refuse(reason: string): never {
  throw new Error(reason);
}

describe('migration 003: schema 3 → 4, keys and aliases hold CMK and alias records', () => {
  it('keeps a placeholder in keys aside verbatim, as no CMK, and keeps everything else as it was', () => {
    const v3 = v3File();
    const v4 = cmkRecords.migrate(v3, refuse);
    expect(v4.schemaVersion).toBe(4);
    expect(v4.keys).toEqual([]);
    expect(v4.aliases).toEqual([]);
    expect(v4.orphans).toEqual([]);
    expect(v4.legacyKeyPlaceholders).toEqual([{ KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab', future: true }]);
    expect('legacyAliasPlaceholders' in v4).toBe(false); // the file had none
    const { keys: _k, aliases: _a, orphans: _o, schemaVersion: _v, legacyKeyPlaceholders: _l, ...others } = v4;
    const { keys: _k2, aliases: _a2, schemaVersion: _v2, ...othersBefore } = v3;
    expect(others).toEqual(othersBefore);
    expect(WorkbenchStateSchema.safeParse(v4).success).toBe(true);
    expect(v3).toEqual(v3File()); // its input untouched
  });

  it('carries an alias placeholder aside too, and makes collections a file lacked', () => {
    const { keys: _k, aliases: _a, ...withoutCollections } = v3File();
    expect(cmkRecords.migrate(withoutCollections, refuse)).toMatchObject({ keys: [], aliases: [], orphans: [] });
    const v4 = cmkRecords.migrate({ ...v3File(), aliases: [{ AliasName: 'alias/x' }] }, refuse);
    expect(v4.legacyAliasPlaceholders).toEqual([{ AliasName: 'alias/x' }]);
  });
});
