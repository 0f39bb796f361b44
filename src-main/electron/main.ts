// Electron main: one window over the workbench service, hardened as the Electron security
// checklist asks (context isolation, sandbox, no Node in the renderer, CSP, navigation and
// window-opening locked down, permissions denied, IPC senders checked).
import { app, BrowserWindow, dialog, ipcMain, Menu, session, shell, type IpcMainInvokeEvent } from 'electron';
import { readFileSync, writeFileSync, mkdirSync, existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ApiError, type ExportResult, type ImportResult } from '../api/contract';
import { ipcErrorOf } from '../workbench/errors';
import { Workbench } from '../workbench/service';
import { defaultDataDir } from '../workbench/paths';
import { IPC_CALL, IPC_EVENT } from './channels';
import { handleIpcCall } from './ipcHandler';
import {
  APP_CSP,
  DEFAULT_BOUNDS,
  isAppUrl,
  isExternalLinkAllowed,
  mainWindowOptions,
  type WindowBounds,
} from './windowOptions';

const here = dirname(fileURLToPath(import.meta.url));
const rendererIndex = join(here, '..', 'renderer', 'index.html');
const appRoot = process.env.ELECTRON_RENDERER_URL ?? pathToFileURL(dirname(rendererIndex) + '/').href;
const boundsFile = (): string => join(defaultDataDir(), 'window.json');

let workbench: Workbench | null = null;
let mainWindow: BrowserWindow | null = null;

// One data folder for the app, the CLI and browser mode (Electron would otherwise use the product name).
app.setPath('userData', defaultDataDir());

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

  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [APP_CSP] } });
  });

  ipcMain.handle(IPC_CALL, async (event, method: unknown, payload: unknown) => {
    try {
      checkSender(event);
    } catch (error) {
      return { ok: false, error: ipcErrorOf(error) };
    }
    return handleIpcCall(service, method, payload);
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
  if (process.env.ELECTRON_RENDERER_URL) await window.loadURL(process.env.ELECTRON_RENDERER_URL);
  else await window.loadFile(rendererIndex);
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
        // Bundles (issue #6). The renderer cannot open native dialogs (its preload exposes only
        // call/subscribe), so import and export of the desktop app live here.
        { label: 'Import Bundle (.zip)…', click: () => void importBundleFromMenu('zip') },
        { label: 'Import Bundle Folder…', click: () => void importBundleFromMenu('folder') },
        { label: 'Export Run as .zip…', click: () => void exportRunFromMenu('zip') },
        { label: 'Export Run to Folder…', click: () => void exportRunFromMenu('folder') },
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

async function importBundleFromMenu(kind: 'zip' | 'folder'): Promise<void> {
  const service = workbench;
  if (!service) return;
  const options: Electron.OpenDialogOptions =
    kind === 'zip'
      ? {
          title: 'Import a run bundle',
          properties: ['openFile'],
          filters: [{ name: 'Run bundle', extensions: ['zip'] }],
        }
      : { title: 'Import a run bundle folder', properties: ['openDirectory'] };
  const picked =
    mainWindow && !mainWindow.isDestroyed()
      ? await dialog.showOpenDialog(mainWindow, options)
      : await dialog.showOpenDialog(options);
  if (picked.canceled || picked.filePaths.length === 0) return;
  try {
    // Every hash is verified before anything is written; the new run reaches the window as an event.
    const result = (await service.dispatch('importBundle', { path: picked.filePaths[0] })) as ImportResult;
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

/** The run shown in the window's details panel (the renderer marks it with data-run-id). */
async function focusedRunId(): Promise<string | null> {
  if (!mainWindow || mainWindow.isDestroyed()) return null;
  const value: unknown = await mainWindow.webContents
    .executeJavaScript(`document.querySelector('[data-testid="run-detail"]')?.getAttribute('data-run-id') ?? ''`)
    .catch(() => '');
  return typeof value === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(value) ? value : null;
}

async function exportRunFromMenu(kind: 'zip' | 'folder'): Promise<void> {
  const service = workbench;
  if (!service) return;
  const runId = await focusedRunId();
  if (!runId) {
    await showMessage({
      type: 'info',
      message: 'No run chosen',
      detail: "Click a run's name in the runs table so its details show, then choose Export Run again.",
    });
    return;
  }
  const choice = await showMessage({
    type: 'question',
    message: `Export run ${runId}`,
    detail: 'Which checkpoint goes into the bundle? (Metrics and image grids are always complete.)',
    buttons: ['Latest checkpoint', 'Best checkpoint (highest test ELBO)', 'Cancel'],
    defaultId: 0,
    cancelId: 2,
  });
  if (choice.response === 2) return;
  const checkpoint = choice.response === 1 ? 'best' : 'latest';
  let out: string;
  if (kind === 'zip') {
    const options: Electron.SaveDialogOptions = {
      title: 'Export run bundle',
      defaultPath: join(app.getPath('downloads'), `vae-workbench-${runId}.zip`),
      filters: [{ name: 'Run bundle', extensions: ['zip'] }],
      properties: ['createDirectory', 'showOverwriteConfirmation'],
    };
    const saved =
      mainWindow && !mainWindow.isDestroyed()
        ? await dialog.showSaveDialog(mainWindow, options)
        : await dialog.showSaveDialog(options);
    if (saved.canceled || !saved.filePath) return;
    out = saved.filePath.toLowerCase().endsWith('.zip') ? saved.filePath : `${saved.filePath}.zip`;
  } else {
    const options: Electron.OpenDialogOptions = {
      title: 'Export run bundle into an empty folder',
      properties: ['openDirectory', 'createDirectory'],
    };
    const picked =
      mainWindow && !mainWindow.isDestroyed()
        ? await dialog.showOpenDialog(mainWindow, options)
        : await dialog.showOpenDialog(options);
    if (picked.canceled || picked.filePaths.length === 0) return;
    out = picked.filePaths[0];
  }
  try {
    // The save dialog already asked about replacing a file; exportRun refuses existing paths, so
    // write beside it and move it over the old one.
    const replacing = kind === 'zip' && existsSync(out);
    const target = replacing ? join(dirname(out), `.vae-workbench-export-${process.pid}-${Date.now()}.zip`) : out;
    const result = (await service.dispatch('exportRun', { runId, checkpoint, out: target })) as ExportResult;
    if (replacing) {
      rmSync(out, { force: true });
      renameSync(target, out);
    }
    const shown = await showMessage({
      type: 'info',
      message: `Exported run ${result.runId}`,
      detail: `${result.files.length} files, ${result.bytes} bytes, checkpoint at step ${result.checkpointStep}:\n${out}`,
      buttons: ['OK', 'Show in Folder'],
      defaultId: 0,
    });
    if (shown.response === 1) shell.showItemInFolder(out);
  } catch (error) {
    await showMessage({
      type: 'error',
      message: 'Export failed',
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
