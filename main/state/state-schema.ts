import { z } from 'zod';
import { ClusterInfo, ClusterName, HsmMember } from '../../shared/contract/clusters';
import { ModuleEnvironment, ModulePath } from '../../shared/contract/hsm';
import { WorkbenchError } from '../../shared/errors';

/** The state file schema this build reads and writes. Bump it with a migration in `parseState`. */
export const STATE_SCHEMA_VERSION = 1;

/** The last audit record when the state last changed: main/audit refuses a log that lost it. */
export const AuditAnchorSchema = z.object({
  sequenceNumber: z.number().int().min(1),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  /** Where the record's line starts: the log is append-only, so the check reads one line. */
  byteOffset: z.number().int().min(0),
});
export type AuditAnchor = z.infer<typeof AuditAnchorSchema>;

/**
 * A cluster as the state file holds it. What a request sets is held to the request's own rules
 * (the contract's schemas, so a rule tightened there applies to the file too): a record no request
 * could have made was edited by hand or damaged, and is refused here rather than reaching an HSM
 * as a "module crashed". Loose objects: fields this build does not know (written by a later
 * same-version build, or by hand) are kept on the next write instead of silently dropped.
 */
const ClusterRecord = z.looseObject({
  ...ClusterInfo.shape,
  ClusterName,
  ModulePath,
  ModuleEnvironment,
  Hsms: z.array(z.looseObject(HsmMember.shape)),
});

export const WorkbenchStateSchema = z
  .looseObject({
    schemaVersion: z.literal(STATE_SCHEMA_VERSION),
    clusters: z.array(ClusterRecord),
    // Placeholders: the custom key store, CMK and alias records are defined by later issues.
    // `unknown` keeps whatever is there intact rather than dropping it on the next write.
    customKeyStores: z.array(z.unknown()),
    keys: z.array(z.unknown()),
    aliases: z.array(z.unknown()),
    // Absent in files from before anchors; null when an admin started a new audit chain on purpose.
    auditAnchor: AuditAnchorSchema.nullable().optional(),
  })
  .superRefine((state, ctx) => {
    // Ids are identities: of two records with one id, every lookup finds the first and the other is unreachable.
    const seen = new Map<string, number>();
    state.clusters.forEach((cluster, i) => {
      const first = seen.get(cluster.ClusterId);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['clusters', i, 'ClusterId'], message: `the same ClusterId as clusters.${first}` });
      else seen.set(cluster.ClusterId, i);
    });
  });

export type WorkbenchState = z.infer<typeof WorkbenchStateSchema>;

export function defaultState(): WorkbenchState {
  return { schemaVersion: STATE_SCHEMA_VERSION, clusters: [], customKeyStores: [], keys: [], aliases: [] };
}

const RESTORE = 'It was left untouched; restore it from a backup or move it aside to start over.';

/**
 * Parses the state file's text. Refuses (never repairs) what it cannot trust: a file written by a
 * newer workbench, or one that is not valid JSON or not this schema. Either way the caller must
 * not write, so the admin's file survives for a newer build or a manual repair.
 */
export function parseState(text: string, path: string): WorkbenchState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new WorkbenchError('StateFileCorruptException', `The state file ${path} is not valid JSON (${(error as Error).message}). ${RESTORE}`, {
      details: { path },
    });
  }
  const version = value !== null && typeof value === 'object' ? (value as { schemaVersion?: unknown }).schemaVersion : undefined;
  if (typeof version === 'number' && Number.isInteger(version) && version > STATE_SCHEMA_VERSION) {
    throw new WorkbenchError(
      'StateFileVersionException',
      `The state file ${path} has schema version ${version}, but this workbench understands up to ${STATE_SCHEMA_VERSION}. Use a newer hsm-workbench; the file was left untouched.`,
      { details: { path, schemaVersion: version, supportedSchemaVersion: STATE_SCHEMA_VERSION } },
    );
  }
  const parsed = WorkbenchStateSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${describeIssuePath(value, i.path)}: ${i.message}`);
    const records = [...new Set(parsed.error.issues.flatMap((i) => recordOf(value, i.path) ?? []))];
    throw new WorkbenchError('StateFileCorruptException', `The state file ${path} does not match schema version ${STATE_SCHEMA_VERSION} (${issues.join('; ')}). ${RESTORE}`, {
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
 * `clusters.2 (ClusterId "cluster-…") ClusterName`. The id is JSON-quoted: it may itself be damaged.
 */
function describeIssuePath(value: unknown, issuePath: readonly PropertyKey[]): string {
  const joined = issuePath.map(String).join('.') || '(root)';
  const record = recordOf(value, issuePath);
  if (record === undefined) return joined;
  const [collection, index] = issuePath as [string, number];
  const item = ((value as Record<string, unknown[]>)[collection] ?? [])[index];
  const id = item !== null && typeof item === 'object' ? (item as { ClusterId?: unknown }).ClusterId : undefined;
  const rest = issuePath.slice(2).map(String).join('.');
  return `${record}${typeof id === 'string' ? ` (ClusterId ${JSON.stringify(id.slice(0, 64))})` : ''}${rest ? ` ${rest}` : ''}`;
}
