import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The architecture is held by lint (eslint.config.js); this proves each layering rule fires.
 * Probes are linted in memory under file paths inside each layer, so nothing is written to the tree
 * (other engineers' type checks never see them) and the real config decides what applies where.
 */
const root = fileURLToPath(new URL('../..', import.meta.url));
const LAYERING_RULES = new Set(['@typescript-eslint/no-restricted-imports', 'no-restricted-syntax', 'no-console']);

let eslint: ESLint;

beforeAll(() => {
  eslint = new ESLint({
    cwd: root,
    // Only the rules under test; the probes are not on disk, so no type information either.
    ruleFilter: ({ ruleId }) => LAYERING_RULES.has(ruleId),
    overrideConfig: { languageOptions: { parserOptions: { project: null, projectService: false } } },
  });
});

async function violations(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}/${filePath}` });
  if (!result) throw new Error(`ESLint returned nothing for ${filePath}`);
  const fatal = result.messages.filter((message) => message.fatal);
  if (fatal.length > 0) throw new Error(`${filePath} did not parse: ${fatal.map((m) => m.message).join('; ')}`);
  return result.messages.map((message) => message.ruleId ?? 'unknown');
}

const RESTRICTED = '@typescript-eslint/no-restricted-imports';

describe('layering rules fire', () => {
  it.each([
    ['renderer/ imports node:fs', 'renderer/probe/leak.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;"],
    ['renderer/ imports a bare builtin', 'renderer/probe/leak.ts', "import path from 'path';\nexport const x = path;"],
    ['renderer/ imports fs/promises', 'renderer/probe/leak.ts', "import { readFile } from 'fs/promises';\nexport const x = readFile;"],
    ['renderer/ imports electron', 'renderer/probe/leak.ts', "import { ipcRenderer } from 'electron';\nexport const x = ipcRenderer;"],
    ['a renderer .vue file imports electron', 'renderer/probe/Leak.vue', "<script setup lang=\"ts\">\nimport { shell } from 'electron';\nshell.beep();\n</script>\n<template><div /></template>\n"],
    ['renderer/ imports pkcs11js', 'renderer/probe/leak.ts', "import * as pkcs11 from 'pkcs11js';\nexport const x = pkcs11;"],
    ['renderer/ imports lowdb', 'renderer/probe/leak.ts', "import { Low } from 'lowdb';\nexport const x = Low;"],
    ['renderer/ imports main/', 'renderer/probe/leak.ts', "import { createWorkbenchCore } from '../../main/core/workbench-core';\nexport const x = createWorkbenchCore;"],
    ['renderer/ imports preload/', 'renderer/probe/leak.ts', "import '../../preload/preload';"],
    ['shared/ imports node:crypto', 'shared/probe.ts', "import { randomUUID } from 'node:crypto';\nexport const x = randomUUID;"],
    ['shared/ imports electron', 'shared/probe.ts', "import { app } from 'electron';\nexport const x = app;"],
    ['shared/ imports vue', 'shared/probe.ts', "import { ref } from 'vue';\nexport const x = ref;"],
    ['shared/ imports pinia', 'shared/probe.ts', "import { defineStore } from 'pinia';\nexport const x = defineStore;"],
    ['shared/ imports lowdb', 'shared/probe.ts', "import { JSONFilePreset } from 'lowdb/node';\nexport const x = JSONFilePreset;"],
    ['shared/ imports pkcs11js', 'shared/probe.ts', "import * as pkcs11 from 'pkcs11js';\nexport const x = pkcs11;"],
    ['shared/ imports main/', 'shared/probe.ts', "import { createLogger } from '../main/core/logger';\nexport const x = createLogger;"],
    ['core imports electron', 'main/core/probe.ts', "import { app } from 'electron';\nexport const x = app;"],
    ['core imports electron types', 'main/core/probe.ts', "import type { App } from 'electron';\nexport type X = App;"],
    ['the state layer imports electron/main', 'main/state/probe.ts', "import { app } from 'electron/main';\nexport const x = app;"],
    ['the CLI imports electron', 'main/cli/probe.ts', "import { app } from 'electron';\nexport const x = app;"],
    ['core imports pkcs11js', 'main/core/probe.ts', "import * as pkcs11 from 'pkcs11js';\nexport const x = pkcs11;"],
    ['the Electron shell imports pkcs11js', 'main/electron/probe.ts', "import * as pkcs11 from 'pkcs11js';\nexport const x = pkcs11;"],
    ['a service imports the PKCS#11 module by path', 'main/clusters/probe.ts', "import { Pkcs11Module } from '../hsm/pkcs11-module';\nexport const x = Pkcs11Module;"],
    ['core imports the template converter (it loads pkcs11js)', 'main/core/probe.ts', "import * as template from '../hsm/template';\nexport const x = template;"],
    ['the Electron shell imports the host child', 'main/electron/probe.ts', "import '../hsm/hsm-host-child';"],
    ['main/ imports the renderer', 'main/core/probe.ts', "import x from '../../renderer/App.vue';\nexport default x;"],
    ['the Electron shell uses ipcMain outside ipc-main.ts', 'main/electron/window.ts', "import { ipcMain } from 'electron';\nexport const x = ipcMain;"],
    ['the Electron shell uses ipcRenderer', 'main/electron/probe.ts', "import { BrowserWindow, ipcRenderer } from 'electron';\nexport const x = [BrowserWindow, ipcRenderer];"],
    ['ipc-main.ts uses ipcRenderer', 'main/electron/ipc-main.ts', "import { ipcRenderer } from 'electron';\nexport const x = ipcRenderer;"],
    ['the preload uses ipcMain', 'preload/preload.ts', "import { ipcMain } from 'electron';\nexport const x = ipcMain;"],
    ['the sandboxed preload imports node:fs', 'preload/preload.ts', "import { readFileSync } from 'node:fs';\nexport const x = readFileSync;"],
    ['the preload imports main/', 'preload/preload.ts', "import { createLogger } from '../main/core/logger';\nexport const x = createLogger;"],
  ])('%s', async (_label, filePath, code) => {
    expect(await violations(filePath, code)).toContain(RESTRICTED);
  });

  it.each([
    ['core imports electron dynamically', 'main/core/probe.ts', "export const load = (): Promise<unknown> => import('electron');"],
    ['core requires pkcs11js', 'main/core/probe.ts', "declare const require: (id: string) => unknown;\nexport const x = require('pkcs11js');"],
    ['the renderer imports lowdb dynamically', 'renderer/probe/leak.ts', "export const load = (): Promise<unknown> => import('lowdb/node');"],
    ['shared/ imports vue dynamically', 'shared/probe.ts', "export const load = (): Promise<unknown> => import('vue');"],
  ])('%s (dynamic import or require)', async (_label, filePath, code) => {
    expect(await violations(filePath, code)).toContain('no-restricted-syntax');
  });

  it('no-console fires in main/ outside the CLI', async () => {
    expect(await violations('main/core/probe.ts', "console.log('pin');\nexport {};")).toContain('no-console');
    expect(await violations('main/electron/probe.ts', "console.error('x');\nexport {};")).toContain('no-console');
  });
});

describe('layering rules allow what the architecture allows', () => {
  it.each([
    ['the HSM host imports pkcs11js', 'main/hsm/probe.ts', "import * as pkcs11 from 'pkcs11js';\nexport const x = pkcs11;"],
    ['ipc-main.ts imports ipcMain', 'main/electron/ipc-main.ts', "import { ipcMain } from 'electron';\nexport const x = ipcMain;"],
    ['the shell imports BrowserWindow and Node', 'main/electron/window.ts', "import { BrowserWindow } from 'electron';\nimport path from 'node:path';\nexport const x = [BrowserWindow, path];"],
    ['the preload imports ipcRenderer and contextBridge', 'preload/preload.ts', "import { contextBridge, ipcRenderer } from 'electron';\nimport { createWorkbenchApi } from '../shared/api';\nexport const x = [contextBridge, ipcRenderer, createWorkbenchApi];"],
    ['core imports Node and shared/', 'main/core/probe.ts', "import { readFile } from 'node:fs/promises';\nimport { operations } from '../../shared/contract/operations';\nexport const x = [readFile, operations];"],
    ['the state layer imports lowdb', 'main/state/probe.ts', "import { Low } from 'lowdb';\nexport const x = Low;"],
    ['the renderer imports shared/, vue, pinia and zod', 'renderer/probe/ok.ts', "import { operations } from '../../shared/contract/operations';\nimport { ref } from 'vue';\nimport { defineStore } from 'pinia';\nimport { z } from 'zod';\nimport Child from './Child.vue';\nexport const x = [operations, ref, defineStore, z, Child];"],
    ['the renderer imports its own folder named main', 'renderer/src/views/probe.ts', "import Main from './main/MainView.vue';\nimport { start } from '../main';\nexport const x = [Main, start];"],
    ['shared/ imports zod', 'shared/probe.ts', "import { z } from 'zod';\nexport const x = z;"],
    ['the CLI prints with console', 'main/cli/probe.ts', "console.log('done');\nexport {};"],
    ['tests import anything', 'tests/electron/probe.spec.ts', "import { app } from 'electron';\nimport * as pkcs11 from 'pkcs11js';\nexport const x = [app, pkcs11];"],
    ['the HSM host loads pkcs11js dynamically', 'main/hsm/probe.ts', "export const load = (): Promise<unknown> => import('pkcs11js');"],
    ['a service imports the HSM host interface and pool', 'main/clusters/probe.ts', "import type { HsmHost } from '../hsm/hsm-host';\nimport { createHsmHostPool } from '../hsm/hsm-host-client';\nexport type X = HsmHost;\nexport const x = createHsmHostPool;"],
    ['core imports its own modules dynamically', 'main/core/probe.ts', "export const load = (): Promise<unknown> => import('./workbench-core');"],
  ])('%s', async (_label, filePath, code) => {
    expect(await violations(filePath, code)).toEqual([]);
  });
});
