import type { WorkbenchTransport } from './api';

/**
 * The listener side of a transport: progress routed by call id, events to every subscriber. The preload and the
 * E2E page bridge receive pushes differently (ipcRenderer, page.evaluate) and hand them to one of these.
 */
export interface PushRouter {
  readonly onProgress: WorkbenchTransport['onProgress'];
  readonly onEvent: NonNullable<WorkbenchTransport['onEvent']>;
  deliverProgress(callId: string, progress: unknown): void;
  deliverEvent(name: string, payload: unknown): void;
}

type ProgressListener = (progress: unknown) => void;
type EventListener = (name: string, payload: unknown) => void;

/** Calls each listener; one that throws must not stop the others, nor surface in the transport's world. */
function notifyEach<A extends unknown[]>(listeners: Iterable<(...args: A) => void>, ...args: A): void {
  for (const listener of [...listeners]) {
    try {
      listener(...args);
    } catch {
      /* the page's own error */
    }
  }
}

export function createPushRouter(): PushRouter {
  const progressListeners = new Map<string, Set<ProgressListener>>();
  const eventListeners = new Set<EventListener>();
  return {
    onProgress(callId, listener) {
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
    onEvent(listener) {
      eventListeners.add(listener);
      return () => {
        eventListeners.delete(listener);
      };
    },
    deliverProgress(callId, progress) {
      notifyEach(progressListeners.get(callId) ?? [], progress);
    },
    deliverEvent(name, payload) {
      notifyEach(eventListeners, name, payload);
    },
  };
}
