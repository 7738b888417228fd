import { describe, expect, expectTypeOf, it } from 'vitest';
import { createWorkbenchApi, type WorkbenchApi, type WorkbenchTransport } from '../api';
import { ERROR_NAMES, type Result } from '../errors';
import type { ClusterCheckReport, CheckClusterProgress } from './checks';
import type { ClusterInfo } from './clusters';
import { CreateClusterRequest } from './clusters';
import { operations, OPERATION_NAMES, type OperationSpec, type ResponseOf } from './operations';

describe('the contract', () => {
  it('pins the API types derived from the schemas', () => {
    expectTypeOf<ResponseOf<'CreateCluster'>>().toEqualTypeOf<{ Cluster: ClusterInfo }>();
    expectTypeOf<WorkbenchApi['clusters']['check']>().parameter(0).toEqualTypeOf<{ ClusterId: string; KmsuserPassword?: string | undefined }>();
    expectTypeOf<WorkbenchApi['clusters']['check']>().returns.toEqualTypeOf<Promise<Result<{ Report: ClusterCheckReport }>>>();
    expectTypeOf<NonNullable<Parameters<WorkbenchApi['clusters']['check']>[1]>['onProgress']>().toEqualTypeOf<((p: CheckClusterProgress) => void) | undefined>();
  });

  it('declares each operation once, with a unique domain.method and known error names', () => {
    const methods = OPERATION_NAMES.map((n) => `${operations[n].domain}.${operations[n].method}`);
    expect(new Set(methods).size).toBe(methods.length);
    for (const name of OPERATION_NAMES) {
      expect(operations[name].name).toBe(name);
      for (const e of operations[name].errors) expect(ERROR_NAMES).toContain(e);
    }
  });

  it('marks every request field that can hold a secret', () => {
    for (const name of OPERATION_NAMES) {
      const spec: OperationSpec = operations[name];
      const shape = (spec.request as { shape?: Record<string, unknown> }).shape ?? {};
      const secretish = Object.keys(shape).filter((k) => /password|pin|secret/i.test(k));
      expect(spec.secretFields ?? []).toEqual(expect.arrayContaining(secretish));
    }
  });

  it('refuses a token chosen twice', () => {
    const parsed = CreateClusterRequest.safeParse({ ClusterName: 'x', ModulePath: '/m.so', Hsms: [{ TokenSerial: 'a' }, { TokenSerial: 'a' }] });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['Hsms', 1]);
  });

  it('builds window.workbench from the table, routing calls and progress by call id', async () => {
    const seen: Array<[string, unknown, string]> = [];
    let listener: ((p: unknown) => void) | undefined;
    const transport: WorkbenchTransport = {
      invoke: async (operation, request, callId) => {
        seen.push([operation, request, callId]);
        listener?.({ Completed: 1 });
        return { ok: true, value: { echoed: operation } };
      },
      onProgress: (_callId, l) => {
        listener = l;
        return () => (listener = undefined);
      },
    };
    const api = createWorkbenchApi(transport);
    expect(Object.keys(api).sort()).toEqual(['clusters', 'demo', 'events', 'hsm', 'system']);
    const progress: unknown[] = [];
    const result = await api.clusters.check({ ClusterId: 'cluster-aaaaaaaaaaa' }, { callId: 'c1', onProgress: (p) => progress.push(p) });
    expect(result).toEqual({ ok: true, value: { echoed: 'CheckCluster' } });
    expect(seen).toEqual([['CheckCluster', { ClusterId: 'cluster-aaaaaaaaaaa' }, 'c1']]);
    expect(progress).toEqual([{ Completed: 1 }]);
    expect(listener).toBeUndefined();
  });

  it('turns a broken transport into an error result instead of a rejection', async () => {
    const api = createWorkbenchApi({ invoke: () => Promise.reject(new Error('window closed')), onProgress: () => () => undefined });
    const result = await api.system.describe({});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).toMatch(/window closed/);
  });
});
