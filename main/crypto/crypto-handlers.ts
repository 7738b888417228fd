import { WorkbenchError } from '../../shared/errors';
import type { OperationHandlers } from '../core/dispatcher';
import type { KeysDeps } from '../keys/keys-deps';

// Placeholder while issue 7 is built: every handler here is replaced by its service.
const notYet = (name: string) => async (): Promise<never> => {
  throw new WorkbenchError('KMSInternalException', `${name} is not built yet.`);
};

export function cryptoHandlers(_deps: KeysDeps): Pick<OperationHandlers, 'Encrypt' | 'Decrypt' | 'ReEncrypt' | 'GenerateDataKey' | 'GenerateDataKeyWithoutPlaintext' | 'GenerateRandom'> {
  return {
    Encrypt: notYet('Encrypt'),
    Decrypt: notYet('Decrypt'),
    ReEncrypt: notYet('ReEncrypt'),
    GenerateDataKey: notYet('GenerateDataKey'),
    GenerateDataKeyWithoutPlaintext: notYet('GenerateDataKeyWithoutPlaintext'),
    GenerateRandom: notYet('GenerateRandom'),
  };
}
