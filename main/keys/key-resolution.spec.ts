import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { thrown } from '../../tests/fixtures/outcomes';
import { cmkRecord } from '../../tests/fixtures/records';
import { RecordTable } from '../state/record-table';
import type { AliasRecord, CmkRecord } from '../state/records';
import { aliasArn, keyArn, LOCAL_PARTITION } from './arn';
import { resolveKey } from './key-resolution';

const key = cmkRecord('cks-00000000000000001', 'cluster-aaaaaaaaaaa');
const alias = (name: string, targetKeyId: string): AliasRecord => ({ AliasName: name, TargetKeyId: targetKeyId, CreationDate: key.CreationDate, LastUpdatedDate: key.CreationDate });
const state = {
  keys: new RecordTable<CmkRecord>('KeyId', [key]),
  aliases: new RecordTable<AliasRecord>('AliasName', [alias('alias/app', key.KeyId), alias('alias/dangling', randomUUID())]),
};
const resolve = (keyIdentifier: string): CmkRecord => resolveKey(state, keyIdentifier, LOCAL_PARTITION);

describe('resolveKey', () => {
  it('finds the key by key id, key ARN, alias name and alias ARN', () => {
    for (const name of [key.KeyId, keyArn(LOCAL_PARTITION, key.KeyId), 'alias/app', aliasArn(LOCAL_PARTITION, 'alias/app')]) expect(resolve(name)).toEqual(key);
  });

  it('hands out a copy: changing it changes nothing until it is put back', () => {
    resolve(key.KeyId).Description = 'changed';
    expect(resolve(key.KeyId).Description).toBe('');
  });

  it("answers NotFoundException for a key or alias it does not hold, one whose alias names a key that is gone, and an ARN of another region or account, as AWS does", () => {
    const missing = randomUUID();
    for (const name of [
      missing,
      'alias/none',
      'alias/dangling',
      keyArn(LOCAL_PARTITION, missing),
      aliasArn(LOCAL_PARTITION, 'alias/none'),
      `arn:aws:kms:us-east-1:${LOCAL_PARTITION.account}:key/${key.KeyId}`,
      `arn:aws:kms:${LOCAL_PARTITION.region}:999999999999:key/${key.KeyId}`,
      `arn:aws:kms:us-east-1:${LOCAL_PARTITION.account}:alias/app`,
      `arn:aws:kms:${LOCAL_PARTITION.region}:999999999999:alias/app`,
    ]) {
      const error = thrown(() => resolve(name));
      expect(error.name).toBe('NotFoundException');
      expect(error.message).toBe(`Key '${name}' does not exist.`);
    }
  });

  it('answers InvalidArnException for an arn: that is not a KMS key or alias ARN', () => {
    for (const name of [
      'arn:aws:s3:::bucket',
      'arn:aws:kms:local-1:111122223333:keyring/x',
      'arn:aws:kms:local-1:12345:key/x',
      `arn:aws:kms:local-1:111122223333:key/`,
      'arn:aws:kms:local-1:111122223333:alias/',
      'arn:aws:kms::111122223333:alias/app',
      'arn:',
    ]) {
      const error = thrown(() => resolve(name));
      expect(error.name).toBe('InvalidArnException');
      expect(error.message).toMatch(/is not a valid KMS key or alias ARN/);
    }
  });
});
