/** Globals the E2E bridge shares between the Node side (fixtures) and the page side (page-bridge). */
export const INVOKE_BINDING = '__workbenchInvoke';
export const PROGRESS_SINK = '__workbenchDeliverProgress';
export const EVENT_SINK = '__workbenchDeliverEvent';
