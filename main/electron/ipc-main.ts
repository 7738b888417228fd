import { ipcMain as electronIpcMain, webContents as electronWebContents, type IpcMain, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_PREFIX, IPC_PROGRESS_CHANNEL, OPERATION_NAMES } from '../../shared/contract/operations';
import type { ErrorInfo, Result } from '../../shared/errors';
import type { WorkbenchCore } from '../core/workbench-core';
import { checkSender, parseInvokeEnvelope, type SenderInfo } from './ipc-guard';
import { isAppUrl } from './security-policy';

/** A refused invoke, for the log (or the audit trail, once the core takes refusals). Carries no payload. */
export interface IpcRefusal {
  readonly operation: string;
  readonly error: ErrorInfo;
  readonly webContentsId: number;
}

/** What ipc-main needs of a webContents to push an event to it. */
export type EventRecipient = Pick<WebContents, 'id' | 'isDestroyed' | 'getURL' | 'send'>;

export interface IpcRegistrationOptions {
  /** Injected only by tests; the app always uses Electron's own. */
  readonly ipcMain?: Pick<IpcMain, 'handle' | 'removeHandler'>;
  /** Every live webContents, the candidates for a pushed event. Injected only by tests; the app uses Electron's own. */
  readonly allWebContents?: () => readonly EventRecipient[];
  readonly core: Pick<WorkbenchCore, 'dispatch' | 'onEvent'>;
  /** True for the webContents of windows this app created. */
  readonly isTrustedWebContents: (webContentsId: number) => boolean;
  readonly onRefused?: (refusal: IpcRefusal) => void;
}

function describeSender(event: IpcMainInvokeEvent): SenderInfo {
  const frame = event.senderFrame;
  const main = event.sender.mainFrame;
  return {
    webContentsId: event.sender.id,
    frameUrl: frame?.url,
    // Compare ids, not wrapper objects: the frame must be the top frame of the sending contents.
    isMainFrame: frame !== null && frame.processId === main.processId && frame.routingId === main.routingId,
  };
}

/**
 * The only place that touches `ipcMain`: one handler per operation in the contract, each checking the
 * sender and the envelope before the core (which validates the request itself, runs and audits it).
 * The core's events go to every window of ours still showing the app, never to another webContents.
 * Returns a function that removes the handlers and stops the events.
 */
export function registerIpcHandlers({
  ipcMain = electronIpcMain,
  allWebContents = () => electronWebContents.getAllWebContents(),
  core,
  isTrustedWebContents,
  onRefused,
}: IpcRegistrationOptions): () => void {
  const channels: string[] = [];
  for (const operation of OPERATION_NAMES) {
    const channel = IPC_INVOKE_PREFIX + operation;
    ipcMain.handle(channel, async (event: IpcMainInvokeEvent, payload: unknown): Promise<Result<unknown>> => {
      const refuse = (error: ErrorInfo): Result<unknown> => {
        onRefused?.({ operation, error, webContentsId: event.sender.id });
        return { ok: false, error };
      };
      // Sender first: an untrusted page learns nothing about whether its payload would have passed.
      const senderError = checkSender(describeSender(event), isTrustedWebContents);
      if (senderError) return refuse(senderError);
      const envelope = parseInvokeEnvelope(payload);
      if (!envelope.ok) return refuse(envelope.error);

      const { callId, request } = envelope.value;
      const sender = event.sender;
      const emitProgress = (progress: unknown): void => {
        // The window may close mid-operation; the operation still finishes and is audited.
        if (!sender.isDestroyed()) sender.send(IPC_PROGRESS_CHANNEL, { callId, progress });
      };
      return core.dispatch(operation, request, { callId, emitProgress });
    });
    channels.push(channel);
  }
  const stopEvents = core.onEvent(({ name, payload }) => {
    for (const target of allWebContents()) {
      // A window of ours that was navigated away from the app (it should not be) gets nothing either.
      if (!target.isDestroyed() && isTrustedWebContents(target.id) && isAppUrl(target.getURL())) target.send(IPC_EVENT_CHANNEL, { name, payload });
    }
  });
  return () => {
    for (const channel of channels) ipcMain.removeHandler(channel);
    stopEvents();
  };
}
