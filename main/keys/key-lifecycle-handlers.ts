import type { OperationHandlers } from '../core/dispatcher';
import type { DeletionExecutor } from './deletion-executor';
import { createKeyLifecycleService, keyAuditFacts } from './key-lifecycle';
import type { KeysDeps } from './keys-deps';

type LifecycleOperation =
  | 'DescribeKey'
  | 'ListKeys'
  | 'DescribeKeys'
  | 'EnableKey'
  | 'DisableKey'
  | 'ScheduleKeyDeletion'
  | 'CancelKeyDeletion'
  | 'RunDeletions'
  | 'EnableKeyRotation'
  | 'GetParametersForImport'
  | 'ImportKeyMaterial';

const NO_ROTATION =
  'Automatic key rotation is not supported for KMS keys in a custom key store: their key material is generated in the HSMs of the cluster and never replaced. Create a new key and move the alias to it instead.';
const NO_IMPORT = 'KMS keys in a custom key store (Origin AWS_CLOUDHSM) cannot have imported key material: their key material is generated in the HSMs of the cluster.';

/** The lifecycle operations; the deletion executor is the core's one instance, shared with its start-up and periodic runs. */
export function keyLifecycleHandlers(deps: KeysDeps, executor: DeletionExecutor): Pick<OperationHandlers, LifecycleOperation> {
  const keys = createKeyLifecycleService(deps);
  return {
    DescribeKey: async (request) => ({ KeyMetadata: await keys.describe(request.KeyId) }),
    ListKeys: async (request) => keys.list(request),
    DescribeKeys: async (request) => keys.describeAll(request),
    EnableKey: async (request) => {
      const key = await keys.enable(request.KeyId);
      deps.changed('keys', [key.KeyId]);
      return {};
    },
    DisableKey: async (request) => {
      const key = await keys.disable(request.KeyId);
      deps.changed('keys', [key.KeyId]);
      return {};
    },
    ScheduleKeyDeletion: async (request, context) => {
      const { key, response } = await keys.scheduleDeletion(request);
      context.annotate({ ...keyAuditFacts(key) });
      deps.changed('keys', [key.KeyId]);
      return response;
    },
    CancelKeyDeletion: async (request) => {
      const key = await keys.cancelDeletion(request.KeyId);
      deps.changed('keys', [key.KeyId]);
      return { KeyId: key.Arn };
    },
    // TODO(issue 7, create): run the creation reconciler first once h-create exports it.
    RunDeletions: async () => ({ Deleted: await executor.runDueDeletions() }),
    EnableKeyRotation: async (request) => keys.refuseUnsupported(request.KeyId, NO_ROTATION),
    GetParametersForImport: async (request) => keys.refuseUnsupported(request.KeyId, NO_IMPORT),
    ImportKeyMaterial: async (request) => keys.refuseUnsupported(request.KeyId, NO_IMPORT),
  };
}
