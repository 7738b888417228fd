// First import: the schemas below are built under the page's policy (see the module).
import '../shared/zod-jitless';
import { contextBridge, ipcRenderer } from 'electron';
import { createWorkbenchApi, type WorkbenchTransport } from '../shared/api';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_PREFIX, IPC_PROGRESS_CHANNEL, isOperationName, type OperationName } from '../shared/contract/operations';
import type { Result } from '../shared/errors';
import { createPushRouter } from '../shared/push-router';

/**
 * The only place that touches `ipcRenderer`. It is bundled into one CommonJS file (sandboxed preloads
 * load neither ES modules nor sibling files) and exposes exactly one object, `window.workbench`, built
 * by the same factory the E2E bridge uses. Neither ipcRenderer nor an IPC event ever reaches the page:
 * an event's `sender` *is* ipcRenderer, so listeners get only the progress or event data.
 */

const pushes = createPushRouter();

function isProgressMessage(value: unknown): value is { callId: string; progress: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { callId?: unknown }).callId === 'string' && 'progress' in value;
}

function isEventMessage(value: unknown): value is { name: string; payload: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string' && 'payload' in value;
}

ipcRenderer.on(IPC_PROGRESS_CHANNEL, (_event, message: unknown) => {
  if (isProgressMessage(message)) pushes.deliverProgress(message.callId, message.progress);
});

// The payload is validated against the contract by the API factory (events.on), before any page listener.
ipcRenderer.on(IPC_EVENT_CHANNEL, (_event, message: unknown) => {
  if (isEventMessage(message)) pushes.deliverEvent(message.name, message.payload);
});

const transport: WorkbenchTransport = {
  async invoke(operation: OperationName, request: unknown, callId: string): Promise<Result<unknown>> {
    if (!isOperationName(operation)) {
      return { ok: false, error: { name: 'UnknownOperationException', message: `There is no operation named ${JSON.stringify(String(operation).slice(0, 64))}.` } };
    }
    // Secret fields (PINs, passwords) cross here inside `request` and go straight to main; nothing here logs them.
    return (await ipcRenderer.invoke(IPC_INVOKE_PREFIX + operation, { callId, request })) as Result<unknown>;
  },
  onProgress: pushes.onProgress,
  onEvent: pushes.onEvent,
};

contextBridge.exposeInMainWorld('workbench', createWorkbenchApi(transport));
