import type { OperationHandlers } from '../core/dispatcher';
import { createKeyCreationService } from './key-creation';
import type { KeysDeps } from './keys-deps';

export function keyCreationHandlers(deps: KeysDeps): Pick<OperationHandlers, 'CreateKey' | 'DescribeKeyMaterial'> {
  const creation = createKeyCreationService(deps);
  return {
    CreateKey: async (request, context) => ({ KeyMetadata: await creation.create(request, context) }),
    DescribeKeyMaterial: async (request) => creation.describeMaterial(request.KeyId),
  };
}
