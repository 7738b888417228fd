/**
 * Page side of the E2E bridge, bundled to an IIFE and injected before the renderer loads.
 * It builds `window.workbench` with the same `createWorkbenchApi` factory the Electron preload uses;
 * only the transport differs: Playwright's exposeBinding instead of ipcRenderer.invoke.
 * Type-checked with the Node tsconfig (no DOM lib), so it only touches `globalThis`.
 */
import { createWorkbenchApi, type WorkbenchTransport } from '../../../shared/api';
import type { OperationName } from '../../../shared/contract/operations';
import type { Result } from '../../../shared/errors';
import { INVOKE_BINDING, PROGRESS_SINK } from './bridge-names';

type ProgressListener = (progress: unknown) => void;

interface BridgeGlobals {
  [INVOKE_BINDING]: (operation: OperationName, request: unknown, callId: string) => Promise<Result<unknown>>;
  [PROGRESS_SINK]: (callId: string, progress: unknown) => void;
}

const page = globalThis as unknown as BridgeGlobals;
const listeners = new Map<string, Set<ProgressListener>>();

// The Node side calls this (page.evaluate) for each progress event, before it answers the invoke.
page[PROGRESS_SINK] = (callId, progress) => {
  for (const listener of listeners.get(callId) ?? []) {
    try {
      listener(progress);
    } catch {
      // Like the preload: one failing page listener must not stop the others.
    }
  }
};

const transport: WorkbenchTransport = {
  invoke: (operation, request, callId) => page[INVOKE_BINDING](operation, request, callId),
  onProgress(callId, listener) {
    const set = listeners.get(callId) ?? new Set<ProgressListener>();
    set.add(listener);
    listeners.set(callId, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) listeners.delete(callId);
    };
  },
};

// Read-only and frozen, as contextBridge.exposeInMainWorld makes it in Electron.
Object.defineProperty(globalThis, 'workbench', { value: Object.freeze(createWorkbenchApi(transport)), writable: false, configurable: false, enumerable: true });
