import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { clusterRecord, cmkRecord, keyStoreRecord } from '../../tests/fixtures/records';
import { thrown } from '../../tests/fixtures/outcomes';
import { defaultState, parseState, STATE_SCHEMA_VERSION } from './state-schema';

const V1_FILE = readFileSync(new URL('../../tests/fixtures/state/v1-two-clusters.json', import.meta.url), 'utf8');

function nameOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).name;
  }
  return 'no error';
}

describe('parseState', () => {
  it('accepts the defaults it writes', () => {
    expect(parseState(JSON.stringify(defaultState()), 'state.json')).toEqual(defaultState());
  });

  it('keeps fields of a later same-version build it does not know yet', () => {
    const key = { ...cmkRecord('cks-0123456789abcdef0', 'cluster-nlJtSangJr6'), future: true };
    const state = { ...defaultState(), keys: [key], settings: { region: 'eu-1' } };
    const parsed = parseState(JSON.stringify(state), 'state.json');
    expect(parsed.keys).toEqual([key]);
    expect(parsed).toMatchObject({ settings: { region: 'eu-1' } });
  });

  it('tells a newer file from a corrupt one', () => {
    expect(nameOf(() => parseState('{', 'state.json'))).toBe('StateFileCorruptException');
    expect(nameOf(() => parseState('null', 'state.json'))).toBe('StateFileCorruptException');
    expect(nameOf(() => parseState(JSON.stringify({ schemaVersion: 0 }), 'state.json'))).toBe('StateFileCorruptException');
    expect(nameOf(() => parseState(JSON.stringify({ ...defaultState(), clusters: 'x' }), 'state.json'))).toBe('StateFileCorruptException');
    expect(nameOf(() => parseState(JSON.stringify({ schemaVersion: STATE_SCHEMA_VERSION + 1 }), 'state.json'))).toBe('StateFileVersionException');
  });
});

describe('parseState on older files', () => {
  it('migrates the frozen schema-1 file to this schema in memory', () => {
    const state = parseState(V1_FILE, 'state.json');
    expect(state.schemaVersion).toBe(STATE_SCHEMA_VERSION);
    expect(state.clusters.map((c) => c.ClusterName)).toEqual(['prod', 'lab']);
    expect(state.customKeyStores).toEqual([
      // Completed by migration 002 (schema 3): certain facts only, no trust anchor or password invented.
      { CustomKeyStoreId: 'cks-0123456789abcdef0', CloudHsmClusterId: 'cluster-nlJtSangJr6', CustomKeyStoreName: 'cks-0123456789abcdef0', ConnectionState: 'DISCONNECTED', CreationDate: '2026-12-02T02:51:12.589Z' },
    ]);
    expect(state.clusters.some((c) => 'CustomKeyStoreId' in c)).toBe(false);
  });

  it('names the file, its version and the step when a file cannot be migrated', () => {
    const v1 = JSON.parse(V1_FILE) as { clusters: Record<string, unknown>[] };
    for (const c of v1.clusters) c.CustomKeyStoreId = 'cks-0123456789abcdef0';
    const error = thrown(() => parseState(JSON.stringify(v1), '/home/a/state.json'));
    expect(error.name).toBe('StateFileCorruptException');
    expect(error.message).toMatch(/^The state file \/home\/a\/state\.json has schema version 1 and cannot be migrated to version 2 \(.*CloudHsmClusterId.*\): clusters\.1 .* a key store uses one cluster\. It was left untouched/);
  });

  it('says which version a damaged older file claims, and that it was read as this one', () => {
    const error = thrown(() => parseState(JSON.stringify({ schemaVersion: 1, clusters: [{ ClusterId: 'nope', CustomKeyStoreId: null }], customKeyStores: [], keys: [], aliases: [] }), 'state.json'));
    expect(error.message).toContain(`does not match schema version 1 (read as version ${STATE_SCHEMA_VERSION}) (clusters.0 (ClusterId "nope") ClusterId:`);
  });
});

describe('records of this schema', () => {
  const withKeyStores = (customKeyStores: unknown[], clusters = [clusterRecord('a')]): string => JSON.stringify({ ...defaultState(), clusters, customKeyStores });

  it("refuse a cluster's CustomKeyStoreId: the key store names its cluster since schema 2", () => {
    const cluster = { ...clusterRecord('old-vocabulary'), CustomKeyStoreId: 'cks-0123456789abcdef0' };
    const error = thrown(() => parseState(withKeyStores([], [cluster]), 'state.json'));
    expect(error.name).toBe('StateFileCorruptException');
    expect(error.message).toContain(`clusters.0 (ClusterId "${cluster.ClusterId}") CustomKeyStoreId: a cluster does not name its key store since schema version 2`);
  });

  it('refuse two key stores with one id, or on one cluster, naming the key store', () => {
    const [a, b] = [clusterRecord('a'), clusterRecord('b')];
    const sameId = thrown(() => parseState(withKeyStores([keyStoreRecord('cks-1', a.ClusterId), keyStoreRecord('cks-1', b.ClusterId)], [a, b]), 'state.json'));
    expect(sameId.message).toContain('customKeyStores.1 (CustomKeyStoreId "cks-1") CustomKeyStoreId: the same CustomKeyStoreId as customKeyStores.0');
    expect(sameId.details?.records).toEqual(['customKeyStores.1']);
    const sameCluster = thrown(() => parseState(withKeyStores([keyStoreRecord('cks-1', a.ClusterId), keyStoreRecord('cks-2', a.ClusterId)], [a]), 'state.json'));
    expect(sameCluster.message).toContain('customKeyStores.1 (CustomKeyStoreId "cks-2") CloudHsmClusterId: the same CloudHsmClusterId as customKeyStores.0');
  });

  it('keep fields of a key store record this build does not know', () => {
    const a = clusterRecord('a');
    const record = { ...keyStoreRecord('cks-1', a.ClusterId), Tags: ['later build'] };
    expect(parseState(withKeyStores([record], [a]), 'state.json').customKeyStores).toEqual([record]);
  });
});
