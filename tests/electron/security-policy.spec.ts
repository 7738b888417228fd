import path from 'node:path';
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { describe, expect, it, vi } from 'vitest';
import { IPC_EVENT_CHANNEL, IPC_INVOKE_PREFIX, IPC_PROGRESS_CHANNEL, OPERATION_NAMES } from '../../shared/contract/operations';
import type { Result } from '../../shared/errors';
import { checkSender, parseInvokeEnvelope, type SenderInfo } from '../../main/electron/ipc-guard';
import { createEventHub, type EventHub } from '../../main/core/event-hub';
import { createLogger } from '../../main/core/logger';
import { registerIpcHandlers, type EventRecipient, type IpcRefusal } from '../../main/electron/ipc-main';
import {
  APP_ENTRY_URL,
  APP_SCHEME_PRIVILEGES,
  BLOCKED_REQUEST_URL_PATTERNS,
  CONTENT_SECURITY_POLICY,
  contentTypeFor,
  isAppUrl,
  isNavigationAllowed,
  isPermissionGranted,
  rendererResponseHeaders,
  resolveRendererPath,
  secureWebPreferences,
} from '../../main/electron/security-policy';

// ipc-main imports Electron's ipcMain; under Node `electron` is only the binary locator (and would try to
// download it), so stand in for it. The tests inject their own ipcMain.
vi.mock('electron', () => ({ ipcMain: {} }));

function cspDirectives(): Map<string, string[]> {
  return new Map(
    CONTENT_SECURITY_POLICY.split(';').map((directive) => {
      const [name = '', ...values] = directive.trim().split(/\s+/);
      return [name, values];
    }),
  );
}

describe('window options', () => {
  it('give the renderer no Node, a sandbox and context isolation', () => {
    const prefs = secureWebPreferences('/app/dist/preload/preload.cjs');
    expect(prefs).toMatchObject({
      preload: '/app/dist/preload/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      navigateOnDragDrop: false,
      experimentalFeatures: false,
    });
  });

  it('refuse every permission and block all network schemes', () => {
    for (const permission of ['media', 'notifications', 'clipboard-read', 'geolocation', 'hid', 'openExternal', 'fullscreen']) {
      expect(isPermissionGranted(permission)).toBe(false);
    }
    expect(BLOCKED_REQUEST_URL_PATTERNS).toEqual(expect.arrayContaining(['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*']));
  });

  it('register the app scheme as standard and secure without bypassing CSP', () => {
    expect(APP_SCHEME_PRIVILEGES).toMatchObject({ standard: true, secure: true, bypassCSP: false, allowServiceWorkers: false });
  });
});

describe('content security policy', () => {
  const directives = cspDirectives();

  it('allows script only from the app itself: no unsafe-eval, no unsafe-inline, no wildcard', () => {
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|unsafe-inline|wasm-unsafe-eval|\*/);
  });

  it('defaults to none and closes network, framing, forms and <base>', () => {
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('connect-src')).toEqual(["'none'"]);
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('form-action')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
  });

  it('is the exact policy the brief fixes', () => {
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  });

  it('is sent with every renderer response, with nosniff', () => {
    const headers = rendererResponseHeaders('/r/assets/index.js');
    expect(headers['Content-Security-Policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(headers['X-Content-Type-Options']).toBe('nosniff');
    expect(headers['Content-Type']).toBe('text/javascript; charset=utf-8');
    expect(contentTypeFor('/r/x.unknown')).toBe('application/octet-stream');
  });

  it('never grants other origins read access (the scheme is CORS-enabled for module scripts)', () => {
    expect(Object.keys(rendererResponseHeaders('/r/index.html')).map((name) => name.toLowerCase())).not.toContain('access-control-allow-origin');
  });
});

describe('app URLs and navigation', () => {
  it('accept only app://workbench', () => {
    expect(isAppUrl(APP_ENTRY_URL)).toBe(true);
    expect(isAppUrl('app://workbench/clusters?x=1#y')).toBe(true);
    for (const url of [
      'app://evil/index.html',
      'app://workbench.evil.com/',
      'app://user:pw@workbench/',
      'https://workbench/',
      'http://localhost:5173/',
      'file:///etc/passwd',
      'data:text/html,<script>1</script>',
      'javascript:alert(1)',
      'about:blank',
      'devtools://devtools/bundled/inspector.html',
      '',
      'not a url',
    ]) {
      expect(isAppUrl(url), url).toBe(false);
      expect(isNavigationAllowed(url), url).toBe(false);
    }
    expect(isAppUrl(undefined)).toBe(false);
    expect(isAppUrl(null)).toBe(false);
  });
});

describe('renderer path resolution', () => {
  const root = path.resolve('/srv/app/dist/renderer');

  it('maps app URLs to files under the renderer root', () => {
    expect(resolveRendererPath(root, 'app://workbench/index.html')).toBe(path.join(root, 'index.html'));
    expect(resolveRendererPath(root, 'app://workbench/assets/index-abc.js?v=1#x')).toBe(path.join(root, 'assets', 'index-abc.js'));
    expect(resolveRendererPath(root, 'app://workbench/assets/my%20font.woff2')).toBe(path.join(root, 'assets', 'my font.woff2'));
  });

  it('serves index.html for the root and client-side routes', () => {
    expect(resolveRendererPath(root, 'app://workbench/')).toBe(path.join(root, 'index.html'));
    expect(resolveRendererPath(root, 'app://workbench')).toBe(path.join(root, 'index.html'));
    expect(resolveRendererPath(root, 'app://workbench/clusters/abc')).toBe(path.join(root, 'index.html'));
  });

  it('refuses traversal, encoded separators, NUL bytes, drive letters and foreign origins', () => {
    for (const url of [
      'app://workbench/../../etc/passwd',
      'app://workbench/%2e%2e/%2e%2e/etc/passwd',
      'app://workbench/assets/%2E%2E%2F%2E%2E%2F..%2Fetc%2Fpasswd',
      'app://workbench/..%2f..%2fmain%2fcli.js',
      'app://workbench/..%5c..%5cmain%5ccli.js',
      'app://workbench/assets%5c..%5c..%5csecret.txt',
      'app://workbench/index.html%00.png',
      'app://workbench/C:%5CWindows%5Cwin.ini',
      'app://workbench/C:/Windows/win.ini',
      'app://workbench/%E0%A4%A',
      'app://other/index.html',
      'file:///srv/app/dist/renderer/index.html',
      'https://workbench/index.html',
    ]) {
      const resolved = resolveRendererPath(root, url);
      expect(resolved === undefined || resolved.startsWith(root + path.sep), url).toBe(true);
      if (resolved !== undefined) expect(resolved, url).not.toMatch(/passwd|cli\.js|secret|win\.ini/);
    }
    expect(resolveRendererPath(root, 'app://workbench/..%2f..%2fmain%2fcli.js')).toBeUndefined();
    expect(resolveRendererPath(root, 'app://workbench/index.html%00.png')).toBeUndefined();
    expect(resolveRendererPath(root, 'app://other/index.html')).toBeUndefined();
  });
});

describe('IPC sender check', () => {
  const trusted = (id: number): boolean => id === 1;
  const good: SenderInfo = { webContentsId: 1, frameUrl: 'app://workbench/index.html', isMainFrame: true };

  it('accepts the main frame of our window on the app origin', () => {
    expect(checkSender(good, trusted)).toBeUndefined();
  });

  it.each([
    ['another webContents', { ...good, webContentsId: 2 }],
    ['a sub-frame', { ...good, isMainFrame: false }],
    ['a foreign page', { ...good, frameUrl: 'https://evil.example/' }],
    ['a file:// page', { ...good, frameUrl: 'file:///tmp/x.html' }],
    ['a destroyed frame', { ...good, frameUrl: undefined }],
  ])('refuses %s with UntrustedSenderException', (_label, sender) => {
    expect(checkSender(sender, trusted)?.name).toBe('UntrustedSenderException');
  });
});

describe('IPC envelope check', () => {
  it('accepts { callId, request } and a missing request', () => {
    expect(parseInvokeEnvelope({ callId: 'call-abc-1', request: { a: 1 } })).toEqual({ ok: true, value: { callId: 'call-abc-1', request: { a: 1 } } });
    expect(parseInvokeEnvelope({ callId: 'c1' })).toEqual({ ok: true, value: { callId: 'c1', request: undefined } });
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'DescribeWorkbench'],
    ['a number', 42],
    ['an array', [{ callId: 'x', request: {} }]],
    ['no callId', { request: {} }],
    ['a numeric callId', { callId: 7, request: {} }],
    ['an empty callId', { callId: '', request: {} }],
    ['an over-long callId', { callId: 'x'.repeat(65), request: {} }],
    ['a callId with odd characters', { callId: 'a b\n', request: {} }],
    ['extra keys', { callId: 'c1', request: {}, __proto__x: 1 }],
    ['a class instance', new (class Envelope { callId = 'c1'; request = {}; })()],
  ])('refuses %s with ValidationException', (_label, payload) => {
    const result = parseInvokeEnvelope(payload);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.name).toBe('ValidationException');
  });

  it('does not echo unexpected key names', () => {
    const result = parseInvokeEnvelope({ callId: 'c1', request: {}, 'PIN=1234': true });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).not.toContain('1234');
  });
});

describe('IPC handler registration', () => {
  type Handler = (event: IpcMainInvokeEvent, payload: unknown) => Promise<Result<unknown>>;

  function fakeIpc(): { ipcMain: IpcMain; handlers: Map<string, Handler> } {
    const handlers = new Map<string, Handler>();
    const ipcMain = {
      handle: (channel: string, handler: Handler) => void handlers.set(channel, handler),
      removeHandler: (channel: string) => void handlers.delete(channel),
    } as unknown as IpcMain;
    return { ipcMain, handlers };
  }

  function fakeEvent(options: { id?: number; url?: string; subFrame?: boolean } = {}): { event: IpcMainInvokeEvent; sent: unknown[][] } {
    const sent: unknown[][] = [];
    const mainFrame = { processId: 10, routingId: 1, url: options.url ?? 'app://workbench/index.html' };
    const senderFrame = options.subFrame ? { ...mainFrame, routingId: 2 } : mainFrame;
    const event = {
      sender: { id: options.id ?? 1, mainFrame, isDestroyed: () => false, send: (...args: unknown[]) => void sent.push(args) },
      senderFrame,
    } as unknown as IpcMainInvokeEvent;
    return { event, sent };
  }

  /** A webContents that records what was pushed to it. */
  function fakeRecipient(id: number, options: { url?: string; destroyed?: boolean } = {}): EventRecipient & { received: unknown[][] } {
    const received: unknown[][] = [];
    const recipient = {
      id,
      received,
      isDestroyed: () => options.destroyed ?? false,
      getURL: () => options.url ?? 'app://workbench/index.html',
      send: (...args: unknown[]) => void received.push(args),
    };
    return recipient as unknown as EventRecipient & { received: unknown[][] };
  }

  function setup(recipients: EventRecipient[] = []): { handlers: Map<string, Handler>; calls: unknown[][]; refusals: IpcRefusal[]; events: EventHub; unregister: () => void } {
    const { ipcMain, handlers } = fakeIpc();
    const calls: unknown[][] = [];
    const refusals: IpcRefusal[] = [];
    const events = createEventHub(createLogger({ level: 'error' }));
    const unregister = registerIpcHandlers({
      ipcMain,
      allWebContents: () => recipients,
      core: {
        dispatch: async (operation, request, context) => {
          calls.push([operation, request, context.callId]);
          context.emitProgress?.({ step: 1 });
          return { ok: true, value: { operation } };
        },
        onEvent: (listener) => events.subscribe(listener),
      },
      isTrustedWebContents: (id) => id === 1 || id === 3 || id === 4,
      onRefused: (refusal) => refusals.push(refusal),
    });
    return { handlers, calls, refusals, events, unregister };
  }

  it('registers exactly one channel per contract operation and removes them on dispose', () => {
    const { handlers, unregister } = setup();
    expect([...handlers.keys()].sort()).toEqual(OPERATION_NAMES.map((name) => IPC_INVOKE_PREFIX + name).sort());
    unregister();
    expect(handlers.size).toBe(0);
  });

  it('passes a trusted, well-formed call to the core and routes its progress to the sender', async () => {
    const { handlers, calls } = setup();
    const { event, sent } = fakeEvent();
    const result = await handlers.get(`${IPC_INVOKE_PREFIX}DescribeWorkbench`)?.(event, { callId: 'c1', request: {} });
    expect(result).toEqual({ ok: true, value: { operation: 'DescribeWorkbench' } });
    expect(calls).toEqual([['DescribeWorkbench', {}, 'c1']]);
    expect(sent).toEqual([[IPC_PROGRESS_CHANNEL, { callId: 'c1', progress: { step: 1 } }]]);
  });

  it('refuses untrusted senders and garbage envelopes without calling the core', async () => {
    const { handlers, calls, refusals } = setup();
    const handler = handlers.get(`${IPC_INVOKE_PREFIX}CheckCluster`);
    const fromOtherContents = await handler?.(fakeEvent({ id: 2 }).event, { callId: 'c1', request: {} });
    const fromSubFrame = await handler?.(fakeEvent({ subFrame: true }).event, { callId: 'c1', request: {} });
    const fromForeignPage = await handler?.(fakeEvent({ url: 'https://evil.example/' }).event, { callId: 'c1', request: {} });
    const garbage = await handler?.(fakeEvent().event, 'garbage');
    expect([fromOtherContents, fromSubFrame, fromForeignPage].map((r) => (r && !r.ok ? r.error.name : r))).toEqual([
      'UntrustedSenderException',
      'UntrustedSenderException',
      'UntrustedSenderException',
    ]);
    expect(garbage && !garbage.ok ? garbage.error.name : garbage).toBe('ValidationException');
    expect(calls).toEqual([]);
    expect(refusals.map((r) => [r.operation, r.error.name])).toEqual([
      ['CheckCluster', 'UntrustedSenderException'],
      ['CheckCluster', 'UntrustedSenderException'],
      ['CheckCluster', 'UntrustedSenderException'],
      ['CheckCluster', 'ValidationException'],
    ]);
  });

  it('pushes the core’s events only to our windows still showing the app, and stops when disposed', () => {
    const ours = fakeRecipient(1);
    const foreign = fakeRecipient(2);
    const navigatedAway = fakeRecipient(3, { url: 'https://evil.example/' });
    const closed = fakeRecipient(4, { destroyed: true });
    const { events, unregister } = setup([ours, foreign, navigatedAway, closed]);

    events.emit('StateChanged', { Resource: 'clusters', Ids: ['cluster-abcdefghijk'] });
    unregister();
    events.emit('StateChanged', { Resource: 'clusters' });

    expect(ours.received).toEqual([[IPC_EVENT_CHANNEL, { name: 'StateChanged', payload: { Resource: 'clusters', Ids: ['cluster-abcdefghijk'] } }]]);
    expect([foreign.received, navigatedAway.received, closed.received]).toEqual([[], [], []]);
  });
});
