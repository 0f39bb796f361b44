// Electron main: one window over the workbench service, hardened as the Electron security
// checklist asks (context isolation, sandbox, no Node in the renderer, CSP, the renderer served
// from app:// rather than file://, navigation and window-opening locked down, permissions denied,
// IPC senders checked). README.md's Security section lists each item and where it is done.
import { app, BrowserWindow, dialog, ipcMain, Menu, protocol, session, shell, type IpcMainInvokeEvent } from 'electron';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiError } from '../api/contract';
import { ipcErrorOf } from '../workbench/errors';
import { Workbench } from '../workbench/service';
import { defaultDataDir } from '../workbench/paths';
import { IPC_CALL, IPC_EVENT } from './channels';
import { createDesktopApi, type DesktopDialogs } from './desktopApi';
import { handleIpcCall } from './ipcHandler';
import { APP_INDEX_URL, APP_ROOT_URL, APP_SCHEME, APP_SCHEME_PRIVILEGES, serveAppRequest } from './appProtocol';
import {
  APP_CSP,
  DEFAULT_BOUNDS,
  isAppUrl,
  isExternalLinkAllowed,
  mainWindowOptions,
  type WindowBounds,
} from './windowOptions';

const here = dirname(fileURLToPath(import.meta.url));
const rendererDir = join(here, '..', 'renderer');
const appRoot = process.env.ELECTRON_RENDERER_URL ?? APP_ROOT_URL;
const boundsFile = (): string => join(defaultDataDir(), 'window.json');

let workbench: Workbench | null = null;
let mainWindow: BrowserWindow | null = null;

/** Electron's dialogs, attached to the window when there is one, for the desktop API. */
const dialogs: DesktopDialogs = {
  showOpenDialog: (options) =>
    mainWindow && !mainWindow.isDestroyed()
      ? dialog.showOpenDialog(mainWindow, options)
      : dialog.showOpenDialog(options),
  showSaveDialog: (options) =>
    mainWindow && !mainWindow.isDestroyed()
      ? dialog.showSaveDialog(mainWindow, options)
      : dialog.showSaveDialog(options),
  defaultSaveDir: () => app.getPath('downloads'),
};

/** The desktop shell's methods (native dialogs), answered for the renderer and the File menu alike. */
const desktop = createDesktopApi(() => workbench, dialogs);

// One data folder for the app, the CLI and browser mode (Electron would otherwise use the product name).
app.setPath('userData', defaultDataDir());

// app://workbench/ serves the built renderer folder and nothing else (must be registered before ready).
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }]);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    }
  });
  app.whenReady().then(start, (error: unknown) => fatal(error));
}

function fatal(error: unknown): void {
  dialog.showErrorBox('VAE Workbench could not start', error instanceof Error ? error.message : String(error));
  app.exit(1);
}

function loadBounds(): WindowBounds {
  try {
    return { ...DEFAULT_BOUNDS, ...(JSON.parse(readFileSync(boundsFile(), 'utf8')) as WindowBounds) };
  } catch {
    return DEFAULT_BOUNDS;
  }
}

function saveBounds(window: BrowserWindow): void {
  try {
    mkdirSync(dirname(boundsFile()), { recursive: true });
    writeFileSync(boundsFile(), JSON.stringify({ ...window.getNormalBounds(), maximized: window.isMaximized() }));
  } catch {
    // Losing the window position is not worth an error dialog.
  }
}

/** Only the app's own top frame may call the API. */
function checkSender(event: IpcMainInvokeEvent): void {
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null || !isAppUrl(frame.url, appRoot)) {
    throw new ApiError(403, `IPC from an unexpected frame (${frame?.url ?? 'unknown'}) was refused`);
  }
}

async function start(): Promise<void> {
  workbench = await Workbench.open({
    runQueue: true,
    sqliteBinding: process.env.VAE_WORKBENCH_SQLITE_BINDING || undefined,
  });
  const service = workbench;

  protocol.handle(APP_SCHEME, (request) => serveAppRequest(rendererDir, request));
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  // app:// responses carry the CSP themselves (serveAppRequest); this covers the dev server's.
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [APP_CSP] } });
  });

  ipcMain.handle(IPC_CALL, async (event, method: unknown, payload: unknown) => {
    try {
      checkSender(event);
    } catch (error) {
      return { ok: false, error: ipcErrorOf(error) };
    }
    return handleIpcCall(service, method, payload, desktop);
  });

  const bounds = loadBounds();
  const window = new BrowserWindow(mainWindowOptions(join(here, '..', 'preload', 'index.cjs'), bounds));
  mainWindow = window;
  if (bounds.maximized) window.maximize();
  window.once('ready-to-show', () => window.show());
  window.on('close', () => saveBounds(window));
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (isExternalLinkAllowed(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  window.webContents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, appRoot)) event.preventDefault();
  });
  window.webContents.on('will-attach-webview', (event) => event.preventDefault());

  const unsubscribe = service.subscribe((event) => {
    if (!window.isDestroyed()) window.webContents.send(IPC_EVENT, event);
  });
  window.on('closed', () => {
    unsubscribe();
    mainWindow = null;
  });

  Menu.setApplicationMenu(buildMenu());
  await window.loadURL(process.env.ELECTRON_RENDERER_URL ?? APP_INDEX_URL);
}

function buildMenu(): Menu {
  return Menu.buildFromTemplate([
    {
      label: 'File',
      submenu: [
        {
          label: 'Open Data Folder',
          click: () => void shell.openPath(workbench?.paths.dataDir ?? defaultDataDir()),
        },
        { type: 'separator' },
        // Bundles (issue #6). Export lives in the run's details panel, which knows the run and
        // asks main for the save dialog through the preload bridge (exportRunWithDialog).
        { label: 'Import Bundle (.zip)…', click: () => void importBundleFromMenu('zip') },
        { label: 'Import Bundle Folder…', click: () => void importBundleFromMenu('folder') },
        { type: 'separator' },
        // Data sets (issue #13): copied into the data folder; the new-run form lists them by id.
        { label: 'Import Data Set…', click: () => void importDatasetFromMenu() },
        { type: 'separator' },
        { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [
        { role: 'reload' },
        { role: 'toggleDevTools' },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { role: 'togglefullscreen' },
      ],
    },
    {
      role: 'help',
      submenu: [
        {
          label: 'About VAE Workbench',
          click: () =>
            void dialog.showMessageBox({
              type: 'info',
              message: `VAE Workbench ${app.getVersion()}`,
              detail: `Data folder: ${workbench?.paths.dataDir ?? defaultDataDir()}`,
            }),
        },
      ],
    },
  ]);
}

/** A message box attached to the window when there is one. */
function showMessage(options: Electron.MessageBoxOptions): Promise<Electron.MessageBoxReturnValue> {
  return mainWindow && !mainWindow.isDestroyed()
    ? dialog.showMessageBox(mainWindow, options)
    : dialog.showMessageBox(options);
}

/** File › Import Bundle…: the same dialog and import as the window's import panel, reported in a message box. */
async function importBundleFromMenu(format: 'zip' | 'folder'): Promise<void> {
  try {
    const outcome = await desktop.importBundleWithDialog({ format });
    if (outcome.canceled) return;
    const { result } = outcome;
    await showMessage({
      type: result.warnings.length > 0 ? 'warning' : 'info',
      message: `Imported “${result.run.name}” as run ${result.run.id}`,
      detail: [
        `${result.metricPoints} metric points and ${result.images} image grids, from run ${result.sourceRunId}.`,
        ...result.warnings,
      ].join('\n\n'),
    });
  } catch (error) {
    await showMessage({
      type: 'error',
      message: 'Import refused',
      detail: error instanceof Error ? error.message : String(error),
    });
  }
}

/** File › Import Data Set…: the open dialog, then importDataset; the form's picker hears of it by event. */
async function importDatasetFromMenu(): Promise<void> {
  try {
    const outcome = await desktop.importDatasetWithDialog({});
    if (outcome.canceled) return;
    const { result } = outcome;
    await showMessage({
      type: 'info',
      message: `Imported data set “${result.name}” as ${result.ref}`,
      detail: `${result.count} images of ${result.height}x${result.width}x${result.channels}, sha256 ${result.sha256}. Pick it in the new-run form's Dataset list.`,
    });
  } catch (error) {
    await showMessage({
      type: 'error',
      message: 'Data set refused',
      detail: error instanceof Error ? error.message : String(error),
    });
  }
}

app.on('window-all-closed', () => {
  app.quit();
});

app.on('will-quit', (event) => {
  if (workbench) {
    // Pause running runs (they keep a checkpoint) and flush metrics before the process ends.
    event.preventDefault();
    const closing = workbench;
    workbench = null;
    void closing.close().finally(() => app.exit(0));
  }
});
