import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tag } from '../../shared/contract/keys';
import { aliasArn, LOCAL_PARTITION } from '../../main/keys/arn';
import { openStateStore } from '../../main/state/state-store';
import { recordOnlyStore, refusedUnchanged, type RecordOnlyStore } from '../fixtures/cmk';
import { ok } from '../fixtures/outcomes';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';

/**
 * Tags as AWS has them: TagResource merges, UntagResource ignores absent keys, ListResourceTags pages; the key
 * named by id, ARN, alias name or alias ARN; AWS's limits (key 1–128, value 0–256, 50 a key, `aws:` reserved)
 * and the key-state matrix. The keys are CMK records on a DISCONNECTED store's record: no HSM holds a tag.
 */

let wb: TestWorkbench;
let store: RecordOnlyStore;

async function tagsOf(keyId: string, limit?: number): Promise<Tag[]> {
  const tags: Tag[] = [];
  let marker: string | undefined;
  do {
    const page = ok(await wb.call('ListResourceTags', { KeyId: keyId, ...(limit === undefined ? {} : { Limit: limit }), ...(marker === undefined ? {} : { Marker: marker }) }));
    tags.push(...page.Tags);
    marker = page.NextMarker;
    expect(page.Truncated).toBe(marker !== undefined);
  } while (marker !== undefined);
  return tags;
}

const manyTags = (n: number, prefix = 't'): Tag[] => Array.from({ length: n }, (_, i) => ({ TagKey: `${prefix}-${String(i).padStart(2, '0')}`, TagValue: `v${i}` }));

beforeAll(async () => {
  wb = await createTestWorkbench();
  store = await recordOnlyStore(wb, 'cks-7a650000000000000');
});

afterAll(async () => {
  await wb?.dispose();
});

describe('TagResource and UntagResource', () => {
  it('merge tags (a key given again takes the new value) on a key named by id, ARN, alias or alias ARN, as ListResourceTags shows', async () => {
    const key = await store.putKey();
    await wb.editState((s) => s.aliases.put({ AliasName: 'alias/tagged', TargetKeyId: key.KeyId, CreationDate: key.CreationDate, LastUpdatedDate: key.CreationDate }));
    const events: unknown[] = [];
    const stop = wb.core.onEvent((event) => events.push(event));
    expect(ok(await wb.call('TagResource', { KeyId: key.KeyId, Tags: [{ TagKey: 'Purpose', TagValue: 'Test' }, { TagKey: 'Dept', TagValue: 'IT' }] }))).toEqual({});
    stop();
    expect(events).toEqual([{ name: 'StateChanged', payload: { Resource: 'keys', Ids: [key.KeyId] } }]);
    ok(await wb.call('TagResource', { KeyId: key.Arn, Tags: [{ TagKey: 'Dept', TagValue: 'Finance' }] }));
    ok(await wb.call('TagResource', { KeyId: 'alias/tagged', Tags: [{ TagKey: 'Empty', TagValue: '' }] }));
    ok(await wb.call('TagResource', { KeyId: aliasArn(LOCAL_PARTITION, 'alias/tagged'), Tags: [{ TagKey: 'ü:ß é+-=._/@', TagValue: 'x'.repeat(256) }] }));
    const expected = [
      { TagKey: 'Dept', TagValue: 'Finance' },
      { TagKey: 'Empty', TagValue: '' },
      { TagKey: 'Purpose', TagValue: 'Test' },
      { TagKey: 'ü:ß é+-=._/@', TagValue: 'x'.repeat(256) },
    ];
    expect(ok(await wb.call('ListResourceTags', { KeyId: key.KeyId }))).toEqual({ Tags: expected, Truncated: false });
    expect(ok(await wb.call('ListResourceTags', { KeyId: 'alias/tagged' })).Tags).toEqual(expected);

    ok(await wb.call('UntagResource', { KeyId: 'alias/tagged', TagKeys: ['Dept', 'NotThere'] }));
    expect((await tagsOf(key.Arn)).map((t) => t.TagKey)).toEqual(['Empty', 'Purpose', 'ü:ß é+-=._/@']);
    // Tags live in the CMK record, where CreateKey's Tags go too.
    expect((await (await openStateStore({ stateDir: wb.stateDir, program: 'test' })).read()).keys.get(key.KeyId)?.Tags.map((t) => t.TagKey)).toEqual(['Purpose', 'Empty', 'ü:ß é+-=._/@']);
  });

  it('refuse the reserved aws: prefix, a key given twice, and lengths outside 1–128 / 0–256', async () => {
    const key = await store.putKey();
    ok(await wb.call('TagResource', { KeyId: key.KeyId, Tags: [{ TagKey: 'keep', TagValue: '1' }] }));
    await refusedUnchanged(wb, () => wb.call('TagResource', { KeyId: key.KeyId, Tags: [{ TagKey: 'aws:created', TagValue: 'x' }] }), 'TagException', 'Tags beginning with aws: are reserved (aws:created).');
    await refusedUnchanged(wb, () => wb.call('TagResource', { KeyId: key.KeyId, Tags: [{ TagKey: 'AWS:x', TagValue: 'x' }] }), 'TagException', /Tags beginning with aws: are reserved/);
    await refusedUnchanged(wb, () => wb.call('UntagResource', { KeyId: key.KeyId, TagKeys: ['aws:created'] }), 'TagException', /Tags beginning with aws: are reserved \(aws:created\): they cannot be removed/);
    await refusedUnchanged(wb, () => wb.call('TagResource', { KeyId: key.KeyId, Tags: [{ TagKey: 'a', TagValue: '1' }, { TagKey: 'a', TagValue: '2' }] }), 'TagException', 'The tag key a appears more than once in the request.');
    await refusedUnchanged(wb, () => wb.call('TagResource', { KeyId: key.KeyId, Tags: [{ TagKey: 'k'.repeat(129), TagValue: '' }] }), 'ValidationException', /TagKey is 1 to 128 characters/);
    await refusedUnchanged(wb, () => wb.call('TagResource', { KeyId: key.KeyId, Tags: [{ TagKey: '', TagValue: '' }] }), 'ValidationException', /TagKey is 1 to 128 characters/);
    await refusedUnchanged(wb, () => wb.call('TagResource', { KeyId: key.KeyId, Tags: [{ TagKey: 'v', TagValue: 'v'.repeat(257) }] }), 'ValidationException', /TagValue is 0 to 256 characters/);
    await refusedUnchanged(wb, () => wb.call('TagResource', { KeyId: key.KeyId, Tags: [] }), 'ValidationException', /Tags needs at least one tag/);
    expect(await tagsOf(key.KeyId)).toEqual([{ TagKey: 'keep', TagValue: '1' }]);
  });

  it('allow 50 tags a key: a request that would make 51 is LimitExceededException, overwriting one of the 50 is not', async () => {
    const key = await store.putKey();
    ok(await wb.call('TagResource', { KeyId: key.KeyId, Tags: manyTags(30) }));
    ok(await wb.call('TagResource', { KeyId: key.KeyId, Tags: manyTags(20, 'u') }));
    await refusedUnchanged(wb, () => wb.call('TagResource', { KeyId: key.KeyId, Tags: [{ TagKey: 'one-more', TagValue: '' }] }), 'LimitExceededException', 'A KMS key can have at most 50 tags; this would make 51.');
    ok(await wb.call('TagResource', { KeyId: key.KeyId, Tags: [{ TagKey: 't-00', TagValue: 'new' }] }));
    await refusedUnchanged(wb, () => wb.call('TagResource', { KeyId: key.KeyId, Tags: manyTags(51, 'w') }), 'ValidationException', /at most 50 tags/);
    const tags = await tagsOf(key.KeyId);
    expect(tags).toHaveLength(50);
    expect(tags.find((t) => t.TagKey === 't-00')?.TagValue).toBe('new');
  });

  it("refuse a key pending deletion or being created (KMSInvalidStateException) and accept a disabled one, as AWS's key-state matrix says", async () => {
    const pending = await store.putKey((k) => {
      k.KeyState = 'PendingDeletion';
      k.DeletionDate = new Date(Date.now() + 7 * 86_400_000).toISOString();
      k.Tags = [{ TagKey: 'old', TagValue: '1' }];
    });
    await refusedUnchanged(wb, () => wb.call('TagResource', { KeyId: pending.KeyId, Tags: [{ TagKey: 'x', TagValue: '' }] }), 'KMSInvalidStateException', `${pending.Arn} is pending deletion.`);
    await refusedUnchanged(wb, () => wb.call('UntagResource', { KeyId: pending.KeyId, TagKeys: ['old'] }), 'KMSInvalidStateException', `${pending.Arn} is pending deletion.`);
    // Reading is allowed in every state.
    expect(await tagsOf(pending.KeyId)).toEqual([{ TagKey: 'old', TagValue: '1' }]);
    const creating = await store.putKey((k) => (k.KeyState = 'Creating'));
    await refusedUnchanged(wb, () => wb.call('TagResource', { KeyId: creating.KeyId, Tags: [{ TagKey: 'x', TagValue: '' }] }), 'KMSInvalidStateException', /is being created/);
    const disabled = await store.putKey((k) => (k.KeyState = 'Disabled'));
    ok(await wb.call('TagResource', { KeyId: disabled.KeyId, Tags: [{ TagKey: 'x', TagValue: '' }] }));
    expect(await tagsOf(disabled.KeyId)).toEqual([{ TagKey: 'x', TagValue: '' }]);
  });

  it('answer NotFoundException for a key that is not there and InvalidArnException for an ARN that is not a KMS one', async () => {
    for (const keyId of [randomUUID(), 'alias/none', `arn:aws:kms:local-1:999999999999:key/${randomUUID()}`]) {
      await refusedUnchanged(wb, () => wb.call('TagResource', { KeyId: keyId, Tags: [{ TagKey: 'x', TagValue: '' }] }), 'NotFoundException', `Key '${keyId}' does not exist.`);
      await refusedUnchanged(wb, () => wb.call('UntagResource', { KeyId: keyId, TagKeys: ['x'] }), 'NotFoundException', /does not exist/);
      await refusedUnchanged(wb, () => wb.call('ListResourceTags', { KeyId: keyId }), 'NotFoundException', /does not exist/);
    }
    await refusedUnchanged(wb, () => wb.call('TagResource', { KeyId: 'arn:aws:iam::111122223333:role/x', Tags: [{ TagKey: 'x', TagValue: '' }] }), 'InvalidArnException', /not a valid KMS key or alias ARN/);
  });
});

describe('ListResourceTags', () => {
  it('pages in TagKey order with Limit (1–50, default 50) and Marker', async () => {
    const key = await store.putKey();
    ok(await wb.call('TagResource', { KeyId: key.KeyId, Tags: [...manyTags(45)].reverse() }));
    const first = ok(await wb.call('ListResourceTags', { KeyId: key.KeyId, Limit: 10 }));
    expect(first.Tags.map((t) => t.TagKey)).toEqual(manyTags(10).map((t) => t.TagKey));
    expect(first.Truncated).toBe(true);
    expect(await tagsOf(key.KeyId, 7)).toEqual(manyTags(45));
    expect(ok(await wb.call('ListResourceTags', { KeyId: key.KeyId })).Tags).toHaveLength(45);
    await refusedUnchanged(wb, () => wb.call('ListResourceTags', { KeyId: key.KeyId, Limit: 51 }), 'ValidationException', /Limit is 1 to 50/);
    await refusedUnchanged(wb, () => wb.call('ListResourceTags', { KeyId: key.KeyId, Marker: 'zzz' }), 'InvalidMarkerException', 'The Marker is not one a previous ListResourceTags returned. Start again without it.');
  });
});
