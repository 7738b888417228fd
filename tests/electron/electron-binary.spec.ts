import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { locateElectronBinary } from '../../scripts/electron-binary.mjs';

/** npm start and the Electron test find the binary without `require('electron')`, which would try to download it. */
describe('locateElectronBinary', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function project(files: Record<string, string>): string {
    const root = mkdtempSync(path.join(tmpdir(), 'hsm-electron-bin-'));
    dirs.push(root);
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      writeFileSync(path.join(root, file), content);
    }
    return root;
  }

  it('reports a missing electron package', () => {
    expect(locateElectronBinary(project({}), {})).toMatchObject({ found: false, reason: expect.stringContaining('not installed') });
  });

  it('reports a binary that was never downloaded (no path.txt)', () => {
    expect(locateElectronBinary(project({ 'node_modules/electron/package.json': '{}' }), {})).toMatchObject({ found: false, reason: expect.stringContaining('path.txt') });
  });

  it('reports path.txt pointing at a missing dist', () => {
    const root = project({ 'node_modules/electron/package.json': '{}', 'node_modules/electron/path.txt': 'electron' });
    expect(locateElectronBinary(root, {})).toMatchObject({ found: false });
  });

  it('finds the downloaded binary', () => {
    const root = project({ 'node_modules/electron/package.json': '{}', 'node_modules/electron/path.txt': 'electron', 'node_modules/electron/dist/electron': '' });
    expect(locateElectronBinary(root, {})).toEqual({ found: true, path: path.join(root, 'node_modules/electron/dist/electron') });
  });

  it('honours ELECTRON_OVERRIDE_DIST_PATH', () => {
    const root = project({ 'node_modules/electron/package.json': '{}', 'custom/electron': '' });
    expect(locateElectronBinary(root, { ELECTRON_OVERRIDE_DIST_PATH: path.join(root, 'custom') })).toEqual({ found: true, path: path.join(root, 'custom/electron') });
  });
});
