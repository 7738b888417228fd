import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestOf } from '../../shared/contract/operations';
import type { Result } from '../../shared/errors';
import type { WorkbenchState } from '../../main/state/state-store';
import { createSoftHsmCluster, type SoftHsmCluster } from '../fixtures/softhsm';
import { ok } from '../fixtures/outcomes';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';

describe('clusters on real SoftHSM2 tokens', () => {
  let hsm: SoftHsmCluster;
  let wb: TestWorkbench;

  beforeAll(async () => {
    hsm = await createSoftHsmCluster({ tokens: 2, userPin: 'kmsuser-pass-1', labelPrefix: 'clu' });
    wb = await createTestWorkbench();
  });
  afterAll(async () => {
    await wb?.dispose();
    await hsm?.cleanup();
  });

  const createRequest = (name: string, serials: string[]): RequestOf<'CreateCluster'> => ({
    ClusterName: name,
    ModulePath: hsm.modulePath,
    ModuleEnvironment: hsm.env,
    Hsms: serials.map((TokenSerial) => ({ TokenSerial })),
  });

  it('creates a cluster whose members are the chosen tokens, and lists and describes it', async () => {
    const { Cluster } = ok(await wb.call('CreateCluster', createRequest('alpha', hsm.tokens.map((t) => t.serial))));
    expect(Cluster.ClusterId).toMatch(/^cluster-[2-7a-zA-Z]{11}$/);
    expect(Cluster.Hsms.map((h) => [h.TokenSerial, h.TokenLabel])).toEqual(hsm.tokens.map((t) => [t.serial, t.label]));
    expect(Cluster.Hsms.every((h) => /^hsm-[2-7a-zA-Z]{11}$/.test(h.HsmId))).toBe(true);

    const listed = ok(await wb.call('DescribeClusters', {}));
    expect(listed.Clusters.map((c) => c.ClusterId)).toContain(Cluster.ClusterId);
    const described = ok(await wb.call('DescribeClusters', { ClusterIds: [Cluster.ClusterId] }));
    expect(described.Clusters[0]).toEqual(Cluster);

    const records = await wb.auditRecords();
    const created = records.filter((r) => r.eventName === 'CreateCluster' && !r.errorCode);
    expect(created.map((r) => (r.additionalEventData as { auditPhase: string }).auditPhase)).toEqual(['Started', 'Completed']);
    expect(created[1]?.responseElements).toMatchObject({ Cluster: { ClusterId: Cluster.ClusterId } });
  });

  it('chooses a member by label too', async () => {
    const first = hsm.tokens[0];
    if (!first) throw new Error('fixture has no token');
    const { Cluster } = ok(await wb.call('CreateCluster', { ...createRequest('by-label', []), Hsms: [{ TokenLabel: first.label }] }));
    expect(Cluster.Hsms[0]?.TokenSerial).toBe(first.serial);
  });

  describe('bad input is refused with a named error, no state change, and an audit record', () => {
    async function expectRefused(
      call: () => Promise<Result<unknown>>,
      name: string,
      messagePart: RegExp,
    ): Promise<void> {
      const stateBefore = await wb.stateText();
      const auditBefore = (await wb.auditRecords()).length;
      const result = await call();
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.error.name).toBe(name);
      expect(result.error.message).toMatch(messagePart);
      expect(await wb.stateText()).toBe(stateBefore);
      // One refusal record, preceded by its Started record when the request got as far as the handler.
      const added = (await wb.auditRecords()).slice(auditBefore);
      expect(added.length).toBeGreaterThanOrEqual(1);
      expect(added.length).toBeLessThanOrEqual(2);
      expect(new Set(added.map((r) => r.requestID)).size).toBe(1);
      expect(added.at(-1)?.errorCode).toMatch(new RegExp(`^${name}`));
    }

    it('duplicate cluster name', async () => {
      await expectRefused(() => wb.call('CreateCluster', createRequest('ALPHA', [hsm.tokens[0]?.serial ?? ''])), 'ClusterNameInUseException', /already exists/);
    });

    it('token chosen twice (same serial)', async () => {
      const serial = hsm.tokens[0]?.serial ?? '';
      await expectRefused(() => wb.call('CreateCluster', createRequest('twice', [serial, serial])), 'ValidationException', /chosen twice/);
    });

    it('token chosen twice (once by serial, once by label)', async () => {
      const t = hsm.tokens[0];
      if (!t) throw new Error('fixture has no token');
      await expectRefused(
        () => wb.call('CreateCluster', { ...createRequest('twice-2', [t.serial]), Hsms: [{ TokenSerial: t.serial }, { TokenLabel: t.label }] }),
        'ValidationException',
        /chosen twice/,
      );
    });

    it('a token that is not there', async () => {
      await expectRefused(() => wb.call('CreateCluster', createRequest('ghost', ['0000000000000000'])), 'TokenNotFoundException', /Tokens present/);
    });

    it('a module path that does not exist', async () => {
      await expectRefused(
        () => wb.call('CreateCluster', { ...createRequest('nomodule', [hsm.tokens[0]?.serial ?? '']), ModulePath: '/nonexistent/libpkcs11.so' }),
        'Pkcs11ModuleLoadException',
        /\/nonexistent\/libpkcs11\.so/,
      );
    });

    it('a file that is not a PKCS#11 module', async () => {
      await expectRefused(
        () => wb.call('CreateCluster', { ...createRequest('notmodule', [hsm.tokens[0]?.serial ?? '']), ModulePath: '/bin/ls' }),
        'Pkcs11ModuleLoadException',
        /\/bin\/ls/,
      );
    });

    it('an unknown cluster id', async () => {
      await expectRefused(() => wb.call('DeleteCluster', { ClusterId: 'cluster-aaaaaaaaaaa' }), 'CloudHsmClusterNotFoundException', /cluster-aaaaaaaaaaa/);
      await expectRefused(() => wb.call('DescribeClusters', { ClusterIds: ['cluster-aaaaaaaaaaa'] }), 'CloudHsmClusterNotFoundException', /cluster-aaaaaaaaaaa/);
    });

    it('garbage payloads', async () => {
      await expectRefused(() => wb.call('CreateCluster', 'DROP TABLE' as never), 'ValidationException', /not valid/);
      await expectRefused(() => wb.call('CreateCluster', { ClusterName: 42, Hsms: 'x' } as never), 'ValidationException', /ClusterName/);
      await expectRefused(() => wb.call('DeleteCluster', { ClusterId: '../../etc/passwd' }), 'ValidationException', /ClusterId/);
      await expectRefused(() => wb.core.dispatch('FormatAllTokens', {}, { callId: 'x' }), 'UnknownOperationException', /FormatAllTokens/);
    });
  });

  it('deletes a cluster, and refuses while a key store uses it', async () => {
    const { Cluster } = ok(await wb.call('CreateCluster', createRequest('to-delete', [hsm.tokens[1]?.serial ?? ''])));
    const associate = (keyStoreId: string | null) => (s: WorkbenchState): void => {
      const c = s.clusters.find((x) => x.ClusterId === Cluster.ClusterId);
      if (c) c.CustomKeyStoreId = keyStoreId;
    };
    // Key stores arrive in a later issue; associate one the way that issue will, in the state file.
    await wb.editState(associate('cks-0123456789abcdef0'));
    const stateBefore = await wb.stateText();
    const auditBefore = (await wb.auditRecords()).length;
    const refused = await wb.call('DeleteCluster', { ClusterId: Cluster.ClusterId });
    expect(refused.ok ? 'ok' : refused.error.name).toBe('CloudHsmClusterInUseException');
    expect(refused.ok ? '' : refused.error.message).toMatch(/cks-0123456789abcdef0/);
    expect(await wb.stateText()).toBe(stateBefore);
    expect((await wb.auditRecords()).slice(auditBefore).at(-1)?.errorCode).toBe('CloudHsmClusterInUseException');

    await wb.editState(associate(null));
    ok(await wb.call('DeleteCluster', { ClusterId: Cluster.ClusterId }));
    expect(ok(await wb.call('DescribeClusters', {})).Clusters.map((c) => c.ClusterId)).not.toContain(Cluster.ClusterId);
  });
});
