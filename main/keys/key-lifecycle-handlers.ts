import { WorkbenchError } from '../../shared/errors';
import type { OperationHandlers } from '../core/dispatcher';
import type { KeysDeps } from './keys-deps';

// Placeholder while issue 7 is built: every handler here is replaced by its service.
const notYet = (name: string) => async (): Promise<never> => {
  throw new WorkbenchError('KMSInternalException', `${name} is not built yet.`);
};

export function keyLifecycleHandlers(_deps: KeysDeps): Pick<OperationHandlers, 'DescribeKey' | 'ListKeys' | 'DescribeKeys' | 'EnableKey' | 'DisableKey' | 'ScheduleKeyDeletion' | 'CancelKeyDeletion' | 'RunDeletions' | 'EnableKeyRotation' | 'GetParametersForImport' | 'ImportKeyMaterial'> {
  return {
    DescribeKey: notYet('DescribeKey'),
    ListKeys: notYet('ListKeys'),
    DescribeKeys: notYet('DescribeKeys'),
    EnableKey: notYet('EnableKey'),
    DisableKey: notYet('DisableKey'),
    ScheduleKeyDeletion: notYet('ScheduleKeyDeletion'),
    CancelKeyDeletion: notYet('CancelKeyDeletion'),
    RunDeletions: notYet('RunDeletions'),
    EnableKeyRotation: notYet('EnableKeyRotation'),
    GetParametersForImport: notYet('GetParametersForImport'),
    ImportKeyMaterial: notYet('ImportKeyMaterial'),
  };
}
