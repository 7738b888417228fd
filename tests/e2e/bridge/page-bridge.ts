/**
 * Page side of the E2E bridge, bundled to an IIFE and injected before the renderer loads.
 * It builds `window.workbench` with the same `createWorkbenchApi` factory the Electron preload uses;
 * only the transport differs: Playwright's exposeBinding instead of ipcRenderer.invoke.
 * Type-checked with the Node tsconfig (no DOM lib), so it only touches `globalThis`.
 */
// First import: the schemas below are built under the page's policy (see the module).
import '../../../shared/zod-jitless';
import { createWorkbenchApi, type WorkbenchTransport } from '../../../shared/api';
import type { OperationName } from '../../../shared/contract/operations';
import type { Result } from '../../../shared/errors';
import { createPushRouter } from '../../../shared/push-router';
import { EVENT_SINK, INVOKE_BINDING, PROGRESS_SINK } from './bridge-names';

interface BridgeGlobals {
  [INVOKE_BINDING]: (operation: OperationName, request: unknown, callId: string) => Promise<Result<unknown>>;
  [PROGRESS_SINK]: (callId: string, progress: unknown) => void;
  [EVENT_SINK]: (name: string, payload: unknown) => void;
}

const page = globalThis as unknown as BridgeGlobals;
const pushes = createPushRouter();

// The Node side calls these (page.evaluate): each progress event before it answers the invoke, each core event as it comes.
page[PROGRESS_SINK] = (callId, progress) => pushes.deliverProgress(callId, progress);
page[EVENT_SINK] = (name, payload) => pushes.deliverEvent(name, payload);

const transport: WorkbenchTransport = {
  invoke: (operation, request, callId) => page[INVOKE_BINDING](operation, request, callId),
  onProgress: pushes.onProgress,
  onEvent: pushes.onEvent,
};

// Read-only and frozen, as contextBridge.exposeInMainWorld makes it in Electron.
Object.defineProperty(globalThis, 'workbench', { value: Object.freeze(createWorkbenchApi(transport)), writable: false, configurable: false, enumerable: true });
