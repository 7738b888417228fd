import { z } from 'zod';

/**
 * Main → renderer pushes, declared once like the operations: a name and its payload schema. The core emits
 * them, the IPC wrapper (or the E2E bridge) forwards them, and `window.workbench.events.on` validates each
 * payload before a listener sees it. Stores mirror main's state (loaded by an invoke) and stay current by these.
 */
export interface EventSpec<P extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly payload: P;
}

function event<const S extends EventSpec>(spec: S): S {
  return spec;
}

/** Kinds of records in the state file a renderer store mirrors. Keys join when they land. */
export const StateResource = z.enum(['clusters', 'customKeyStores', 'keys', 'aliases']);

export const StateChangedPayload = z.object({
  Resource: StateResource,
  /** The records that changed (created, updated or deleted); absent when any of them may have. */
  Ids: z.array(z.string()).optional(),
});

export const events = {
  /** Main changed the state file: whoever mirrors that resource reloads it. */
  StateChanged: event({ name: 'StateChanged', payload: StateChangedPayload }),
} as const;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayloadOf<N extends EventName> = z.output<Events[N]['payload']>;
/** One pushed event, as the core emits it. */
export type WorkbenchEvent = { [N in EventName]: { name: N; payload: EventPayloadOf<N> } }[EventName];

export const EVENT_NAMES = Object.keys(events) as EventName[];

export function isEventName(value: unknown): value is EventName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(events, value);
}
