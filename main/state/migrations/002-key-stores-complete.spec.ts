import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WorkbenchStateSchema } from '../state-schema';
import { keyStoresComplete } from './002-key-stores-complete';
import { cmkRecords } from './003-cmk-records';
import type { StateJson } from './migration';

/** The frozen file a schema-2 build wrote (tests/fixtures/state/README.md). */
function v2File(): StateJson & { customKeyStores: StateJson[] } {
  return JSON.parse(readFileSync(new URL('../../../tests/fixtures/state/v2-placeholder-key-store.json', import.meta.url), 'utf8')) as StateJson & {
    customKeyStores: StateJson[];
  };
}

function refuse(reason: string): never {
  throw new Error(reason);
}

const migrate = (state: StateJson): StateJson => keyStoresComplete.migrate(state, refuse);

describe('migration 002: schema 2 → 3, key store records hold the whole store', () => {
  it('completes the placeholder with what is certain, invents no trust anchor or password, and keeps everything else', () => {
    const v2 = v2File();
    const v3 = migrate(v2);
    expect(v3.schemaVersion).toBe(3);
    expect(v3.customKeyStores).toEqual([
      {
        CustomKeyStoreId: 'cks-0123456789abcdef0',
        CloudHsmClusterId: 'cluster-nlJtSangJr6',
        CustomKeyStoreName: 'cks-0123456789abcdef0',
        ConnectionState: 'DISCONNECTED',
        // The cluster's: the store cannot be older than the cluster it names.
        CreationDate: '2026-12-02T02:51:12.589Z',
      },
    ]);
    const { customKeyStores: _k, schemaVersion: _v, ...others } = v3;
    const { customKeyStores: _k2, schemaVersion: _v2, ...othersBefore } = v2;
    expect(others).toEqual(othersBefore);
    expect(WorkbenchStateSchema.safeParse(cmkRecords.migrate(v3, refuse)).success).toBe(true);
    expect(v2).toEqual(v2File()); // its input untouched
  });

  it('keeps what a placeholder already holds (a name, a date, fields it does not know)', () => {
    const v2 = v2File();
    v2.customKeyStores = [{ ...v2.customKeyStores[0], CustomKeyStoreName: 'prod-store', CreationDate: '2026-01-01T00:00:00.000Z', Note: 'x' }];
    expect(migrate(v2).customKeyStores).toEqual([{ ...v2.customKeyStores[0], ConnectionState: 'DISCONNECTED' }]);
  });

  it('refuses a nameless placeholder whose id is another store\'s name: the two could not be told apart by name', () => {
    const v2 = v2File();
    v2.customKeyStores.push({ CustomKeyStoreId: 'cks-11111111111111111', CloudHsmClusterId: 'cluster-EDvrSX6ojmk', CustomKeyStoreName: 'cks-0123456789abcdef0' });
    expect(() => migrate(v2)).toThrow(/customKeyStores\.0 has no name, and its id "cks-0123456789abcdef0" is another key store's name/);
  });

  it('leaves what is not a schema-2 shape to the validation that follows', () => {
    expect(migrate({ schemaVersion: 2, customKeyStores: 'x' })).toEqual({ schemaVersion: 3, customKeyStores: 'x' });
    expect(migrate({ schemaVersion: 2, customKeyStores: [7] })).toEqual({ schemaVersion: 3, customKeyStores: [7] });
  });
});
