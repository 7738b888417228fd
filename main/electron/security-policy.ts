import path from 'node:path';

/**
 * The Electron shell's security decisions as plain data and pure functions. This module must not
 * import `electron`: the policy is unit-tested under Node, and the shell only applies what it says.
 */

/** The renderer is served from a custom privileged scheme, never `file://` (which can read the whole disk). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'workbench';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * Sent as a response header on every renderer file. No inline or eval'd script, no network at all
 * (the renderer talks only to `window.workbench`), no framing, no forms, no <base> rewriting.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The subset of Electron's WebPreferences this policy fixes; typed here so the module stays electron-free. */
export interface SecureWebPreferences {
  readonly preload: string;
  readonly contextIsolation: true;
  readonly sandbox: true;
  readonly nodeIntegration: false;
  readonly nodeIntegrationInWorker: false;
  readonly nodeIntegrationInSubFrames: false;
  readonly webSecurity: true;
  readonly allowRunningInsecureContent: false;
  readonly webviewTag: false;
  readonly spellcheck: false;
  readonly navigateOnDragDrop: false;
  readonly experimentalFeatures: false;
  readonly enableWebSQL: false;
  readonly safeDialogs: true;
}

/** WebPreferences for every window: the renderer is untrusted, so it gets no Node and a sandboxed process. */
export function secureWebPreferences(preloadPath: string): SecureWebPreferences {
  return {
    preload: preloadPath,
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
    enableWebSQL: false,
    safeDialogs: true,
  };
}

/**
 * Privileges for `protocol.registerSchemesAsPrivileged`: standard (a real origin, relative URLs) and
 * secure. corsEnabled lets Vite's `<script type="module" crossorigin>` load in CORS mode; no response
 * carries Access-Control-Allow-Origin, so no other origin can read app files through it.
 */
export const APP_SCHEME_PRIVILEGES = {
  standard: true,
  secure: true,
  codeCache: true,
  allowServiceWorkers: false,
  bypassCSP: false,
  corsEnabled: true,
  supportFetchAPI: false,
  stream: false,
} as const;

/** True only for URLs on our app origin. Everything else (http, file, data, other hosts) is foreign. */
export function isAppUrl(url: string | undefined | null): boolean {
  if (typeof url !== 'string' || url.length === 0) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST && parsed.username === '' && parsed.password === '';
}

/** Navigation (will-navigate, will-redirect, will-frame-navigate) stays inside the app origin. */
export function isNavigationAllowed(url: string): boolean {
  return isAppUrl(url);
}

/** Every permission request (camera, notifications, clipboard-read, HID, …) is refused: the app needs none. */
export function isPermissionGranted(_permission: string): false {
  return false;
}

/** Requests the session cancels outright: the app is offline, and CSP is not the only line. */
export const BLOCKED_REQUEST_URL_PATTERNS: readonly string[] = ['http://*/*', 'https://*/*', 'ws://*/*', 'wss://*/*', 'ftp://*/*'];

/**
 * Maps an `app://workbench/…` URL to a file under `root`, or undefined when it must be a 404:
 * another scheme or host, a malformed escape, a NUL byte, or a path that resolves outside `root`
 * (`..`, encoded separators, absolute Windows paths). Paths without an extension fall back to
 * index.html so a reload on a client-side route still loads the app.
 */
export function resolveRendererPath(root: string, url: string): string | undefined {
  if (!isAppUrl(url)) return undefined;
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(url).pathname);
  } catch {
    return undefined;
  }
  if (pathname.includes('\0')) return undefined;
  // Backslashes are separators on Windows; refuse them everywhere so the check does not depend on the OS.
  if (pathname.includes('\\')) return undefined;
  const segments = pathname.split('/').filter((segment) => segment.length > 0);
  if (segments.some((segment) => segment === '..' || segment === '.' || /^[a-zA-Z]:/.test(segment))) return undefined;
  const last = segments.at(-1);
  if (last === undefined || !last.includes('.')) segments.splice(0, segments.length, 'index.html');

  const resolvedRoot = path.resolve(root);
  const resolved = path.resolve(resolvedRoot, ...segments);
  // The decisive check: whatever the parsing above missed, the result must stay under the root.
  if (!resolved.startsWith(resolvedRoot + path.sep)) return undefined;
  return resolved;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
};

/** Content type by extension; unknown files are served as opaque bytes (with nosniff, never executed). */
export function contentTypeFor(filePath: string): string {
  return CONTENT_TYPES[path.extname(filePath).toLowerCase()] ?? 'application/octet-stream';
}

/** Headers on every renderer response. */
export function rendererResponseHeaders(filePath: string): Record<string, string> {
  return {
    'Content-Type': contentTypeFor(filePath),
    'Content-Security-Policy': CONTENT_SECURITY_POLICY,
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
  };
}
