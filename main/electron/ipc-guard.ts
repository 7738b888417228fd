import type { ErrorInfo, Result } from '../../shared/errors';
import { isAppUrl } from './security-policy';

/**
 * The checks every IPC invoke passes before it reaches the core, kept free of `electron` so they are
 * unit-tested under Node. The renderer is untrusted: a compromised page can send any channel and any
 * payload, so neither the sender nor the envelope is taken on trust.
 */

/** What ipc-main reads off an IpcMainInvokeEvent; a null frame (navigated away, destroyed) is untrusted. */
export interface SenderInfo {
  /** `webContents.id` of the sender. */
  readonly webContentsId: number;
  /** URL of the frame that sent the message, if it still exists. */
  readonly frameUrl: string | undefined;
  /** True when the sending frame is the top frame of its webContents (not an iframe). */
  readonly isMainFrame: boolean;
}

/** An invoke's payload once it has been checked. */
export interface InvokeEnvelope {
  readonly callId: string;
  readonly request: unknown;
}

/** Call ids key cancellation and progress routing; keep them short and printable (CancelOperation allows 64). */
const CALL_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * Refuses a sender that is not the main frame of one of our windows showing our app origin — an
 * iframe, a foreign page the window was somehow navigated to, or any other webContents.
 */
export function checkSender(sender: SenderInfo, isTrustedWebContents: (webContentsId: number) => boolean): ErrorInfo | undefined {
  let reason: string | undefined;
  if (!isTrustedWebContents(sender.webContentsId)) reason = 'it does not come from a workbench window';
  else if (!sender.isMainFrame) reason = 'it comes from a sub-frame';
  else if (!isAppUrl(sender.frameUrl)) reason = 'the sending page is not the workbench app';
  if (reason === undefined) return undefined;
  return {
    name: 'UntrustedSenderException',
    message: `The request was refused because ${reason}. Restart the workbench if this keeps happening.`,
    details: { reason },
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Accepts exactly `{ callId: string, request?: unknown }`. Anything else — a primitive, an array,
 * extra keys, a bad call id — is a ValidationException; the request itself is validated by the core
 * against the operation's schema.
 */
export function parseInvokeEnvelope(payload: unknown): Result<InvokeEnvelope> {
  const refuse = (message: string): Result<InvokeEnvelope> => ({
    ok: false,
    error: { name: 'ValidationException', message: `The IPC message is not valid: ${message}.` },
  });
  if (!isPlainObject(payload)) return refuse('expected an object { callId, request }');
  const extra = Object.keys(payload).filter((key) => key !== 'callId' && key !== 'request');
  // Key names are untrusted too: report how many, not what they are.
  if (extra.length > 0) return refuse(`it has ${extra.length} unexpected field(s); only callId and request are allowed`);
  const { callId, request } = payload;
  if (typeof callId !== 'string' || !CALL_ID_PATTERN.test(callId)) return refuse('callId must be 1–64 characters of A–Z, a–z, 0–9, ".", "_", ":" or "-"');
  return { ok: true, value: { callId, request } };
}
