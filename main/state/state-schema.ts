import { z } from 'zod';
import { ClusterInfo } from '../../shared/contract/clusters';
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

export const WorkbenchStateSchema = z.object({
  schemaVersion: z.literal(STATE_SCHEMA_VERSION),
  clusters: z.array(ClusterInfo),
  // Placeholders: the custom key store, CMK and alias records are defined by later issues.
  // `unknown` keeps whatever is there intact rather than dropping it on the next write.
  customKeyStores: z.array(z.unknown()),
  keys: z.array(z.unknown()),
  aliases: z.array(z.unknown()),
  // Absent in files from before anchors; null when an admin started a new audit chain on purpose.
  auditAnchor: AuditAnchorSchema.nullable().optional(),
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
    const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new WorkbenchError('StateFileCorruptException', `The state file ${path} does not match schema version ${STATE_SCHEMA_VERSION} (${issues.join('; ')}). ${RESTORE}`, {
      details: { path, issues },
    });
  }
  return parsed.data;
}
