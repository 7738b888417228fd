import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWorkbenchApi, type OperationName, type Result, type WorkbenchTransport } from '../../../shared/index';
import { useClusterChecksStore } from './cluster-checks-store';

const PASSWORD = 'kmsuser-secret-77';

// A unit-level transport standing in for the preload; it records what crossed the boundary.
function recordingTransport(sent: Array<{ operation: OperationName; request: unknown }>): WorkbenchTransport {
  return {
    async invoke(operation, request): Promise<Result<unknown>> {
      sent.push({ operation, request });
      return { ok: false, error: { name: 'OperationCancelledException', message: 'stopped by the test' } };
    },
    onProgress: () => () => undefined,
  };
}

describe('the kmsuser password in the renderer', () => {
  const sent: Array<{ operation: OperationName; request: unknown }> = [];
  let pinia = createPinia();

  beforeEach(() => {
    sent.length = 0;
    pinia = createPinia();
    setActivePinia(pinia);
    Object.assign(globalThis, { window: { workbench: createWorkbenchApi(recordingTransport(sent)) } });
  });

  afterEach(() => {
    Reflect.deleteProperty(globalThis, 'window');
  });

  it('goes into the CheckCluster request and nowhere in Pinia state', async () => {
    const store = useClusterChecksStore();
    await store.run('cluster-abcdefghijk', PASSWORD);
    expect(sent).toEqual([{ operation: 'CheckCluster', request: { ClusterId: 'cluster-abcdefghijk', KmsuserPassword: PASSWORD } }]);
    expect(JSON.stringify(pinia.state.value)).not.toContain(PASSWORD);
    expect(store.error?.name).toBe('OperationCancelledException');
  });

  it('is left out of the request when the admin gave none', async () => {
    await useClusterChecksStore().run('cluster-abcdefghijk', undefined);
    expect(sent[0]?.request).toEqual({ ClusterId: 'cluster-abcdefghijk' });
  });
});
