import { createWorkbenchApi, type WorkbenchApi, type WorkbenchTransport } from '../../shared/api';
import type { WorkbenchCore } from './workbench-core';

/**
 * The transport for callers in the core's own process (the CLI, integration tests): the same contract-typed
 * `WorkbenchApi` the renderer gets through the preload, with a direct call where Electron has IPC.
 */
export function createInProcessTransport(core: Pick<WorkbenchCore, 'dispatch'>): WorkbenchTransport {
  const listeners = new Map<string, Set<(progress: unknown) => void>>();
  return {
    invoke: (operation, request, callId) =>
      core.dispatch(operation, request, {
        callId,
        emitProgress: (progress) => {
          for (const listener of listeners.get(callId) ?? []) listener(progress);
        },
      }),
    onProgress(callId, listener) {
      const forCall = listeners.get(callId) ?? new Set();
      forCall.add(listener);
      listeners.set(callId, forCall);
      return () => {
        forCall.delete(listener);
        if (forCall.size === 0) listeners.delete(callId);
      };
    },
  };
}

export function createInProcessApi(core: Pick<WorkbenchCore, 'dispatch'>): WorkbenchApi {
  return createWorkbenchApi(createInProcessTransport(core));
}
