import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WorkbenchStateSchema } from '../state-schema';
import { keyStoreNamesItsCluster } from './001-key-store-names-its-cluster';
import { keyStoresComplete } from './002-key-stores-complete';
import { cmkRecords } from './003-cmk-records';
import type { StateJson } from './migration';

/** The frozen file a schema-1 build wrote (tests/fixtures/state/README.md). */
function v1File(): StateJson & { clusters: StateJson[] } {
  return JSON.parse(readFileSync(new URL('../../../tests/fixtures/state/v1-two-clusters.json', import.meta.url), 'utf8')) as StateJson & { clusters: StateJson[] };
}

function refuse(reason: string): never {
  throw new Error(reason);
}

const migrate = (state: StateJson): StateJson => keyStoreNamesItsCluster.migrate(state, refuse);

describe('migration 001: schema 1 → 2, the key store names its cluster', () => {
  it('moves a cluster back-pointer into a key store record on the frozen v1 file, and keeps everything else as it was', () => {
    const v1 = v1File();
    const [prod, lab] = v1.clusters;
    const v2 = migrate(v1);
    expect(v2.schemaVersion).toBe(2);
    // The clusters lose only the back-pointer: unknown fields (Owner, an HSM's Zone) stay where they were.
    const withoutBackPointer = ({ CustomKeyStoreId: _dropped, ...rest }: StateJson): StateJson => rest;
    expect(v2.clusters).toEqual(v1.clusters.map(withoutBackPointer));
    expect(v2.customKeyStores).toEqual([{ CustomKeyStoreId: 'cks-0123456789abcdef0', CloudHsmClusterId: prod?.ClusterId }]);
    expect(lab?.CustomKeyStoreId).toBeNull(); // null meant "no key store": no record for it
    const { clusters: _c, customKeyStores: _k, schemaVersion: _v, ...others } = v2;
    const { clusters: _c1, customKeyStores: _k1, schemaVersion: _v1, ...othersBefore } = v1;
    expect(others).toEqual(othersBefore); // settings, keys, aliases
    expect(WorkbenchStateSchema.safeParse(cmkRecords.migrate(keyStoresComplete.migrate(v2, refuse), refuse)).success).toBe(true); // valid once schema 3 completes the record
  });

  it('leaves its input untouched (the caller may still need the file as read)', () => {
    const v1 = v1File();
    migrate(v1);
    expect(v1).toEqual(v1File());
  });

  it('completes a placeholder key store record of that id instead of adding a second one', () => {
    const v1 = v1File();
    v1.customKeyStores = [{ CustomKeyStoreId: 'cks-0123456789abcdef0', CustomKeyStoreName: 'from-a-later-build' }];
    expect(migrate(v1).customKeyStores).toEqual([{ CustomKeyStoreId: 'cks-0123456789abcdef0', CustomKeyStoreName: 'from-a-later-build', CloudHsmClusterId: v1.clusters[0]?.ClusterId }]);
  });

  it('refuses what it cannot carry over without changing its meaning', () => {
    const twoClaims = v1File();
    const [, lab] = twoClaims.clusters;
    if (lab) lab.CustomKeyStoreId = 'cks-0123456789abcdef0';
    expect(() => migrate(twoClaims)).toThrow(/clusters\.1 \(ClusterId "cluster-EDvrSX6ojmk"\) names custom key store "cks-0123456789abcdef0", which is already used by cluster "cluster-nlJtSangJr6"/);

    const otherCluster = v1File();
    otherCluster.customKeyStores = [{ CustomKeyStoreId: 'cks-0123456789abcdef0', CloudHsmClusterId: 'cluster-EDvrSX6ojmk' }];
    expect(() => migrate(otherCluster)).toThrow(/already used by cluster "cluster-EDvrSX6ojmk"/);

    for (const bad of ['', 42]) {
      const damaged = v1File();
      if (damaged.clusters[0]) damaged.clusters[0].CustomKeyStoreId = bad;
      expect(() => migrate(damaged)).toThrow(/clusters\.0 has CustomKeyStoreId .*, where schema version 1 holds a key store id or null/);
    }
  });

  it('leaves what is not a schema-1 shape to the validation that follows', () => {
    expect(migrate({ schemaVersion: 1, clusters: 'x' })).toEqual({ schemaVersion: 2, clusters: 'x' });
    expect(migrate({ schemaVersion: 1, clusters: [null, 7], customKeyStores: [] })).toEqual({ schemaVersion: 2, clusters: [null, 7], customKeyStores: [] });
  });
});
