import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from '@playwright/test';
import type { WorkbenchCore } from '../../../main/core/workbench-core';
// The page runs under the very policy the Electron shell sends as a header.
import { CONTENT_SECURITY_POLICY } from '../../../main/electron/security-policy';
import type { Result } from '../../../shared/errors';
import { EVENT_SINK, INVOKE_BINDING, PROGRESS_SINK } from './bridge-names';

/** The fake origin the built renderer is served from: Chromium refuses module scripts from file://. */
export const APP_ORIGIN = 'https://workbench.test';

const RENDERER_DIR = fileURLToPath(new URL('../../../dist/renderer/', import.meta.url));
const PAGE_BRIDGE_ENTRY = fileURLToPath(new URL('./page-bridge.ts', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

/** Bundles page-bridge.ts (and the shared contract it imports) into one classic script for addInitScript. */
export async function bundlePageBridge(): Promise<string> {
  const output = await build({
    entryPoints: [PAGE_BRIDGE_ENTRY],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'chrome128',
    write: false,
    logLevel: 'warning',
  });
  const file = output.outputFiles[0];
  if (!file) throw new Error('esbuild produced no page bridge bundle');
  return file.text;
}

/**
 * Serves dist/renderer on APP_ORIGIN and refuses every other request: the workbench works offline,
 * so a request anywhere else is a bug the test should see (as a failed load), not a silent fetch.
 */
export async function serveRenderer(context: BrowserContext): Promise<void> {
  await context.route('**/*', (route) => route.abort('blockedbyclient'));
  await context.route(`${APP_ORIGIN}/**`, async (route) => {
    const { pathname } = new URL(route.request().url());
    const relative = normalize(decodeURIComponent(pathname === '/' ? '/index.html' : pathname)).replace(/^[/\\]+/, '');
    const file = join(RENDERER_DIR, relative);
    if (!file.startsWith(RENDERER_DIR) || relative.split(sep).includes('..')) return route.fulfill({ status: 403, body: 'outside the renderer' });
    try {
      const body = await readFile(file);
      return route.fulfill({
        status: 200,
        body,
        headers: { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'content-security-policy': CONTENT_SECURITY_POLICY },
      });
    } catch {
      return route.fulfill({ status: 404, body: `not found: ${pathname}` });
    }
  });
}

/**
 * Test-only hook around the core's dispatch. The core never waits for the page to take its progress, so a
 * delay here holds the page's call open (the invoke answers after its last progress event) without slowing the core.
 */
export interface BridgeTap {
  /** Each progress event reaches the page this many milliseconds after the one before. 0: as fast as it can. */
  progressDelayMs: number;
  /** Every call the page made, with the result it got, in the order the calls finished. */
  readonly results: Array<{ operation: string; callId: string; result: Result<unknown> }>;
}

export function createBridgeTap(): BridgeTap {
  return { progressDelayMs: 0, results: [] };
}

/**
 * Node side of the bridge: every `window.workbench` call lands in the real core's dispatch.
 * Progress goes back with page.evaluate; the invoke answers only after every progress event of the
 * call was delivered, as Electron's ordered IPC would. The core's events reach the page the same way,
 * in the order they were emitted, as ipc-main forwards them to a window.
 */
export async function exposeCore(page: Page, core: WorkbenchCore, bridgeScript: string, tap: BridgeTap = createBridgeTap()): Promise<void> {
  await page.exposeBinding(INVOKE_BINDING, async (_source, operation: unknown, request: unknown, callId: unknown): Promise<Result<unknown>> => {
    if (typeof operation !== 'string' || typeof callId !== 'string') {
      return { ok: false, error: { name: 'ValidationException', message: 'The bridge received a call without an operation name or call id.' } };
    }
    let delivered: Promise<void> = Promise.resolve();
    const emitProgress = (progress: unknown): void => {
      delivered = delivered
        .then(async () => {
          if (tap.progressDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, tap.progressDelayMs));
          await page.evaluate(
            ({ sink, id, value }) => {
              (globalThis as unknown as Record<string, (callId: string, progress: unknown) => void>)[sink]?.(id, value);
            },
            { sink: PROGRESS_SINK, id: callId, value: progress },
          );
        })
        // A page that navigated away or closed no longer wants progress.
        .catch(() => undefined);
    };
    const result = await core.dispatch(operation, request, { callId, emitProgress });
    await delivered;
    tap.results.push({ operation, callId, result });
    return result;
  });
  let eventsDelivered: Promise<void> = Promise.resolve();
  const unsubscribe = core.onEvent((event) => {
    eventsDelivered = eventsDelivered
      .then(async () => {
        await page.evaluate(
          ({ sink, name, payload }) => {
            (globalThis as unknown as Record<string, (name: string, payload: unknown) => void>)[sink]?.(name, payload);
          },
          { sink: EVENT_SINK, name: event.name, payload: event.payload },
        );
      })
      // A page between two documents (a reload) misses the event, as a window would; it loads afresh anyway.
      .catch(() => undefined);
  });
  page.once('close', unsubscribe);
  await page.addInitScript({ content: bridgeScript });
}
