import { WorkbenchError, type ErrorInfo, type Result } from './errors';
import { events, isEventName, type EventName, type EventPayloadOf } from './contract/events';
import { operations, type OperationName, type Operations, type ProgressOf, type RequestOf, type ResponseOf } from './contract/operations';

/**
 * What carries a call: Electron IPC in the preload, Playwright's exposeBinding in E2E tests.
 * `invoke` resolves with a Result envelope and never rejects for operation errors.
 */
export interface WorkbenchTransport {
  invoke(operation: OperationName, request: unknown, callId: string): Promise<Result<unknown>>;
  /** Subscribe to progress pushed for one call; returns the unsubscribe function. */
  onProgress(callId: string, listener: (progress: unknown) => void): () => void;
  /**
   * Subscribe to every event main pushes, as it arrives (unvalidated); returns the unsubscribe function.
   * Absent on a transport nothing is pushed through: `events.on` then never calls back.
   */
  onEvent?(listener: (name: string, payload: unknown) => void): () => void;
}

export interface CallOptions<P> {
  /** Lets the caller cancel with `workbench.system.cancel({ CallId })`. Generated when absent. */
  callId?: string;
  onProgress?: (progress: P) => void;
}

type ApiFunction<N extends OperationName> = (request: RequestOf<N>, options?: CallOptions<ProgressOf<N>>) => Promise<Result<ResponseOf<N>>>;

type Domains = Operations[OperationName]['domain'];
type OperationsIn<D extends Domains> = { [N in OperationName as Operations[N]['domain'] extends D ? Operations[N]['method'] : never]: ApiFunction<N> };

/** `window.workbench.events`: main's pushes (contract/events.ts), so stores stay current when state changes elsewhere. */
export interface WorkbenchEvents {
  /**
   * Calls `listener` with the payload of each `name` event, once validated against the contract (a payload that
   * breaks it is dropped: the store reading it would break instead). Returns the unsubscribe function.
   */
  on<N extends EventName>(name: N, listener: (payload: EventPayloadOf<N>) => void): () => void;
}

/** `window.workbench`: one function per operation, grouped by domain, typed from the contract; and the events. */
export type WorkbenchApi = { [D in Domains]: OperationsIn<D> } & { events: WorkbenchEvents };

let callCounter = 0;
/** A call id unique in this page: lets a caller cancel its own long call through system.cancel. */
export function newCallId(prefix = 'call'): string {
  callCounter += 1;
  return `${prefix}-${Date.now().toString(36)}-${callCounter}`;
}

/**
 * Builds `window.workbench` from the contract. The same factory serves the preload and the E2E bridge,
 * so a browser test exercises exactly the API the Electron renderer gets.
 */
export function createWorkbenchApi(transport: WorkbenchTransport): WorkbenchApi {
  const api: Record<string, Record<string, unknown>> = {};
  for (const name of Object.keys(operations) as OperationName[]) {
    const spec = operations[name];
    const call = async (request: unknown, options: CallOptions<unknown> = {}): Promise<Result<unknown>> => {
      const callId = options.callId ?? newCallId();
      const unsubscribe = options.onProgress ? transport.onProgress(callId, options.onProgress) : undefined;
      try {
        return await transport.invoke(name, request, callId);
      } catch (error) {
        // A broken transport (window closing, binding gone) is not an operation error; report it as data.
        const info: ErrorInfo = { name: 'KMSInternalException', message: `The workbench did not answer: ${error instanceof Error ? error.message : String(error)}` };
        return { ok: false, error: info };
      } finally {
        unsubscribe?.();
      }
    };
    (api[spec.domain] ??= {})[spec.method] = call;
  }
  return Object.assign(api, { events: createWorkbenchEvents(transport) }) as unknown as WorkbenchApi;
}

function createWorkbenchEvents(transport: WorkbenchTransport): WorkbenchEvents {
  return {
    on<N extends EventName>(name: N, listener: (payload: EventPayloadOf<N>) => void): () => void {
      // The page's own mistake, said at once, rather than a subscription that silently never fires.
      if (!isEventName(name)) throw new WorkbenchError('ValidationException', `There is no workbench event named ${JSON.stringify(String(name).slice(0, 64))}.`);
      const payloadSchema = events[name].payload;
      const unsubscribe = transport.onEvent?.((pushed, payload) => {
        if (pushed !== name) return;
        const parsed = payloadSchema.safeParse(payload);
        if (parsed.success) listener(parsed.data as EventPayloadOf<N>);
      });
      return unsubscribe ?? ((): void => undefined);
    },
  };
}
