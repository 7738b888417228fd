import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWorkbenchApi, type OperationName, type Result } from '../../../shared/index';
import { createPushRouter } from '../../../shared/push-router';
import { useWorkbenchStore } from './workbench-store';

describe('the workbench store: where secrets are kept', () => {
  const asked: OperationName[] = [];
  let answer: Result<unknown>;

  beforeEach(() => {
    setActivePinia(createPinia());
    asked.length = 0;
    answer = { ok: true, value: { Protector: 'key-file', Protected: false, Description: 'a key file beside the state' } };
    const invoke = async (operation: OperationName): Promise<Result<unknown>> => {
      asked.push(operation);
      return answer;
    };
    const router = createPushRouter();
    Object.assign(globalThis, { window: { workbench: createWorkbenchApi({ invoke, onProgress: router.onProgress, onEvent: router.onEvent }) } });
  });

  afterEach(() => {
    Reflect.deleteProperty(globalThis, 'window');
  });

  it('asks main once per window, however many password fields show the answer', async () => {
    const workbench = useWorkbenchStore();
    await Promise.all([workbench.loadSecretStore(), workbench.loadSecretStore()]);
    await workbench.loadSecretStore();
    expect(asked).toEqual(['DescribeSecretStore']);
    expect(workbench.secretStore).toEqual({ Protector: 'key-file', Protected: false, Description: 'a key file beside the state' });
  });

  it('keeps a refusal to show, and asks again next time', async () => {
    answer = { ok: false, error: { name: 'SecretStoreException', message: 'the vault key file is missing' } };
    const workbench = useWorkbenchStore();
    await workbench.loadSecretStore();
    expect(workbench.secretStore).toBeNull();
    expect(workbench.secretStoreError?.name).toBe('SecretStoreException');
    await workbench.loadSecretStore();
    expect(asked).toEqual(['DescribeSecretStore', 'DescribeSecretStore']);
  });
});
