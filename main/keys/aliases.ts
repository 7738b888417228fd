import type { ParsedRequestOf, ResponseOf } from '../../shared/contract/operations';
import { MAX_ALIASES_PER_KEY } from '../../shared/contract/keys';
import { WorkbenchError } from '../../shared/errors';
import type { AliasRecord, CmkRecord } from '../state/records';
import type { WorkbenchState } from '../state/state-schema';
import { aliasArn, parseKmsArn } from './arn';
import { refuseSettling } from './key-lifecycle';
import { resolveKey } from './key-resolution';
import type { KeysDeps } from './keys-deps';
import { byName, markerAfter, pageAfter } from './pagination';

const PREFIX = 'alias/';
const RESERVED_PREFIX = 'alias/aws/';
const NAME_PATTERN = /^[a-zA-Z0-9:/_-]+$/;
const LIST_ALIASES_DEFAULT_LIMIT = 50;
const aliasNameOf = (alias: AliasRecord): string => alias.AliasName;

export interface AliasService {
  /** Each returns the alias as it now is (DeleteAlias: as it was), for the handler's StateChanged. */
  create(request: ParsedRequestOf<'CreateAlias'>): Promise<AliasRecord>;
  update(request: ParsedRequestOf<'UpdateAlias'>): Promise<AliasRecord>;
  delete(aliasName: string): Promise<AliasRecord>;
  list(request: ParsedRequestOf<'ListAliases'>): Promise<ResponseOf<'ListAliases'>>;
}

/**
 * Removes every alias of a key, in the caller's transaction: a deleted CMK takes its aliases with it, as in
 * AWS, so no alias is left naming a key that is gone. Returns the names removed, for StateChanged.
 */
export function deleteAliasesOf(state: Pick<WorkbenchState, 'aliases'>, keyId: string): string[] {
  const names = aliasesOf(state, keyId).map(aliasNameOf);
  for (const name of names) state.aliases.delete(name);
  return names;
}

function aliasesOf(state: Pick<WorkbenchState, 'aliases'>, keyId: string): AliasRecord[] {
  return [...state.aliases.values()].filter((a) => a.TargetKeyId === keyId);
}

/** AWS's rules for an alias name (reference §3), as InvalidAliasNameException with AWS's own words where it has them. */
function checkAliasName(name: string): void {
  if (!name.startsWith(PREFIX)) {
    throw new WorkbenchError('InvalidAliasNameException', 'Alias must start with the prefix "alias/". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html');
  }
  if (!NAME_PATTERN.test(name)) {
    throw new WorkbenchError('InvalidAliasNameException', `1 validation error detected: Value ${JSON.stringify(name)} at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$`);
  }
  if (name === PREFIX) throw new WorkbenchError('InvalidAliasNameException', 'An alias name needs a name after the prefix "alias/", such as alias/ExampleAlias.');
  if (name.startsWith(RESERVED_PREFIX)) throw new WorkbenchError('InvalidAliasNameException', 'The alias/aws/ prefix is reserved for Amazon Web Services managed keys.');
}

/**
 * The key an alias may point at, or ListAliases may filter by: a key id or key ARN only. AWS refuses an alias
 * there ("You cannot specify another alias"): an alias of an alias would move when the other one does.
 */
function targetKey(state: Pick<WorkbenchState, 'keys' | 'aliases'>, keyIdentifier: string, field: string, deps: Pick<KeysDeps, 'partition'>): CmkRecord {
  const arn = keyIdentifier.startsWith('arn:') ? parseKmsArn(keyIdentifier) : undefined;
  if (keyIdentifier.startsWith(PREFIX) || (arn !== undefined && 'aliasName' in arn.resource)) {
    throw new WorkbenchError('ValidationException', `${field} must be a key id or key ARN, not an alias (${keyIdentifier}): aliases must refer to keys, not to other aliases.`);
  }
  return resolveKey(state, keyIdentifier, deps.partition);
}

/** A key an alias may be pointed at: not pending deletion or being created (AWS's key-state matrix), and below AWS's 50 aliases. */
function checkTarget(state: Pick<WorkbenchState, 'aliases'>, key: CmkRecord): void {
  const refusal = refuseSettling(key);
  if (refusal !== undefined) throw refusal;
  if (aliasesOf(state, key.KeyId).length >= MAX_ALIASES_PER_KEY) {
    throw new WorkbenchError('LimitExceededException', `${key.Arn} already has ${MAX_ALIASES_PER_KEY} aliases, the most a KMS key can have. Delete one first.`);
  }
}

/**
 * CreateAlias, UpdateAlias, DeleteAlias and ListAliases with AWS's rules and exceptions. An alias is a record
 * of its own naming a key by id; each change is one short transaction (no HSM holds anything of an alias),
 * timestamped by the injectable clock.
 */
export function createAliasService(deps: KeysDeps): AliasService {
  const { state, partition } = deps;
  const notFound = (aliasName: string): WorkbenchError => new WorkbenchError('NotFoundException', `Alias ${aliasArn(partition, aliasName)} is not found.`, { details: { aliasName } });

  return {
    create(request) {
      checkAliasName(request.AliasName);
      return state.transact((s) => {
        if (s.aliases.has(request.AliasName)) throw new WorkbenchError('AlreadyExistsException', `An alias with the name ${aliasArn(partition, request.AliasName)} already exists`);
        const key = targetKey(s, request.TargetKeyId, 'TargetKeyId', deps);
        checkTarget(s, key);
        const now = deps.clock().toISOString();
        const alias: AliasRecord = { AliasName: request.AliasName, TargetKeyId: key.KeyId, CreationDate: now, LastUpdatedDate: now };
        s.aliases.put(alias);
        return alias;
      });
    },

    update(request) {
      checkAliasName(request.AliasName);
      return state.transact((s) => {
        const alias = s.aliases.get(request.AliasName);
        if (alias === undefined) throw notFound(request.AliasName);
        const key = targetKey(s, request.TargetKeyId, 'TargetKeyId', deps);
        // Pointing an alias at the key it already names changes nothing but the date, and adds no alias to that key.
        if (key.KeyId === alias.TargetKeyId) {
          const refusal = refuseSettling(key);
          if (refusal !== undefined) throw refusal;
        } else checkTarget(s, key);
        alias.TargetKeyId = key.KeyId;
        alias.LastUpdatedDate = deps.clock().toISOString();
        s.aliases.put(alias);
        return alias;
      });
    },

    delete(aliasName) {
      checkAliasName(aliasName);
      return state.transact((s) => {
        const alias = s.aliases.get(aliasName);
        if (alias === undefined) throw notFound(aliasName);
        s.aliases.delete(aliasName);
        return alias;
      });
    },

    async list(request) {
      const after = markerAfter(request.Marker, 'ListAliases', NAME_PATTERN);
      const s = await state.read();
      const keyId = request.KeyId === undefined ? undefined : targetKey(s, request.KeyId, 'KeyId', deps).KeyId;
      const aliases = (keyId === undefined ? [...s.aliases.values()] : aliasesOf(s, keyId)).sort(byName(aliasNameOf));
      const { page, ...rest } = pageAfter(aliases, aliasNameOf, after, request.Limit ?? LIST_ALIASES_DEFAULT_LIMIT);
      return {
        Aliases: page.map((a) => ({ AliasName: a.AliasName, AliasArn: aliasArn(partition, a.AliasName), TargetKeyId: a.TargetKeyId, CreationDate: a.CreationDate, LastUpdatedDate: a.LastUpdatedDate })),
        ...rest,
      };
    },
  };
}
