import { MAX_TAGS, type Tag } from '../../shared/contract/keys';
import { WorkbenchError } from '../../shared/errors';

/**
 * What AWS checks of tags beyond their lengths (the contract's): the `aws:` prefix is reserved for AWS, a key
 * appears once in one request, and a key holds at most MAX_TAGS. Called before anything is written.
 */
export function checkTags(tags: readonly Tag[], existing: readonly Tag[] = []): void {
  const reserved = tags.find((t) => t.TagKey.toLowerCase().startsWith('aws:'));
  if (reserved) throw new WorkbenchError('TagException', `Tags beginning with aws: are reserved (${reserved.TagKey}).`);
  const keys = tags.map((t) => t.TagKey);
  const repeated = keys.find((k, i) => keys.indexOf(k) !== i);
  if (repeated !== undefined) throw new WorkbenchError('TagException', `The tag key ${repeated} appears more than once in the request.`);
  const total = new Set([...existing.map((t) => t.TagKey), ...keys]).size;
  if (total > MAX_TAGS) throw new WorkbenchError('LimitExceededException', `A KMS key can have at most ${MAX_TAGS} tags; this would make ${total}.`);
}
