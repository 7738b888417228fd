import { describe, expect, it } from 'vitest';
import type { ClusterInfo, HsmTrust } from '../../../shared/contract/clusters';
import type { KeyStoreConnectionInfo, KeyStoreMemberConnection } from '../../../shared/contract/key-stores';
import { keyPhase, memberReadiness, progressByHsm, readinessVerdict, tagsFromRows } from './key-wizard';

function connection(members: Array<Partial<KeyStoreMemberConnection> & { HsmId: string }>): KeyStoreConnectionInfo {
  return { CustomKeyStoreId: 'cks-0123456789abcdef0', ConnectionState: 'CONNECTED', Hsms: members.map((m) => ({ TokenSerial: null, TokenLabel: null, SessionHeld: true, ...m })) };
}

const COMPLETE: HsmTrust = { MemberKey: true, TrustedBy: [], MissingTrustFrom: [], Certificates: true, Status: 'COMPLETE' };

function cluster(trust: Record<string, Partial<HsmTrust>>): ClusterInfo {
  return { Hsms: Object.entries(trust).map(([HsmId, t]) => ({ HsmId, Trust: { ...COMPLETE, ...t } })) } as unknown as ClusterInfo;
}

describe('the key creation pre-flight', () => {
  it('counts a member with a session, or none yet and no failure (the stored password logs in), when its trust is complete', () => {
    const rows = memberReadiness(connection([{ HsmId: 'hsm-a' }, { HsmId: 'hsm-b', SessionHeld: false }]), cluster({ 'hsm-a': {}, 'hsm-b': {} }));
    expect(rows.map((r) => r.counts)).toEqual([true, true]);
    expect(rows[1]?.reason).toMatch(/stored kmsuser password/);
    expect(readinessVerdict(rows)).toEqual({ ready: true, message: expect.stringMatching(/^2 of 2 HSMs are active/) });
  });

  it('blocks below two active members and says which do not count and why', () => {
    const rows = memberReadiness(
      connection([{ HsmId: 'hsm-a' }, { HsmId: 'hsm-b', SessionHeld: false, ConnectionErrorCode: 'HSM_UNREACHABLE' as never, Detail: 'CKR_TOKEN_NOT_PRESENT' }, { HsmId: 'hsm-c' }]),
      cluster({ 'hsm-a': {}, 'hsm-b': {}, 'hsm-c': { MissingTrustFrom: ['hsm-a'], Status: 'INCOMPLETE' } }),
    );
    expect(rows.map((r) => r.counts)).toEqual([true, false, false]);
    expect(rows[1]?.reason).toBe('No kmsuser session: HSM_UNREACHABLE (CKR_TOKEN_NOT_PRESENT).');
    expect(rows[2]?.reason).toBe('Its member key is not trusted by hsm-a.');
    const verdict = readinessVerdict(rows);
    expect(verdict.ready).toBe(false);
    expect(verdict.message).toMatch(/^1 of 3 HSMs is active; a key needs at least 2/);
    expect(verdict.message).toMatch(/Fix the HSMs marked Not active, then check again\.$/);
    expect(readinessVerdict(rows.slice(0, 1)).message).toMatch(/^1 of 1 HSMs is active; .* Add an HSM to the cluster first\.$/);
  });

  it('names a member without its member key or certificates', () => {
    const rows = memberReadiness(connection([{ HsmId: 'hsm-a' }, { HsmId: 'hsm-b' }]), cluster({ 'hsm-a': { MemberKey: false }, 'hsm-b': { Certificates: false, Status: 'INCOMPLETE' } }));
    expect(rows.map((r) => r.reason)).toEqual(['Its member key pair is not made, so no copy of the key can reach it.', 'Its token lacks the cluster certificates.']);
  });
});

describe('the key creation tags', () => {
  it('drops blank rows, trims keys, and refuses what CreateKey would refuse', () => {
    expect(tagsFromRows([{ key: ' Project ', value: 'x' }, { key: '', value: '' }])).toEqual({ tags: [{ TagKey: 'Project', TagValue: 'x' }], problem: null });
    expect(tagsFromRows([{ key: '', value: 'orphan' }]).problem).toBe('TagKey is 1 to 128 characters');
    expect(tagsFromRows([{ key: 'k', value: 'v'.repeat(257) }]).problem).toBe('TagValue is 0 to 256 characters');
    expect(tagsFromRows([{ key: 'k', value: '1' }, { key: 'k', value: '2' }]).problem).toBe('The tag key k is given twice.');
  });
});

describe('the key creation progress', () => {
  it('folds the events per HSM, in the order they are first named, and keeps the key’s own phase apart', () => {
    const events = [
      { Phase: 'RecordIntent', Status: 'DONE' },
      { Phase: 'GenerateKey', HsmId: 'hsm-a', Status: 'DONE' },
      { Phase: 'CopyKey', HsmId: 'hsm-b', Status: 'STARTED' },
    ] as const;
    expect(progressByHsm(events)).toEqual([
      { HsmId: 'hsm-a', text: 'Key generated here', done: false },
      { HsmId: 'hsm-b', text: 'Copying the key (wrapped for this HSM)…', done: false },
    ]);
    expect(progressByHsm([...events, { Phase: 'VerifyCopy', HsmId: 'hsm-a', Status: 'DONE' }])[0]).toEqual({ HsmId: 'hsm-a', text: 'Check value computed', done: true });
    expect(keyPhase(events)).toBe('Intent recorded');
    expect(keyPhase([])).toBeNull();
  });
});
