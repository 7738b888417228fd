import { z } from 'zod';
import { WorkbenchError } from '../../shared/errors';
import { migrateState, STATE_SCHEMA_VERSION } from './migrations';
import { isJsonObject } from './migrations/migration';
import { RecordTable } from './record-table';
import { AliasRecord, ClusterRecord, CmkRecord, CustomKeyStoreRecord, OrphanedMaterialRecord, type Known } from './records';

export { STATE_SCHEMA_VERSION } from './migrations';

/** The last audit record when the state last changed: main/audit refuses a log that lost it. */
export const AuditAnchorSchema = z.object({
  sequenceNumber: z.number().int().min(1),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Where the record's line starts: the log is append-only, so the check reads one line. */
  byteOffset: z.number().int().min(0),
});
export type AuditAnchor = z.infer<typeof AuditAnchorSchema>;

/** Which state journal (state.journal) entries the snapshot holds: those of `generation` up to `foldedThrough`. */
export const JournalPositionSchema = z.object({ generation: z.number().int().min(1), foldedThrough: z.number().int().min(0) });
export type JournalPosition = z.infer<typeof JournalPositionSchema>;

/** The field that identifies a record of each collection: named in errors, and unique within its collection. */
const RECORD_IDS = { clusters: 'ClusterId', customKeyStores: 'CustomKeyStoreId', keys: 'KeyId', aliases: 'AliasName', orphans: 'KeyId' } as const;

export const WorkbenchStateSchema = z
  .looseObject({
    schemaVersion: z.literal(STATE_SCHEMA_VERSION),
    clusters: z.array(ClusterRecord),
    customKeyStores: z.array(CustomKeyStoreRecord),
    keys: z.array(CmkRecord),
    aliases: z.array(AliasRecord),
    orphans: z.array(OrphanedMaterialRecord),
    // Absent in files from before anchors; null when an admin started a new audit chain on purpose.
    auditAnchor: AuditAnchorSchema.nullable().optional(),
    // Absent in files from before the journal (they have none).
    journal: JournalPositionSchema.optional(),
  })
  .superRefine((state, ctx) => {
    // Ids are identities: of two records with one id, every lookup finds the first and the other is unreachable.
    refuseRepeats(state.clusters, 'clusters', 'ClusterId', ctx);
    refuseRepeats(state.customKeyStores, 'customKeyStores', 'CustomKeyStoreId', ctx);
    // A cluster's key store is derived from the key stores that name it: two would make it ambiguous (AWS refuses a second one).
    refuseRepeats(state.customKeyStores, 'customKeyStores', 'CloudHsmClusterId', ctx);
    refuseRepeats(state.keys, 'keys', 'KeyId', ctx);
    refuseRepeats(state.aliases, 'aliases', 'AliasName', ctx);
    refuseRepeats(state.orphans, 'orphans', 'KeyId', ctx);
  });

function refuseRepeats<T>(records: readonly T[], collection: keyof typeof RECORD_IDS, field: keyof T & string, ctx: z.RefinementCtx): void {
  const seen = new Map<unknown, number>();
  records.forEach((record, i) => {
    const first = seen.get(record[field]);
    if (first !== undefined) ctx.addIssue({ code: 'custom', path: [collection, i, field], message: `the same ${field} as ${collection}.${first}` });
    else seen.set(record[field], i);
  });
}

/** The state as the file holds it: every collection an array. */
export type StateDocument = Omit<Known<z.infer<typeof WorkbenchStateSchema>>, 'clusters' | 'customKeyStores' | 'keys' | 'aliases' | 'orphans'> & {
  clusters: ClusterRecord[];
  customKeyStores: CustomKeyStoreRecord[];
  keys: CmkRecord[];
  aliases: AliasRecord[];
  orphans: OrphanedMaterialRecord[];
};

/**
 * The state as services see it: the collections that grow with use (CMKs, aliases, orphaned material) are tables
 * keyed by id (record-table.ts). The journal position is the store's own bookkeeping, not part of the model.
 */
export type WorkbenchState = Omit<StateDocument, 'keys' | 'aliases' | 'orphans' | 'journal'> & {
  keys: RecordTable<CmkRecord>;
  aliases: RecordTable<AliasRecord>;
  orphans: RecordTable<OrphanedMaterialRecord>;
};

export function defaultState(): StateDocument {
  return { schemaVersion: STATE_SCHEMA_VERSION, clusters: [], customKeyStores: [], keys: [], aliases: [], orphans: [] };
}

export function toWorkbenchState(document: StateDocument): WorkbenchState {
  const { journal: _journal, ...model } = document;
  return {
    ...model,
    keys: new RecordTable('KeyId', document.keys),
    aliases: new RecordTable('AliasName', document.aliases),
    orphans: new RecordTable('KeyId', document.orphans),
  };
}

export function toStateDocument(state: WorkbenchState): StateDocument {
  return { ...state, keys: state.keys.toArray(), aliases: state.aliases.toArray(), orphans: state.orphans.toArray() };
}

const RESTORE = 'It was left untouched; restore it from a backup or move it aside to start over.';

/**
 * Parses the state file's text. Refuses (never repairs) what it cannot trust: a file written by a
 * newer workbench, or one that is not valid JSON or not this schema. Either way the caller must
 * not write, so the admin's file survives for a newer build or a manual repair.
 */
export function parseState(text: string, path: string): StateDocument {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new WorkbenchError('StateFileCorruptException', `The state file ${path} is not valid JSON (${(error as Error).message}). ${RESTORE}`, {
      details: { path },
    });
  }
  const version = isJsonObject(value) ? value.schemaVersion : undefined;
  if (typeof version === 'number' && Number.isInteger(version) && version > STATE_SCHEMA_VERSION) {
    throw new WorkbenchError(
      'StateFileVersionException',
      `The state file ${path} has schema version ${version}, but this workbench understands up to ${STATE_SCHEMA_VERSION}. Use a newer hsm-workbench; the file was left untouched.`,
      { details: { path, schemaVersion: version, supportedSchemaVersion: STATE_SCHEMA_VERSION } },
    );
  }
  // An older file is brought up to this schema in memory only: the file changes with the next write,
  // so a read-only command leaves it as it was. Anything else (no version, 0, 1.5) fails validation below.
  const older = isJsonObject(value) && typeof version === 'number' && Number.isInteger(version) && version >= 1 && version < STATE_SCHEMA_VERSION ? version : undefined;
  const state =
    older === undefined || !isJsonObject(value)
      ? value
      : migrateState(value, older, (step, reason) => {
          throw new WorkbenchError(
            'StateFileCorruptException',
            `The state file ${path} has schema version ${older} and cannot be migrated to version ${step.from + 1} (${step.summary}): ${reason}. ${RESTORE}`,
            { details: { path, schemaVersion: older, supportedSchemaVersion: STATE_SCHEMA_VERSION } },
          );
        });
  const parsed = WorkbenchStateSchema.safeParse(state);
  if (!parsed.success) {
    // Issue paths are those of the migrated state; the steps keep every record at its index, so they are the file's too.
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${describeIssuePath(state, i.path)}: ${i.message}`);
    const records = [...new Set(parsed.error.issues.flatMap((i) => recordOf(state, i.path) ?? []))];
    const schema = older === undefined ? `${STATE_SCHEMA_VERSION}` : `${older} (read as version ${STATE_SCHEMA_VERSION})`;
    throw new WorkbenchError('StateFileCorruptException', `The state file ${path} does not match schema version ${schema} (${issues.join('; ')}). ${RESTORE}`, {
      details: { path, issues, ...(records.length > 0 ? { records } : {}) },
    });
  }
  return parsed.data;
}

/** "clusters.2" when the issue is inside a record, else undefined. */
function recordOf(value: unknown, issuePath: readonly PropertyKey[]): string | undefined {
  const [collection, index] = issuePath;
  return typeof collection === 'string' && typeof index === 'number' && Array.isArray((value as Record<string, unknown>)[collection]) ? `${collection}.${index}` : undefined;
}

/**
 * The issue's path, naming the record it is in by its id so the admin can find it in the file:
 * `clusters.2 (ClusterId "cluster-…") ClusterName`, `customKeyStores.0 (CustomKeyStoreId "cks-…") …`. The id is JSON-quoted: it may itself be damaged.
 */
function describeIssuePath(value: unknown, issuePath: readonly PropertyKey[]): string {
  const joined = issuePath.map(String).join('.') || '(root)';
  const record = recordOf(value, issuePath);
  if (record === undefined) return joined;
  const [collection, index] = issuePath as [string, number];
  const item = ((value as Record<string, unknown[]>)[collection] ?? [])[index];
  const idField = Object.hasOwn(RECORD_IDS, collection) ? RECORD_IDS[collection as keyof typeof RECORD_IDS] : undefined;
  const id = idField !== undefined && isJsonObject(item) ? item[idField] : undefined;
  const rest = issuePath.slice(2).map(String).join('.');
  return `${record}${typeof id === 'string' ? ` (${idField} ${JSON.stringify(id.slice(0, 64))})` : ''}${rest ? ` ${rest}` : ''}`;
}
