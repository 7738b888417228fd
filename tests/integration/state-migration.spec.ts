import { copyFile, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClusterInfo } from '../../shared/contract/clusters';
import { STATE_SCHEMA_VERSION, toStateDocument } from '../../main/state/state-schema';
import { openStateStore, STATE_FILE, STATE_JOURNAL_FILE } from '../../main/state/state-store';
import { clusterRecord } from '../fixtures/records';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/state/${name}`, import.meta.url));
const V1_FILE = fixture('v1-two-clusters.json');
/** What the schema-1 build answered to DescribeClusters on that file. */
const V1_CLUSTERS = (JSON.parse(await readFile(fixture('v1-two-clusters.describe-clusters.json'), 'utf8')) as { Clusters: ClusterInfo[] }).Clusters;
const [PROD, LAB] = V1_CLUSTERS as [ClusterInfo, ClusterInfo];

let dir: string;
let wb: TestWorkbench;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hsmwb-migration-'));
  await copyFile(V1_FILE, join(dir, STATE_FILE));
  // A state with clusters is only trusted beside the audit log that recorded them.
  await mkdir(join(dir, 'audit'), { mode: 0o700 });
  await copyFile(fixture('v1-two-clusters.audit-log.jsonl'), join(dir, 'audit', 'audit-log.jsonl'));
  wb = await createTestWorkbench({ stateDir: dir });
});
afterEach(async () => {
  await wb.dispose();
  await rm(dir, { recursive: true, force: true });
});

function ok<T>(result: { ok: true; value: T } | { ok: false; error: { name: string; message: string } }): T {
  if (!result.ok) throw new Error(`${result.error.name}: ${result.error.message}`);
  return result.value;
}

/**
 * A cluster as the schema-1 build showed it: the fields later builds added (cluster initialization and member
 * trust) taken off, after checking they say what they must of an old cluster: never initialized, no trust yet.
 */
function asSchema1Build(clusters: ClusterInfo[]): unknown[] {
  return clusters.map(({ State, Certificates, Hsms, ...rest }) => {
    expect(State).toBe('UNINITIALIZED');
    expect(Certificates).toEqual({ ClusterCsr: null, ClusterCertificate: null, TrustAnchorCertificate: null, DemoCa: false });
    return {
      ...rest,
      Hsms: Hsms.map(({ Trust, ...hsm }) => {
        expect(Trust.Status).toBe('INCOMPLETE');
        return hsm;
      }),
    };
  });
}

describe('a schema-1 state file written by the previous build', () => {
  it('answers DescribeClusters as that build did (and the newer fields say "not initialized"), and reads leave the file as it was', async () => {
    const before = await wb.stateFilesText();
    expect(asSchema1Build(ok(await wb.call('DescribeClusters', {})).Clusters)).toEqual(V1_CLUSTERS);
    expect(asSchema1Build(ok(await wb.call('DescribeClusters', { ClusterIds: [PROD.ClusterId] })).Clusters)).toEqual([PROD]);
    expect(await wb.stateFilesText()).toBe(before);
  });

  it('keeps a cluster its back-pointer said was in use from being deleted, and writes nothing', async () => {
    const before = await wb.stateFilesText();
    const refused = await wb.call('DeleteCluster', { ClusterId: PROD.ClusterId });
    expect(refused.ok ? 'ok' : refused.error.name).toBe('CloudHsmClusterInUseException');
    expect(refused.ok ? '' : refused.error.message).toContain('cks-0123456789abcdef0');
    expect(await wb.stateFilesText()).toBe(before);
  });

  it('is rewritten as this schema by the next change, keeping every field it does not know', async () => {
    const v1 = JSON.parse(await readFile(V1_FILE, 'utf8')) as Record<string, unknown> & { clusters: Record<string, unknown>[] };
    expect(asSchema1Build([ok(await wb.call('DeleteCluster', { ClusterId: LAB.ClusterId })).Cluster])).toEqual([LAB]);

    // The file itself, not the state read from it: the first write after an older schema is a whole snapshot.
    const written = JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as Record<string, unknown> & { clusters: Record<string, unknown>[] };
    expect(written.schemaVersion).toBe(STATE_SCHEMA_VERSION);
    const { CustomKeyStoreId: _moved, ...prodRecord } = v1.clusters[0] ?? {};
    expect(written.clusters).toEqual([prodRecord]); // Owner kept, the back-pointer gone
    expect(written.customKeyStores).toEqual([
      // Completed by migration 002: certain facts only (no trust anchor or password is invented).
      { CustomKeyStoreId: 'cks-0123456789abcdef0', CloudHsmClusterId: PROD.ClusterId, CustomKeyStoreName: 'cks-0123456789abcdef0', ConnectionState: 'DISCONNECTED', CreationDate: PROD.CreateTimestamp },
    ]);
    expect(written.settings).toEqual(v1.settings);
    // Schema 4 holds CMK records there: the placeholder, which names no key material, is kept aside verbatim.
    expect(written.keys).toEqual([]);
    expect(written.legacyKeyPlaceholders).toEqual(v1.keys);
    // The API's view did not move.
    expect(asSchema1Build(ok(await wb.call('DescribeClusters', {})).Clusters)).toEqual([PROD]);
    // The file as the schema-1 build wrote it is kept for that build, once: a later write leaves the copy alone.
    const backup = join(wb.stateDir, 'state.v1.json');
    expect(await readFile(backup, 'utf8')).toBe(await readFile(V1_FILE, 'utf8'));
    await wb.editState(() => undefined);
    expect(await readFile(backup, 'utf8')).toBe(await readFile(V1_FILE, 'utf8'));
  });
});

describe('older schema files through the journaled store', () => {
  const fixtureNames = ['v1-two-clusters.json', 'v2-placeholder-key-store.json', 'v3-placeholder-key.json'];
  for (const name of fixtureNames) {
    it(`${name}: the first write is a whole schema-${STATE_SCHEMA_VERSION} snapshot (never an entry against the old one), the next an entry, and a fresh store reads both`, async () => {
      const stateDir = await mkdtemp(join(tmpdir(), 'hsmwb-migration-journal-'));
      try {
        await copyFile(fixture(name), join(stateDir, STATE_FILE));
        const store = await openStateStore({ stateDir, program: 'test' });
        const read = await store.read();
        expect(await readdir(stateDir)).toEqual([STATE_FILE]);
        await store.transact((s) => void s.clusters.push(clusterRecord('after-migration')));
        const snapshot = JSON.parse(await readFile(join(stateDir, STATE_FILE), 'utf8')) as { schemaVersion: number; journal: unknown; clusters: Array<{ ClusterName: string }> };
        expect(snapshot).toMatchObject({ schemaVersion: STATE_SCHEMA_VERSION, journal: { generation: 1, foldedThrough: 0 } });
        expect(snapshot.clusters.at(-1)?.ClusterName).toBe('after-migration');
        // Nothing but the header: the change went into the snapshot.
        expect((await readFile(join(stateDir, STATE_JOURNAL_FILE), 'utf8')).trim().split('\n')).toHaveLength(1);
        const version = Number(/^v(\d)/.exec(name)?.[1]);
        expect(await readFile(join(stateDir, `state.v${version}.json`), 'utf8')).toBe(await readFile(fixture(name), 'utf8'));

        await store.transact((s) => void s.clusters.push(clusterRecord('journaled')));
        expect((await readFile(join(stateDir, STATE_JOURNAL_FILE), 'utf8')).trim().split('\n')).toHaveLength(2);
        const fresh = await (await openStateStore({ stateDir, program: 'test' })).read();
        expect(fresh.clusters.map((c) => c.ClusterName)).toEqual([...read.clusters.map((c) => c.ClusterName), 'after-migration', 'journaled']);
        expect(toStateDocument(fresh)).toEqual({ ...toStateDocument(read), clusters: fresh.clusters });
      } finally {
        await rm(stateDir, { recursive: true, force: true });
      }
    });
  }
});

