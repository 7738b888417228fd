import type { EventName, EventPayloadOf, WorkbenchEvent } from '../../shared/contract/events';
import { describeError, type Logger } from './logger';

export type WorkbenchEventListener = (event: WorkbenchEvent) => void;

/** The core's side of the main → renderer events: what it emits after a change, for each front door to forward. */
export interface EventHub {
  emit<N extends EventName>(name: N, payload: EventPayloadOf<N>): void;
  /** Returns the unsubscribe function. */
  subscribe(listener: WorkbenchEventListener): () => void;
}

/**
 * Listeners run synchronously, in subscription order. One that throws (a window torn down mid-send) is logged and
 * skipped: the change it reports has happened, and the operation that made it must still answer.
 */
export function createEventHub(logger: Logger): EventHub {
  const listeners = new Set<WorkbenchEventListener>();
  return {
    emit(name, payload) {
      const event = { name, payload } as WorkbenchEvent;
      for (const listener of [...listeners]) {
        try {
          listener(event);
        } catch (error) {
          logger.warn('a workbench event listener failed', { eventName: name, ...describeError(error) });
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
  };
}
