import type { WorkbenchApi } from '../../shared/index';

declare global {
  interface Window {
    /** Built by the preload (Electron) or the E2E bridge from the same `createWorkbenchApi` factory. */
    readonly workbench: WorkbenchApi;
  }
}

export {};
