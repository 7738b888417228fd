import { readFile } from 'node:fs/promises';
import { protocol } from 'electron';
import { APP_SCHEME, APP_SCHEME_PRIVILEGES, resolveRendererPath, rendererResponseHeaders } from './security-policy';

/** Must run before `app` is ready: Chromium fixes scheme privileges at start-up. */
export function registerAppSchemePrivileges(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { ...APP_SCHEME_PRIVILEGES } }]);
}

function notFound(): Response {
  return new Response('Not found', { status: 404, headers: { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' } });
}

/**
 * Serves `app://workbench/…` from `rendererRoot` only, with the CSP as a response header.
 * Anything that does not resolve inside the root is a 404, never a read.
 */
export function handleAppProtocol(rendererRoot: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return new Response('Method not allowed', { status: 405 });
    const filePath = resolveRendererPath(rendererRoot, request.url);
    if (filePath === undefined) return notFound();
    let body: Buffer;
    try {
      body = await readFile(filePath);
    } catch {
      return notFound();
    }
    return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers: rendererResponseHeaders(filePath) });
  });
}
