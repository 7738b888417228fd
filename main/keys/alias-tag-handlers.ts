import { WorkbenchError } from '../../shared/errors';
import type { OperationHandlers } from '../core/dispatcher';
import type { KeysDeps } from './keys-deps';

// Placeholder while issue 7 is built: every handler here is replaced by its service.
const notYet = (name: string) => async (): Promise<never> => {
  throw new WorkbenchError('KMSInternalException', `${name} is not built yet.`);
};

export function aliasTagHandlers(_deps: KeysDeps): Pick<OperationHandlers, 'CreateAlias' | 'UpdateAlias' | 'DeleteAlias' | 'ListAliases' | 'TagResource' | 'UntagResource' | 'ListResourceTags'> {
  return {
    CreateAlias: notYet('CreateAlias'),
    UpdateAlias: notYet('UpdateAlias'),
    DeleteAlias: notYet('DeleteAlias'),
    ListAliases: notYet('ListAliases'),
    TagResource: notYet('TagResource'),
    UntagResource: notYet('UntagResource'),
    ListResourceTags: notYet('ListResourceTags'),
  };
}
