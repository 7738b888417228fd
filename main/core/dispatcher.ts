import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { isOperationName, operations, type OperationName, type OperationSpec, type ParsedRequestOf, type ResponseOf } from '../../shared/contract/operations';
import { WorkbenchError, toErrorInfo, type ErrorInfo, type ErrorName, type Result } from '../../shared/errors';
import type { AuditEvent } from '../audit/audit-log';
import { describeError, type Logger } from './logger';

/** Untrusted input a refusal quotes (field names, issue paths) is cut to this, so its audit record stays small. */
const QUOTED_INPUT_MAX = 64;
/** A request can be wrong in a hundred thousand places; the first few say what to fix. */
const LISTED_ISSUES_MAX = 10;

function quoted(text: string): string {
  return text.length > QUOTED_INPUT_MAX ? `${text.slice(0, QUOTED_INPUT_MAX)}…` : text;
}

/** Errors any operation may raise, besides those it declares. */
const ALWAYS_POSSIBLE: readonly ErrorName[] = ['ValidationException', 'KMSInternalException', 'AuditLogException', 'FileSystemException', 'OperationCancelledException'];

export interface CallContext {
  callId: string;
  emitProgress?: (progress: unknown) => void;
}

/** What a handler gets besides its validated request. */
export interface HandlerContext<P = unknown> {
  callId: string;
  signal: AbortSignal;
  emitProgress(progress: P): void;
  /**
   * Writes one step of this call (one HSM of several, one phase of a flow) to the audit log under the call's
   * requestID, between its Started and Completed/Failed records. Await it before the step, so that after a
   * kill -9 the log says which HSMs were touched; it throws AuditLogException when the record cannot be
   * written, and the step must then not be taken.
   */
  journal(step: AuditStep): Promise<void>;
  /**
   * Adds facts to the additionalEventData of this call's outcome record, as CloudTrail does for KMS
   * (ConnectCustomKeyStore carries customKeyStoreName and clusterId). Plain facts only, never secrets.
   */
  annotate(data: Record<string, unknown>): void;
}

/** One step of a multi-HSM operation, as it appears in `additionalEventData.step` of its audit record. */
export interface AuditStep {
  /** What the step does, e.g. 'InitializeToken', 'RotateKmsuserPassword'. */
  name: string;
  /** The cluster member it touches, when it touches one. */
  hsmId?: string;
  /** Plain facts: token serial, key handle… Never secrets (they are redacted like every audit field anyway). */
  details?: Record<string, unknown>;
}

export type OperationHandler<N extends OperationName> = (
  request: ParsedRequestOf<N>,
  context: HandlerContext<ProgressFor<N>>,
) => Promise<ResponseOf<N>>;

type ProgressFor<N extends OperationName> = (typeof operations)[N] extends { progress: infer P extends z.ZodType } ? z.output<P> : never;

export type OperationHandlers = { [N in OperationName]: OperationHandler<N> };

/**
 * An event the workbench starts itself, not an admin's call (a due deletion, a health probe's disconnect):
 * audited as a CloudTrail `AwsServiceEvent`, with no request or response, its facts in additionalEventData.
 */
export interface ServiceEvent {
  eventName: string;
  additionalEventData: Record<string, unknown>;
  errorCode?: string;
  errorMessage?: string;
}

export interface Dispatcher {
  dispatch(operation: string, request: unknown, context: CallContext): Promise<Result<unknown>>;
  /** Audits an event the workbench started itself; throws AuditLogException when it cannot be written. */
  recordServiceEvent(event: ServiceEvent): Promise<void>;
  /** Aborts a running call; false when no call has that id. */
  cancel(callId: string): boolean;
  /** Audits a call refused before it reached the dispatcher (e.g. an untrusted IPC sender). */
  recordRefusal(operation: string, error: ErrorInfo): Promise<void>;
}

export interface DispatcherDependencies {
  handlers: OperationHandlers;
  audit: { append(event: AuditEvent): Promise<unknown> };
  logger: Logger;
}

/**
 * The one path every operation takes, whatever the front door (IPC, CLI, test bridge):
 * known operation → valid request → handler → valid response → audit record.
 * Operation errors come back as Result data; nothing thrown escapes.
 */
export function createDispatcher({ handlers, audit, logger }: DispatcherDependencies): Dispatcher {
  const running = new Map<string, AbortController>();

  async function record(event: AuditEvent): Promise<WorkbenchError | undefined> {
    try {
      await audit.append(event);
      return undefined;
    } catch (error) {
      logger.error('audit record could not be written', { eventName: event.eventName, ...describeError(error) });
      return error instanceof WorkbenchError ? error : new WorkbenchError('AuditLogException', 'The audit record could not be written.');
    }
  }

  async function dispatch(operation: string, rawRequest: unknown, context: CallContext): Promise<Result<unknown>> {
    const requestID = randomUUID();
    if (!isOperationName(operation)) {
      const error = new WorkbenchError('UnknownOperationException', `There is no operation named ${JSON.stringify(operation.slice(0, 64))}.`);
      await record({ eventName: 'UnknownOperation', readOnly: true, requestParameters: { operation: operation.slice(0, 64) }, errorCode: error.name, errorMessage: error.message, requestID });
      return { ok: false, error: error.toInfo() };
    }
    const spec: OperationSpec = operations[operation];
    // Data an application protects is kept out of the log exactly as a credential is.
    const secretFields = [...(spec.secretFields ?? []), ...(spec.sensitiveFields ?? [])];
    const auditBase = { eventName: spec.name, readOnly: spec.readOnly, requestID, secretFields };

    const parsed = spec.request.safeParse(rawRequest ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, LISTED_ISSUES_MAX).map((issue) => ({ path: issue.path.map((key) => quoted(String(key))).join('.'), message: issue.message }));
      const unlisted = parsed.error.issues.length - issues.length;
      const listed = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
      const message = `The ${spec.name} request is not valid: ${listed}${unlisted > 0 ? `; and ${unlisted} more` : ''}.`;
      const error = new WorkbenchError('ValidationException', message, { details: { issues, ...(unlisted > 0 ? { unlistedIssues: unlisted } : {}) } });
      // The raw request is untrusted: audit only its top-level field names, never its values.
      const fieldNames = rawRequest !== null && typeof rawRequest === 'object' ? Object.keys(rawRequest).slice(0, 32).map(quoted) : [typeof rawRequest];
      await record({ ...auditBase, requestParameters: { fieldNames }, errorCode: error.name, errorMessage: error.message });
      return { ok: false, error: error.toInfo() };
    }

    // What CloudTrail leaves out though it is no secret (a certificate): kept out of every record of the call.
    const requestParameters = omitFields(parsed.data, spec.auditOmits ?? []);
    if (running.has(context.callId)) {
      // Cancel handles are keyed by call id: a second call under a running id would steal the first one's.
      const error = new WorkbenchError('ValidationException', `A call with id ${JSON.stringify(context.callId.slice(0, 64))} is already running. Use a new call id.`);
      await record({ ...auditBase, requestParameters, errorCode: error.name, errorMessage: error.message });
      return { ok: false, error: error.toInfo() };
    }

    // Registered before anything is awaited, so a cancel sent right after the call is not lost.
    const controller = new AbortController();
    running.set(context.callId, controller);
    const audited = !spec.readOnly || spec.auditAlways === true;
    if (audited) {
      // Write-ahead: nothing is changed (or logged into) before the log says it was asked for. After a kill -9,
      // a Started record without an outcome record of the same requestID marks the interrupted operation.
      const startError = await record({ ...auditBase, requestParameters, additionalEventData: { auditPhase: 'Started' } });
      if (startError) {
        running.delete(context.callId);
        return { ok: false, error: new WorkbenchError('AuditLogException', `${spec.name} was not started because its audit record could not be written: ${startError.message}`).toInfo() };
      }
    }

    const handler = handlers[operation] as OperationHandler<OperationName>;
    let annotations: Record<string, unknown> = {};
    const handlerContext: HandlerContext = {
      annotate: (data) => {
        annotations = { ...annotations, ...data };
      },
      callId: context.callId,
      signal: controller.signal,
      emitProgress: (progress) => context.emitProgress?.(progress),
      journal: async (step) => {
        // Not synced: the call's Completed or Failed record makes it durable. The rule that matters after a crash,
        // which member was touched, is the state's (fsynced before the step); a kill -9 keeps this record anyway.
        const stepError = await record({ ...auditBase, requestParameters: null, additionalEventData: { auditPhase: 'Step', step }, durable: false });
        if (stepError) throw new WorkbenchError('AuditLogException', `${spec.name} stopped before step ${step.name} because its audit record could not be written: ${stepError.message}`);
      },
    };
    try {
      throwIfCancelled(controller.signal, spec.name);
      const response = spec.response.parse(await handler(parsed.data as never, handlerContext as never));
      if (audited) {
        const auditError = await record({ ...auditBase, requestParameters, responseElements: response, additionalEventData: { ...annotations, auditPhase: 'Completed' } });
        if (auditError && !spec.readOnly) {
          // The change happened; say so rather than pretend it failed.
          return { ok: false, error: new WorkbenchError('AuditLogException', `${spec.name} completed, but its audit record could not be written: ${auditError.message}`).toInfo() };
        }
      }
      return { ok: true, value: response };
    } catch (error) {
      if (!(error instanceof WorkbenchError)) logger.error(`${spec.name} failed unexpectedly`, describeError(error));
      const info = toErrorInfo(error);
      // The contract's error list is what front ends and scripts plan for: say when reality strays from it.
      if (!ALWAYS_POSSIBLE.includes(info.name) && !spec.errors.includes(info.name)) {
        logger.warn(`${spec.name} raised ${info.name}, which its contract does not declare`, { operation: spec.name, errorName: info.name });
      }
      await record({
        ...auditBase,
        requestParameters,
        errorCode: info.code ? `${info.name}:${info.code}` : info.name,
        errorMessage: info.message,
        ...(audited ? { additionalEventData: { ...annotations, auditPhase: 'Failed' } } : Object.keys(annotations).length > 0 ? { additionalEventData: annotations } : {}),
      });
      return { ok: false, error: info };
    } finally {
      running.delete(context.callId);
    }
  }

  return {
    dispatch,
    async recordServiceEvent(event: ServiceEvent): Promise<void> {
      const error = await record({
        eventName: event.eventName,
        eventType: 'AwsServiceEvent',
        readOnly: false,
        requestParameters: null,
        additionalEventData: event.additionalEventData,
        ...(event.errorCode === undefined ? {} : { errorCode: event.errorCode, errorMessage: event.errorMessage }),
      });
      if (error) throw error;
    },
    async recordRefusal(operation: string, error: ErrorInfo): Promise<void> {
      const name = isOperationName(operation) ? operation : 'UnknownOperation';
      await record({ eventName: name, readOnly: isOperationName(operation) ? operations[operation].readOnly : true, requestParameters: null, errorCode: error.name, errorMessage: error.message });
    },
    cancel(callId: string): boolean {
      const controller = running.get(callId);
      controller?.abort();
      return controller !== undefined;
    },
  };
}

function omitFields(data: unknown, fields: readonly string[]): unknown {
  if (fields.length === 0 || data === null || typeof data !== 'object') return data;
  return Object.fromEntries(Object.entries(data).filter(([key]) => !fields.includes(key)));
}

/** Throws OperationCancelledException when the caller cancelled; handlers call it between steps. */
export function throwIfCancelled(signal: AbortSignal, what: string): void {
  if (signal.aborted) throw new WorkbenchError('OperationCancelledException', `${what} was cancelled. Nothing after the last completed step was done.`);
}
