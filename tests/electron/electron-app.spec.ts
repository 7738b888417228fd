import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { _electron, type ElectronApplication, type Page } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkbenchApi } from '../../shared/api';
import { operations } from '../../shared/contract/operations';
import { CONTENT_SECURITY_POLICY } from '../../main/electron/security-policy';
import { locateElectronBinary } from '../../scripts/electron-binary.mjs';

/**
 * The real app under Playwright's Electron driver (library API, run by Vitest). It needs the Electron
 * binary, which cannot be downloaded on machines without network: there the suite is skipped, and
 * its name says why. Everything it checks that does not need a window is unit-tested in
 * security-policy.spec.ts.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const binary = locateElectronBinary(root);
const suiteName = binary.found ? 'the Electron app' : `the Electron app — SKIPPED: ${binary.reason} (see scripts/electron-binary.mjs for how to install it)`;

/** Renderer-side globals, typed here because the Node tsconfig has no DOM lib. */
type RendererGlobals = { workbench?: WorkbenchApi; require?: unknown; process?: unknown; location: { href: string }; open(url: string): unknown };

describe.skipIf(!binary.found)(suiteName, () => {
  let app: ElectronApplication;
  let page: Page;
  let stateDir: string;

  beforeAll(async () => {
    if (!binary.found) return;
    if (!existsSync(path.join(root, 'dist/renderer/index.html'))) throw new Error('dist/renderer is not built: run `npm run build` first.');
    stateDir = mkdtempSync(path.join(tmpdir(), 'hsm-workbench-electron-'));
    const env = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[0] !== 'ELECTRON_RUN_AS_NODE'));
    app = await _electron.launch({ executablePath: binary.path, args: [root], cwd: root, env: { ...env, HSM_WORKBENCH_HOME: stateDir } });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });

  it('opens one window on the app:// origin', async () => {
    expect(app.windows()).toHaveLength(1);
    expect(page.url()).toMatch(/^app:\/\/workbench\//);
  });

  it('exposes window.workbench with exactly the contract’s domains and methods', async () => {
    const surface = await page.evaluate(() => {
      const api = (globalThis as unknown as RendererGlobals).workbench as unknown as Record<string, Record<string, unknown>>;
      return Object.fromEntries(Object.entries(api).map(([domain, methods]) => [domain, Object.keys(methods).sort()]));
    });
    const expected: Record<string, string[]> = {};
    for (const spec of Object.values(operations)) (expected[spec.domain] ??= []).push(spec.method);
    for (const methods of Object.values(expected)) methods.sort();
    expect(surface).toEqual(expected);
  });

  it('gives the renderer no Node: require and process are undefined', async () => {
    const types = await page.evaluate(() => {
      const g = globalThis as unknown as RendererGlobals;
      return { require: typeof g.require, process: typeof g.process };
    });
    expect(types).toEqual({ require: 'undefined', process: 'undefined' });
  });

  it('serves the renderer with the CSP header, and the page enforces it (no eval)', async () => {
    const header = await app.evaluate(async ({ net }) => (await net.fetch('app://workbench/index.html')).headers.get('content-security-policy'));
    expect(header).toBe(CONTENT_SECURITY_POLICY);
    const evalResult = await page.evaluate(() => {
      try {
        return String((0, eval)('1 + 1'));
      } catch (error) {
        return error instanceof Error ? error.name : 'error';
      }
    });
    expect(evalResult).toBe('EvalError');
  });

  it('answers system.describe through the preload, IPC and the core', async () => {
    const result = await page.evaluate(() => (globalThis as unknown as RendererGlobals).workbench?.system.describe({}));
    expect(result).toMatchObject({ ok: true, value: { StateDirectory: stateDir } });
  });

  it('refuses to navigate away or open windows', async () => {
    await page.evaluate(() => {
      const g = globalThis as unknown as RendererGlobals;
      g.open('https://example.com/');
      g.location.href = 'https://example.com/';
    });
    await page.waitForTimeout(500);
    expect(page.url()).toMatch(/^app:\/\/workbench\//);
    expect(app.windows()).toHaveLength(1);
  });
});
