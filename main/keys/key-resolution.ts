import { WorkbenchError } from '../../shared/errors';
import type { AliasRecord, CmkRecord } from '../state/records';
import type { WorkbenchState } from '../state/state-schema';
import { parseKmsArn, type KmsPartition } from './arn';

/**
 * The CMK a request names, wherever AWS accepts a key id, key ARN, alias name or alias ARN. An ARN of another
 * region or account is NotFoundException, as AWS answers for a key it does not hold; an `arn:` that is not a
 * KMS key or alias ARN is InvalidArnException. A copy: change it and put it back in a transaction.
 */
export function resolveKey(state: Pick<WorkbenchState, 'keys' | 'aliases'>, keyIdentifier: string, partition: KmsPartition): CmkRecord {
  const record = findKey(state, keyIdentifier, partition);
  if (record === undefined) throw new WorkbenchError('NotFoundException', `Key '${keyIdentifier}' does not exist.`, { details: { keyId: keyIdentifier } });
  return record;
}

function findKey(state: Pick<WorkbenchState, 'keys' | 'aliases'>, keyIdentifier: string, partition: KmsPartition): CmkRecord | undefined {
  if (keyIdentifier.startsWith('alias/')) return aliasTarget(state, state.aliases.get(keyIdentifier));
  if (!keyIdentifier.startsWith('arn:')) return state.keys.get(keyIdentifier);
  const arn = parseKmsArn(keyIdentifier);
  if (arn === undefined) {
    throw new WorkbenchError('InvalidArnException', `${keyIdentifier} is not a valid KMS key or alias ARN (arn:aws:kms:<region>:<account>:key/<key id> or …:alias/<name>).`);
  }
  if (arn.region !== partition.region || arn.account !== partition.account) return undefined;
  return 'keyId' in arn.resource ? state.keys.get(arn.resource.keyId) : aliasTarget(state, state.aliases.get(arn.resource.aliasName));
}

function aliasTarget(state: Pick<WorkbenchState, 'keys'>, alias: AliasRecord | undefined): CmkRecord | undefined {
  return alias === undefined ? undefined : state.keys.get(alias.TargetKeyId);
}
