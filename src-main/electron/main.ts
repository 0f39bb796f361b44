// Electron main: one window over the workbench service, hardened as the Electron security
// checklist asks (context isolation, sandbox, no Node in the renderer, CSP, navigation and
// window-opening locked down, permissions denied, IPC senders checked).
import { app, BrowserWindow, dialog, ipcMain, Menu, session, shell, type IpcMainInvokeEvent } from 'electron';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ApiError } from '../api/contract';
import { Workbench } from '../workbench/service';
import { defaultDataDir } from '../workbench/paths';
import { IPC_CALL, IPC_EVENT } from './channels';
import { handleIpcCall } from './ipcHandler';
import { APP_CSP, DEFAULT_BOUNDS, isAppUrl, isExternalLinkAllowed, mainWindowOptions, type WindowBounds } from './windowOptions';

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
  workbench = await Workbench.open({ runQueue: true, sqliteBinding: process.env.VAE_WORKBENCH_SQLITE_BINDING || undefined });
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
      return { ok: false, error: { message: (error as Error).message } };
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
        { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    {
      label: 'View',
      submenu: [{ role: 'reload' }, { role: 'toggleDevTools' }, { type: 'separator' }, { role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, { role: 'togglefullscreen' }],
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
