import type { ParsedRequestOf, ResponseOf } from '../../shared/contract/operations';
import { MAX_TAGS, type Tag } from '../../shared/contract/keys';
import { WorkbenchError } from '../../shared/errors';
import type { CmkRecord } from '../state/records';
import { refuseSettling } from './key-lifecycle';
import { resolveKey } from './key-resolution';
import type { KeysDeps } from './keys-deps';
import { byName, markerAfter, pageAfter } from './pagination';

const LIST_TAGS_DEFAULT_LIMIT = 50;
const tagKeyOf = (tag: Tag): string => tag.TagKey;

const isReserved = (tagKey: string): boolean => tagKey.toLowerCase().startsWith('aws:');

export interface TagService {
  /** Each returns the key as it now is, for the handler's StateChanged. */
  tag(request: ParsedRequestOf<'TagResource'>): Promise<CmkRecord>;
  untag(request: ParsedRequestOf<'UntagResource'>): Promise<CmkRecord>;
  list(request: ParsedRequestOf<'ListResourceTags'>): Promise<ResponseOf<'ListResourceTags'>>;
}

/**
 * What AWS checks of tags beyond their lengths (the contract's): the `aws:` prefix is reserved for AWS, a key
 * appears once in one request, and a key holds at most MAX_TAGS. Called before anything is written.
 */
export function checkTags(tags: readonly Tag[], existing: readonly Tag[] = []): void {
  const reserved = tags.find((t) => isReserved(t.TagKey));
  if (reserved) throw new WorkbenchError('TagException', `Tags beginning with aws: are reserved (${reserved.TagKey}).`);
  const keys = tags.map((t) => t.TagKey);
  const repeated = keys.find((k, i) => keys.indexOf(k) !== i);
  if (repeated !== undefined) throw new WorkbenchError('TagException', `The tag key ${repeated} appears more than once in the request.`);
  const total = new Set([...existing.map((t) => t.TagKey), ...keys]).size;
  if (total > MAX_TAGS) throw new WorkbenchError('LimitExceededException', `A KMS key can have at most ${MAX_TAGS} tags; this would make ${total}.`);
}

/**
 * TagResource, UntagResource and ListResourceTags on a key named by id, ARN or alias. Tags live in the CMK
 * record; a change is one short transaction. TagResource merges (a key already there takes the new value) and
 * UntagResource ignores keys the key does not have, as AWS does; both refuse a key pending deletion (AWS's
 * key-state matrix) or still being created, whose record its creation still owns.
 */
export function createTagService(deps: KeysDeps): TagService {
  const { state, partition } = deps;

  function change(keyId: string, apply: (key: CmkRecord) => void): Promise<CmkRecord> {
    return state.transact((s) => {
      const key = resolveKey(s, keyId, partition);
      const refusal = refuseSettling(key);
      if (refusal !== undefined) throw refusal;
      apply(key);
      s.keys.put(key);
      return key;
    });
  }

  return {
    tag(request) {
      const given = new Set(request.Tags.map(tagKeyOf));
      return change(request.KeyId, (key) => {
        checkTags(request.Tags, key.Tags);
        key.Tags = [...key.Tags.filter((t) => !given.has(t.TagKey)), ...request.Tags];
      });
    },

    untag(request) {
      const removed = new Set(request.TagKeys);
      return change(request.KeyId, (key) => {
        const reserved = request.TagKeys.find(isReserved);
        if (reserved !== undefined) throw new WorkbenchError('TagException', `Tags beginning with aws: are reserved (${reserved}): they cannot be removed.`);
        key.Tags = key.Tags.filter((t) => !removed.has(t.TagKey));
      });
    },

    async list(request) {
      const after = markerAfter(request.Marker, 'ListResourceTags', /^.{1,128}$/su);
      const key = resolveKey(await state.read(), request.KeyId, partition);
      const { page, ...rest } = pageAfter([...key.Tags].sort(byName(tagKeyOf)), tagKeyOf, after, request.Limit ?? LIST_TAGS_DEFAULT_LIMIT);
      return { Tags: page, ...rest };
    },
  };
}
