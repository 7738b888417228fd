import { createWorkbenchApi, type WorkbenchApi, type WorkbenchTransport } from '../../shared/api';
import { createPushRouter } from '../../shared/push-router';
import type { WorkbenchCore } from './workbench-core';

/**
 * The transport for callers in the core's own process (the CLI, integration tests): the same contract-typed
 * `WorkbenchApi` the renderer gets through the preload, with a direct call where Electron has IPC, and the
 * same push router (a listener that throws is the caller's own problem, not the operation's).
 */
export function createInProcessTransport(core: Pick<WorkbenchCore, 'dispatch' | 'onEvent'>): WorkbenchTransport {
  const pushes = createPushRouter();
  core.onEvent((event) => pushes.deliverEvent(event.name, event.payload));
  return {
    invoke: (operation, request, callId) => core.dispatch(operation, request, { callId, emitProgress: (progress) => pushes.deliverProgress(callId, progress) }),
    onProgress: pushes.onProgress,
    onEvent: pushes.onEvent,
  };
}

export function createInProcessApi(core: Pick<WorkbenchCore, 'dispatch' | 'onEvent'>): WorkbenchApi {
  return createWorkbenchApi(createInProcessTransport(core));
}
