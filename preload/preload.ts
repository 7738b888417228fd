import { contextBridge, ipcRenderer } from 'electron';
import { createWorkbenchApi, type WorkbenchTransport } from '../shared/api';
import { IPC_INVOKE_PREFIX, IPC_PROGRESS_CHANNEL, isOperationName, type OperationName } from '../shared/contract/operations';
import type { Result } from '../shared/errors';

/**
 * The only place that touches `ipcRenderer`. It is bundled into one CommonJS file (sandboxed preloads
 * load neither ES modules nor sibling files) and exposes exactly one object, `window.workbench`, built
 * by the same factory the E2E bridge uses. Neither ipcRenderer nor an IPC event ever reaches the page:
 * an event's `sender` *is* ipcRenderer, so listeners get only the progress data.
 */

type ProgressListener = (progress: unknown) => void;
const progressListeners = new Map<string, Set<ProgressListener>>();

function isProgressMessage(value: unknown): value is { callId: string; progress: unknown } {
  return typeof value === 'object' && value !== null && typeof (value as { callId?: unknown }).callId === 'string' && 'progress' in value;
}

ipcRenderer.on(IPC_PROGRESS_CHANNEL, (_event, message: unknown) => {
  if (!isProgressMessage(message)) return;
  for (const listener of progressListeners.get(message.callId) ?? []) {
    // One page listener throwing must not stop the others, nor surface in the preload's world.
    try {
      listener(message.progress);
    } catch {
      /* the page's own error */
    }
  }
});

const transport: WorkbenchTransport = {
  async invoke(operation: OperationName, request: unknown, callId: string): Promise<Result<unknown>> {
    if (!isOperationName(operation)) {
      return { ok: false, error: { name: 'UnknownOperationException', message: `There is no operation named ${JSON.stringify(String(operation).slice(0, 64))}.` } };
    }
    // Secret fields (PINs, passwords) cross here inside `request` and go straight to main; nothing here logs them.
    return (await ipcRenderer.invoke(IPC_INVOKE_PREFIX + operation, { callId, request })) as Result<unknown>;
  },
  onProgress(callId: string, listener: ProgressListener): () => void {
    let listeners = progressListeners.get(callId);
    if (!listeners) {
      listeners = new Set();
      progressListeners.set(callId, listeners);
    }
    listeners.add(listener);
    return () => {
      const current = progressListeners.get(callId);
      current?.delete(listener);
      if (current?.size === 0) progressListeners.delete(callId);
    };
  },
};

contextBridge.exposeInMainWorld('workbench', createWorkbenchApi(transport));
