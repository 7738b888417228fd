import { WorkbenchError } from '../../shared/errors';
import type { OperationHandlers } from '../core/dispatcher';
import type { KeysDeps } from './keys-deps';

// Placeholder while issue 7 is built: every handler here is replaced by its service.
const notYet = (name: string) => async (): Promise<never> => {
  throw new WorkbenchError('KMSInternalException', `${name} is not built yet.`);
};

export function keyCreationHandlers(_deps: KeysDeps): Pick<OperationHandlers, 'CreateKey' | 'DescribeKeyMaterial'> {
  return {
    CreateKey: notYet('CreateKey'),
    DescribeKeyMaterial: notYet('DescribeKeyMaterial'),
  };
}
