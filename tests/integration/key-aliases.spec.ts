import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AliasListEntry } from '../../shared/contract/keys';
import { aliasArn, keyArn, LOCAL_PARTITION } from '../../main/keys/arn';
import { recordOnlyStore, refusedUnchanged, type RecordOnlyStore } from '../fixtures/cmk';
import { ok } from '../fixtures/outcomes';
import { createTestWorkbench, type TestWorkbench } from '../fixtures/workbench';

/**
 * Aliases as AWS has them: CreateAlias, UpdateAlias, DeleteAlias and ListAliases with AWS's name rules,
 * exceptions and messages, the key-state matrix (a key pending deletion takes no alias), the 50-alias quota,
 * pagination, names usable wherever a key is named, and a deleted key's aliases going with it. No HSM holds
 * anything of an alias: the keys are CMK records on a DISCONNECTED store's record.
 */

const T0 = new Date('2026-03-01T12:00:00.000Z');
let now = T0;
let wb: TestWorkbench;
let store: RecordOnlyStore;

async function listAll(request: { KeyId?: string; Limit?: number } = {}): Promise<AliasListEntry[]> {
  const entries: AliasListEntry[] = [];
  let marker: string | undefined;
  do {
    const page = ok(await wb.call('ListAliases', { ...request, ...(marker === undefined ? {} : { Marker: marker }) }));
    entries.push(...page.Aliases);
    marker = page.NextMarker;
    expect(page.Truncated).toBe(marker !== undefined);
  } while (marker !== undefined);
  return entries;
}

const aliasNames = async (keyId: string): Promise<string[]> => (await listAll({ KeyId: keyId })).map((a) => a.AliasName);

beforeAll(async () => {
  wb = await createTestWorkbench({ clock: () => now });
  store = await recordOnlyStore(wb, 'cks-a11a5000000000000');
});

afterAll(async () => {
  await wb?.dispose();
});

describe('CreateAlias', () => {
  it('names a key by key id or key ARN; the alias names it wherever a key is named, and ListAliases shows it as AWS does', async () => {
    const key = await store.putKey();
    const events: unknown[] = [];
    const stop = wb.core.onEvent((event) => events.push(event));
    expect(ok(await wb.call('CreateAlias', { AliasName: 'alias/by-id', TargetKeyId: key.KeyId }))).toEqual({});
    stop();
    expect(events).toEqual([{ name: 'StateChanged', payload: { Resource: 'aliases', Ids: ['alias/by-id'] } }]);
    ok(await wb.call('CreateAlias', { AliasName: 'alias/Team:app/by_arn-1', TargetKeyId: key.Arn }));

    expect(await listAll({ KeyId: key.KeyId })).toEqual([
      { AliasName: 'alias/Team:app/by_arn-1', AliasArn: aliasArn(LOCAL_PARTITION, 'alias/Team:app/by_arn-1'), TargetKeyId: key.KeyId, CreationDate: T0.toISOString(), LastUpdatedDate: T0.toISOString() },
      { AliasName: 'alias/by-id', AliasArn: `arn:aws:kms:local-1:111122223333:alias/by-id`, TargetKeyId: key.KeyId, CreationDate: T0.toISOString(), LastUpdatedDate: T0.toISOString() },
    ]);
    for (const name of ['alias/by-id', aliasArn(LOCAL_PARTITION, 'alias/by-id')]) {
      expect(ok(await wb.call('DescribeKey', { KeyId: name })).KeyMetadata.KeyId).toBe(key.KeyId);
      expect(ok(await wb.call('ListResourceTags', { KeyId: name })).Tags).toEqual([]);
    }
  });

  it('refuses a name without the alias/ prefix, outside AWS\'s pattern, with no name, or under alias/aws/: InvalidAliasNameException', async () => {
    const key = await store.putKey();
    await refusedUnchanged(wb, 
      () => wb.call('CreateAlias', { AliasName: 'my-key', TargetKeyId: key.KeyId }),
      'InvalidAliasNameException',
      'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html',
    );
    await refusedUnchanged(wb, 
      () => wb.call('CreateAlias', { AliasName: 'alias/with space', TargetKeyId: key.KeyId }),
      'InvalidAliasNameException',
      `1 validation error detected: Value "alias/with space" at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$`,
    );
    await refusedUnchanged(wb, () => wb.call('CreateAlias', { AliasName: 'alias/é', TargetKeyId: key.KeyId }), 'InvalidAliasNameException', /regular expression pattern/);
    await refusedUnchanged(wb, () => wb.call('CreateAlias', { AliasName: 'alias/', TargetKeyId: key.KeyId }), 'InvalidAliasNameException', /needs a name after the prefix/);
    await refusedUnchanged(wb, () => wb.call('CreateAlias', { AliasName: 'alias/aws/s3', TargetKeyId: key.KeyId }), 'InvalidAliasNameException', 'The alias/aws/ prefix is reserved for Amazon Web Services managed keys.');
    await refusedUnchanged(wb, () => wb.call('CreateAlias', { AliasName: `alias/${'x'.repeat(251)}`, TargetKeyId: key.KeyId }), 'ValidationException', /AliasName is 1 to 256 characters/);
    expect(await aliasNames(key.KeyId)).toEqual([]);
  });

  it('refuses a name in use (AlreadyExistsException), even for the same key', async () => {
    const key = await store.putKey();
    const other = await store.putKey();
    ok(await wb.call('CreateAlias', { AliasName: 'alias/taken', TargetKeyId: key.KeyId }));
    for (const target of [key.KeyId, other.KeyId]) {
      await refusedUnchanged(wb, () => wb.call('CreateAlias', { AliasName: 'alias/taken', TargetKeyId: target }), 'AlreadyExistsException', `An alias with the name ${aliasArn(LOCAL_PARTITION, 'alias/taken')} already exists`);
    }
  });

  it('takes a key id or key ARN as the target, not an alias; an unknown key is NotFoundException, a bad ARN InvalidArnException', async () => {
    const key = await store.putKey();
    ok(await wb.call('CreateAlias', { AliasName: 'alias/first', TargetKeyId: key.KeyId }));
    for (const target of ['alias/first', aliasArn(LOCAL_PARTITION, 'alias/first')]) {
      await refusedUnchanged(wb, () => wb.call('CreateAlias', { AliasName: 'alias/second', TargetKeyId: target }), 'ValidationException', /TargetKeyId must be a key id or key ARN, not an alias/);
    }
    const missing = randomUUID();
    await refusedUnchanged(wb, () => wb.call('CreateAlias', { AliasName: 'alias/second', TargetKeyId: missing }), 'NotFoundException', `Key '${missing}' does not exist.`);
    await refusedUnchanged(wb, () => wb.call('CreateAlias', { AliasName: 'alias/second', TargetKeyId: `arn:aws:kms:us-east-1:111122223333:key/${key.KeyId}` }), 'NotFoundException', /does not exist/);
    await refusedUnchanged(wb, () => wb.call('CreateAlias', { AliasName: 'alias/second', TargetKeyId: 'arn:aws:kms:local-1:111122223333:keyring/x' }), 'InvalidArnException', /not a valid KMS key or alias ARN/);
  });

  it("refuses a key pending deletion or being created (KMSInvalidStateException), and accepts a disabled or unavailable one, as AWS's key-state matrix says", async () => {
    const pending = await store.putKey((k) => {
      k.KeyState = 'PendingDeletion';
      k.DeletionDate = new Date(T0.getTime() + 7 * 86_400_000).toISOString();
      k.PendingDeletionWindowInDays = 7;
    });
    await refusedUnchanged(wb, () => wb.call('CreateAlias', { AliasName: 'alias/pending', TargetKeyId: pending.KeyId }), 'KMSInvalidStateException', `${pending.Arn} is pending deletion.`);
    const creating = await store.putKey((k) => (k.KeyState = 'Creating'));
    await refusedUnchanged(wb, () => wb.call('CreateAlias', { AliasName: 'alias/creating', TargetKeyId: creating.KeyId }), 'KMSInvalidStateException', /is being created/);
    // The store is DISCONNECTED, so each of these shows Unavailable; Disabled is the stored state of the second.
    const disabled = await store.putKey((k) => (k.KeyState = 'Disabled'));
    ok(await wb.call('CreateAlias', { AliasName: 'alias/disabled', TargetKeyId: disabled.KeyId }));
    expect(ok(await wb.call('DescribeKey', { KeyId: 'alias/disabled' })).KeyMetadata.KeyState).toBe('Unavailable');
  });

  it('allows 50 aliases per key, then LimitExceededException', async () => {
    const key = await store.putKey();
    await wb.editState((s) => {
      for (let i = 0; i < 49; i += 1) s.aliases.put({ AliasName: `alias/quota-${i}`, TargetKeyId: key.KeyId, CreationDate: T0.toISOString(), LastUpdatedDate: T0.toISOString() });
    });
    ok(await wb.call('CreateAlias', { AliasName: 'alias/quota-49', TargetKeyId: key.KeyId }));
    await refusedUnchanged(wb, () => wb.call('CreateAlias', { AliasName: 'alias/quota-50', TargetKeyId: key.Arn }), 'LimitExceededException', `${key.Arn} already has 50 aliases, the most a KMS key can have. Delete one first.`);
    expect(await aliasNames(key.KeyId)).toHaveLength(50);
  });
});

describe('UpdateAlias', () => {
  it('points an alias at another key, keeping its CreationDate and dating the update', async () => {
    const from = await store.putKey();
    const to = await store.putKey();
    ok(await wb.call('CreateAlias', { AliasName: 'alias/moving', TargetKeyId: from.KeyId }));
    now = new Date(T0.getTime() + 60_000);
    try {
      ok(await wb.call('UpdateAlias', { AliasName: 'alias/moving', TargetKeyId: to.Arn }));
    } finally {
      now = T0;
    }
    expect(await aliasNames(from.KeyId)).toEqual([]);
    expect(await listAll({ KeyId: to.Arn })).toEqual([
      { AliasName: 'alias/moving', AliasArn: aliasArn(LOCAL_PARTITION, 'alias/moving'), TargetKeyId: to.KeyId, CreationDate: T0.toISOString(), LastUpdatedDate: new Date(T0.getTime() + 60_000).toISOString() },
    ]);
    expect(ok(await wb.call('DescribeKey', { KeyId: 'alias/moving' })).KeyMetadata.KeyId).toBe(to.KeyId);
  });

  it('refuses an alias that is not there (NotFoundException), an alias or a pending key as the target, and a target at its quota', async () => {
    const key = await store.putKey();
    await refusedUnchanged(wb, () => wb.call('UpdateAlias', { AliasName: 'alias/absent', TargetKeyId: key.KeyId }), 'NotFoundException', `Alias ${aliasArn(LOCAL_PARTITION, 'alias/absent')} is not found.`);
    await refusedUnchanged(wb, () => wb.call('UpdateAlias', { AliasName: 'absent', TargetKeyId: key.KeyId }), 'InvalidAliasNameException', /must start with the prefix "alias\/"/);
    ok(await wb.call('CreateAlias', { AliasName: 'alias/stay', TargetKeyId: key.KeyId }));
    ok(await wb.call('CreateAlias', { AliasName: 'alias/stay-2', TargetKeyId: key.KeyId }));
    await refusedUnchanged(wb, () => wb.call('UpdateAlias', { AliasName: 'alias/stay', TargetKeyId: 'alias/stay-2' }), 'ValidationException', /not an alias/);
    const pending = await store.putKey((k) => {
      k.KeyState = 'PendingDeletion';
      k.DeletionDate = new Date(T0.getTime() + 7 * 86_400_000).toISOString();
    });
    await refusedUnchanged(wb, () => wb.call('UpdateAlias', { AliasName: 'alias/stay', TargetKeyId: pending.KeyId }), 'KMSInvalidStateException', `${pending.Arn} is pending deletion.`);
    const full = await store.putKey();
    await wb.editState((s) => {
      for (let i = 0; i < 50; i += 1) s.aliases.put({ AliasName: `alias/full-${i}`, TargetKeyId: full.KeyId, CreationDate: T0.toISOString(), LastUpdatedDate: T0.toISOString() });
    });
    await refusedUnchanged(wb, () => wb.call('UpdateAlias', { AliasName: 'alias/stay', TargetKeyId: full.KeyId }), 'LimitExceededException', /already has 50 aliases/);
    // Re-pointing one of the 50 at the key it names adds no alias to it.
    ok(await wb.call('UpdateAlias', { AliasName: 'alias/full-0', TargetKeyId: full.KeyId }));
  });
});

describe('DeleteAlias', () => {
  it('deletes the alias, not the key; an alias that is not there is NotFoundException', async () => {
    const key = await store.putKey();
    ok(await wb.call('CreateAlias', { AliasName: 'alias/doomed', TargetKeyId: key.KeyId }));
    ok(await wb.call('DeleteAlias', { AliasName: 'alias/doomed' }));
    expect(await aliasNames(key.KeyId)).toEqual([]);
    expect(ok(await wb.call('DescribeKey', { KeyId: key.KeyId })).KeyMetadata.KeyId).toBe(key.KeyId);
    await refusedUnchanged(wb, () => wb.call('DescribeKey', { KeyId: 'alias/doomed' }), 'NotFoundException', /does not exist/);
    await refusedUnchanged(wb, () => wb.call('DeleteAlias', { AliasName: 'alias/doomed' }), 'NotFoundException', `Alias ${aliasArn(LOCAL_PARTITION, 'alias/doomed')} is not found.`);
  });

  it("deletes the alias of a key pending deletion (the key-state matrix allows it)", async () => {
    const key = await store.putKey();
    ok(await wb.call('CreateAlias', { AliasName: 'alias/of-pending', TargetKeyId: key.KeyId }));
    ok(await wb.call('ScheduleKeyDeletion', { KeyId: 'alias/of-pending', PendingWindowInDays: 7 }));
    ok(await wb.call('DeleteAlias', { AliasName: 'alias/of-pending' }));
    expect(await aliasNames(key.KeyId)).toEqual([]);
  });
});

describe('ListAliases', () => {
  it('pages in AliasName order with Limit and Marker, a boundary surviving aliases added meanwhile; 50 by default', async () => {
    const key = await store.putKey();
    const other = await store.putKey();
    await wb.editState((s) => {
      for (let i = 0; i < 60; i += 1) {
        s.aliases.put({ AliasName: `alias/page-${String(i).padStart(2, '0')}`, TargetKeyId: i < 45 ? key.KeyId : other.KeyId, CreationDate: T0.toISOString(), LastUpdatedDate: T0.toISOString() });
      }
    });
    const first = ok(await wb.call('ListAliases', {}));
    expect(first.Aliases).toHaveLength(50);
    expect(first.Truncated).toBe(true);
    const page1 = ok(await wb.call('ListAliases', { KeyId: key.KeyId, Limit: 7 }));
    expect(page1.Aliases.map((a) => a.AliasName)).toEqual(Array.from({ length: 7 }, (_, i) => `alias/page-0${i}`));
    ok(await wb.call('CreateAlias', { AliasName: 'alias/page-00a', TargetKeyId: key.KeyId }));
    ok(await wb.call('CreateAlias', { AliasName: 'alias/page-06a', TargetKeyId: key.KeyId }));
    const page2 = ok(await wb.call('ListAliases', { KeyId: key.KeyId, Limit: 2, Marker: page1.NextMarker }));
    expect(page2.Aliases.map((a) => a.AliasName)).toEqual(['alias/page-06a', 'alias/page-07']);
    const ofKey = (await listAll({ KeyId: key.KeyId, Limit: 9 })).map((a) => a.AliasName);
    expect(ofKey).toHaveLength(47);
    expect(ofKey).toEqual([...ofKey].sort());
    // Without KeyId: every alias of every key, each once, in name order.
    const everything = (await listAll({ Limit: 100 })).map((a) => a.AliasName);
    expect(everything).toEqual([...new Set(everything)].sort());
    expect(everything.filter((name) => name.startsWith('alias/page-'))).toHaveLength(62);
  });

  it('refuses a Marker no ListAliases returned, a Limit outside 1–100, and a KeyId that is an alias or no key', async () => {
    await refusedUnchanged(wb, () => wb.call('ListAliases', { Marker: 'not-a-marker' }), 'InvalidMarkerException', 'The Marker is not one a previous ListAliases returned. Start again without it.');
    await refusedUnchanged(wb, () => wb.call('ListAliases', { Marker: Buffer.from('after:bad name').toString('base64url') }), 'InvalidMarkerException', /previous ListAliases/);
    await refusedUnchanged(wb, () => wb.call('ListAliases', { Limit: 101 }), 'ValidationException', /Limit is 1 to 100/);
    await refusedUnchanged(wb, () => wb.call('ListAliases', { Limit: 0 }), 'ValidationException', /Limit is 1 to 100/);
    await refusedUnchanged(wb, () => wb.call('ListAliases', { KeyId: 'alias/by-id' }), 'ValidationException', /KeyId must be a key id or key ARN/);
    await refusedUnchanged(wb, () => wb.call('ListAliases', { KeyId: keyArn(LOCAL_PARTITION, randomUUID()) }), 'NotFoundException', /does not exist/);
  });
});

describe('a deleted key', () => {
  it('takes its aliases with it when the deletion executor deletes it', async () => {
    const key = await store.putKey();
    const kept = await store.putKey();
    ok(await wb.call('CreateAlias', { AliasName: 'alias/goes-1', TargetKeyId: key.KeyId }));
    ok(await wb.call('CreateAlias', { AliasName: 'alias/goes-2', TargetKeyId: key.KeyId }));
    ok(await wb.call('CreateAlias', { AliasName: 'alias/stays', TargetKeyId: kept.KeyId }));
    ok(await wb.call('ScheduleKeyDeletion', { KeyId: key.KeyId, PendingWindowInDays: 7 }));
    now = new Date(T0.getTime() + 8 * 86_400_000);
    const events: unknown[] = [];
    const stop = wb.core.onEvent((event) => events.push(event));
    try {
      const { Deleted } = ok(await wb.call('RunDeletions', {}));
      expect(Deleted.map((d) => d.KeyId)).toContain(key.KeyId);
    } finally {
      stop();
      now = T0;
    }
    expect(events).toContainEqual({ name: 'StateChanged', payload: { Resource: 'aliases', Ids: ['alias/goes-1', 'alias/goes-2'] } });
    const names = (await listAll({ Limit: 100 })).map((a) => a.AliasName);
    expect(names).not.toContain('alias/goes-1');
    expect(names).not.toContain('alias/goes-2');
    expect(names).toContain('alias/stays');
    expect((await wb.call('DescribeKey', { KeyId: 'alias/goes-1' })).ok).toBe(false);
  });
});
