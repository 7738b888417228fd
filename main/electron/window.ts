import { BrowserWindow, type App, type Session, type WebContents } from 'electron';
import type { Logger } from '../core/logger';
import { BLOCKED_REQUEST_URL_PATTERNS, isNavigationAllowed, isPermissionGranted, secureWebPreferences } from './security-policy';

/**
 * The hardened window and the guards around it. The options themselves live in security-policy.ts
 * (unit-tested); this module only applies them through Electron's API.
 */

/** Denies every permission, device and outbound network request in a session. */
export function hardenSession(session: Session): void {
  session.setPermissionRequestHandler((_contents, permission, callback) => callback(isPermissionGranted(permission)));
  session.setPermissionCheckHandler((_contents, permission) => isPermissionGranted(permission));
  session.setDevicePermissionHandler(() => false);
  // Defence in depth behind CSP's connect-src 'none': the app is offline, nothing may leave over the network.
  session.webRequest.onBeforeRequest({ urls: [...BLOCKED_REQUEST_URL_PATTERNS] }, (_details, callback) => callback({ cancel: true }));
}

/** Navigation guards for one webContents: stay on the app origin, open no windows, attach no webviews. */
export function guardWebContents(contents: WebContents, logger: Logger): void {
  const refuse = (what: string, url: string): void => logger.warn(`refused ${what}`, { url: url.slice(0, 200) });
  contents.on('will-navigate', (event) => {
    if (!isNavigationAllowed(event.url)) {
      event.preventDefault();
      refuse('navigation', event.url);
    }
  });
  contents.on('will-frame-navigate', (event) => {
    if (!isNavigationAllowed(event.url)) {
      event.preventDefault();
      refuse('frame navigation', event.url);
    }
  });
  contents.on('will-redirect', (event) => {
    if (!isNavigationAllowed(event.url)) {
      event.preventDefault();
      refuse('redirect', event.url);
    }
  });
  contents.on('will-attach-webview', (event) => {
    event.preventDefault();
    refuse('webview', '');
  });
  contents.setWindowOpenHandler(({ url }) => {
    refuse('window.open', url);
    return { action: 'deny' };
  });
}

/** Applies the guards to every webContents the app ever creates, including ones we did not ask for. */
export function guardAllWebContents(app: App, logger: Logger): void {
  app.on('web-contents-created', (_event, contents) => guardWebContents(contents, logger));
}

export interface MainWindowOptions {
  readonly preloadPath: string;
}

/** Creates the one workbench window; the caller loads the app entry over app://. */
export function createMainWindow({ preloadPath }: MainWindowOptions): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 900,
    minHeight: 600,
    title: 'HSM Workbench',
    // Shown once painted, so the user never sees a blank white frame.
    show: false,
    webPreferences: secureWebPreferences(preloadPath),
  });
  window.once('ready-to-show', () => window.show());
  return window;
}
