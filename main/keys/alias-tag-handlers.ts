import type { OperationHandlers } from '../core/dispatcher';
import { createAliasService } from './aliases';
import type { KeysDeps } from './keys-deps';
import { createTagService } from './tags';

type AliasTagOperation = 'CreateAlias' | 'UpdateAlias' | 'DeleteAlias' | 'ListAliases' | 'TagResource' | 'UntagResource' | 'ListResourceTags';

/** Aliases and tags: state only, no HSM; each change says StateChanged once committed. */
export function aliasTagHandlers(deps: KeysDeps): Pick<OperationHandlers, AliasTagOperation> {
  const aliases = createAliasService(deps);
  const tags = createTagService(deps);
  return {
    CreateAlias: async (request) => {
      const alias = await aliases.create(request);
      deps.changed('aliases', [alias.AliasName]);
      return {};
    },
    UpdateAlias: async (request) => {
      const alias = await aliases.update(request);
      deps.changed('aliases', [alias.AliasName]);
      return {};
    },
    DeleteAlias: async (request) => {
      const alias = await aliases.delete(request.AliasName);
      deps.changed('aliases', [alias.AliasName]);
      return {};
    },
    ListAliases: async (request) => aliases.list(request),
    TagResource: async (request) => {
      const key = await tags.tag(request);
      deps.changed('keys', [key.KeyId]);
      return {};
    },
    UntagResource: async (request) => {
      const key = await tags.untag(request);
      deps.changed('keys', [key.KeyId]);
      return {};
    },
    ListResourceTags: async (request) => tags.list(request),
  };
}
