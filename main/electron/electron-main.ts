import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, dialog, safeStorage, session, type BrowserWindow } from 'electron';
import { toErrorInfo, WorkbenchError } from '../../shared/errors';
import { createLogger, workbenchLogPath } from '../core/logger';
import { createWorkbenchCore, type WorkbenchCore } from '../core/workbench-core';
import { GUI_HEALTH_PROBE_MS } from '../key-stores/connection-manager';
import { keyFileProtector } from '../secrets/key-file-protector';
import { osKeyringProtector } from '../secrets/os-keyring-protector';
import { secretsDirOf } from '../secrets/secrets-dir';
import { resolveStateDir } from '../state/state-dir';
import { handleAppProtocol, registerAppSchemePrivileges } from './app-protocol';
import { registerIpcHandlers } from './ipc-main';
import { safeStorageFallbackNote, safeStorageProtector } from './safe-storage';
import { APP_ENTRY_URL } from './security-policy';
import { createMainWindow, guardAllWebContents, hardenSession } from './window';

/**
 * The Electron entry (bundled to dist/main/electron-main.js): lifecycle, one window, one core.
 * Paths are relative to this bundle: dist/main → dist/preload, dist/renderer.
 */
/** Until the state directory is known only stderr; from then on also <state dir>/logs/workbench.log, which error messages name. */
let logger = createLogger();
const preloadPath = fileURLToPath(new URL('../preload/preload.cjs', import.meta.url));
const rendererRoot = fileURLToPath(new URL('../renderer/', import.meta.url));
const hostChildEntry = fileURLToPath(new URL('./hsm-host-child.js', import.meta.url));

/** How long the GUI waits for the OS keyring: long enough to type the password into its unlock prompt. */
const GUI_KEYRING_TIMEOUT_MS = 60_000;

let mainWindow: BrowserWindow | undefined;
let core: WorkbenchCore | undefined;
let unregisterIpc: (() => void) | undefined;
let disposed = false;

function focusMainWindow(): void {
  if (!mainWindow || mainWindow.isDestroyed()) return;
  if (mainWindow.isMinimized()) mainWindow.restore();
  mainWindow.focus();
}

function openMainWindow(): void {
  const window = createMainWindow({ preloadPath });
  mainWindow = window;
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = undefined;
  });
  window.loadURL(APP_ENTRY_URL).catch((error: unknown) => logger.error('the renderer did not load', { errorMessage: error instanceof Error ? error.message : String(error) }));
}

async function start(stateDir: string): Promise<void> {
  hardenSession(session.defaultSession);
  handleAppProtocol(rendererRoot);
  const secretsDir = secretsDirOf(stateDir);
  const started = await createWorkbenchCore({
    stateDir,
    program: 'gui',
    hostChildEntry,
    logger,
    watchState: true,
    // The window shows each store's state live: a member that stops answering turns its store FAILED on its own.
    healthProbeMs: GUI_HEALTH_PROBE_MS,
    // The OS keyring first: the CLI reads it too. A person is at the desktop to answer an unlock prompt, hence the longer wait.
    secretProtectors: [
      osKeyringProtector({ timeoutMs: GUI_KEYRING_TIMEOUT_MS }),
      safeStorageProtector(safeStorage, secretsDir),
      keyFileProtector(secretsDir, { note: safeStorageFallbackNote(safeStorage) }),
    ],
    onSecretsUnprotected: (protection) => logger.warn('secrets at rest are not protected', { protector: protection.kind, description: protection.description }),
  });
  core = started;
  unregisterIpc = registerIpcHandlers({
    core: started,
    // Only the window we created may call in; the main-frame and app-origin checks sit in ipc-guard.
    isTrustedWebContents: (id) => mainWindow !== undefined && !mainWindow.isDestroyed() && mainWindow.webContents.id === id,
    onRefused: (refusal) => {
      logger.warn('IPC call refused', { operation: refusal.operation, errorName: refusal.error.name, reason: refusal.error.details?.reason, webContentsId: refusal.webContentsId });
      void started.recordRefusal(refusal.operation, refusal.error);
    },
  });
  openMainWindow();
}

async function shutdown(): Promise<void> {
  unregisterIpc?.();
  unregisterIpc = undefined;
  // Stops the HSM host children (and whatever else the core holds); a failure here must not keep the app alive.
  try {
    await core?.dispose();
  } catch (error) {
    logger.error('the core did not shut down cleanly', { errorMessage: error instanceof Error ? error.message : String(error) });
  }
  core = undefined;
}

function failToStart(error: unknown): void {
  logger.error('the workbench could not start', { errorName: error instanceof Error ? error.name : typeof error, errorMessage: error instanceof Error ? error.message : String(error) });
  // WorkbenchError messages are written for users (e.g. the state lock held by a CLI run); others are not echoed.
  const info = toErrorInfo(error);
  dialog.showErrorBox('HSM Workbench could not start', `${info.name}: ${info.message}`);
}

function resolveStateDirOrExit(): string | undefined {
  try {
    // Same resolution as the CLI, so GUI and CLI share one state directory (and its lock).
    return resolveStateDir({ env: process.env });
  } catch (error) {
    // A StateDirectoryException already says what is wrong with the directory and how to fix it.
    const refusal = error instanceof WorkbenchError ? error : new WorkbenchError('KMSInternalException', `The state directory could not be created: ${error instanceof Error ? error.message : String(error)}. Set HSM_WORKBENCH_HOME to a writable directory.`);
    // On Linux an error box shown before 'ready' reaches only stderr, so a desktop launch would just not open.
    // Nothing else has started (no window, no core, no children): exiting leaves nothing behind.
    void app.whenReady().then(() => {
      failToStart(refusal);
      app.exit(1);
    });
    return undefined;
  }
}

const stateDir = resolveStateDirOrExit();
if (stateDir !== undefined) runApp(stateDir);

/** Everything the app does once it knows its state directory. */
function runApp(stateDir: string): void {
  logger = createLogger({ file: workbenchLogPath(stateDir) });
  // Chromium's profile (and the single-instance lock, which is keyed on it) lives in a subdirectory of the
  // state directory: otherwise it would be written straight into it (on Linux both are ~/.config/hsm-workbench),
  // and a workbench run with its own HSM_WORKBENCH_HOME would share the user's profile.
  app.setPath('userData', join(stateDir, 'electron'));

  // Before ready: the sandbox for every renderer, and the privileged scheme the renderer is served from.
  app.enableSandbox();
  registerAppSchemePrivileges();
  guardAllWebContents(app, logger);

  if (!app.requestSingleInstanceLock()) {
    // Another workbench window is open on this state directory; it focuses itself on 'second-instance'.
    app.quit();
  } else {
    app.on('second-instance', () => focusMainWindow());
    app.on('window-all-closed', () => app.quit());
    app.on('activate', () => {
      // macOS: clicking the dock icon with no window open reopens it.
      if (core && !mainWindow) openMainWindow();
    });
    app.on('will-quit', (event) => {
      if (disposed) return;
      event.preventDefault();
      void shutdown().finally(() => {
        disposed = true;
        app.quit();
      });
    });
    void app
      .whenReady()
      .then(() => start(stateDir))
      .catch(async (error: unknown) => {
        failToStart(error);
        await shutdown();
        app.exit(1);
      });
  }
}
