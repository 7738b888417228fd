/**
 * The ARN-like names of keys and aliases. AWS's form (`arn:aws:kms:<region>:<account>:key/<key id>`), with a
 * local region and 12-digit account that later issues make configurable: the label of the key material in
 * every HSM is the key's ARN, as AWS labels it, so the names stay stable once keys exist.
 */
export interface KmsPartition {
  readonly region: string;
  readonly account: string;
}

export const LOCAL_PARTITION: KmsPartition = { region: 'local-1', account: '111122223333' };

export function keyArn(partition: KmsPartition, keyId: string): string {
  return `arn:aws:kms:${partition.region}:${partition.account}:key/${keyId}`;
}

export function aliasArn(partition: KmsPartition, aliasName: string): string {
  return `arn:aws:kms:${partition.region}:${partition.account}:${aliasName}`;
}

/** What an `arn:…` names: a key id or an alias name, with the partition it gives. undefined: not a KMS ARN of either kind. */
export function parseKmsArn(text: string): { region: string; account: string; resource: { keyId: string } | { aliasName: string } } | undefined {
  const match = /^arn:aws:kms:([^:]+):(\d{12}):(key\/(.+)|(alias\/.+))$/.exec(text);
  if (match === null) return undefined;
  const [, region = '', account = '', , keyId, aliasName] = match;
  return { region, account, resource: keyId !== undefined ? { keyId } : { aliasName: aliasName ?? '' } };
}
