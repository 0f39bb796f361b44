// The Electron main process (src-main/electron/main.ts) run under Node against a stand-in for the
// `electron` module that records what main asks of it: the app:// scheme registered before ready
// and handled, the window loading app://workbench/index.html, navigation, new windows, webviews
// and permissions refused, IPC from foreign frames refused, appInfo naming the electron shell,
// the dialog methods wired, and the File menu no longer reading the renderer's DOM. A real
// workbench opens on a temporary data folder. (The real binary: tests/desktop/launch.test.ts.)
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Handler = (...args: any[]) => any;

const fake = vi.hoisted(() => {
  let ready: () => void = () => undefined;
  const state = {
    isReady: false,
    readyPromise: null as Promise<void> | null,
    privileged: [] as { schemes: unknown; beforeReady: boolean }[],
    protocolHandlers: new Map<string, Handler>(),
    ipcHandlers: new Map<string, Handler>(),
    appEvents: new Map<string, Handler>(),
    windows: [] as {
      options: Record<string, unknown>;
      loaded: string | null;
      contentsEvents: Map<string, Handler>;
      openHandler: Handler | null;
      sent: unknown[];
    }[],
    menu: null as unknown,
    permissionRequest: null as Handler | null,
    permissionCheck: null as Handler | null,
    openedExternal: [] as string[],
    saveDialogs: [] as unknown[],
    exitCode: null as number | null,
    userData: null as string | null,
  };
  state.readyPromise = new Promise<void>((resolve) => {
    ready = () => {
      state.isReady = true;
      resolve();
    };
  });
  class BrowserWindow {
    readonly record;
    readonly webContents;
    constructor(options: Record<string, unknown>) {
      this.record = {
        options,
        loaded: null as string | null,
        contentsEvents: new Map<string, Handler>(),
        openHandler: null as Handler | null,
        sent: [] as unknown[],
      };
      state.windows.push(this.record);
      const record = this.record;
      this.webContents = {
        setWindowOpenHandler: (handler: Handler) => (record.openHandler = handler),
        on: (event: string, handler: Handler) => record.contentsEvents.set(event, handler),
        send: (_channel: string, payload: unknown) => record.sent.push(payload),
      };
    }
    maximize() {}
    show() {}
    once() {}
    on() {}
    isDestroyed() {
      return false;
    }
    isMaximized() {
      return false;
    }
    getNormalBounds() {
      return { x: 0, y: 0, width: 1400, height: 900 };
    }
    async loadURL(url: string) {
      this.record.loaded = url;
    }
  }
  const electron = {
    app: {
      setPath: (_name: string, path: string) => (state.userData = path),
      getPath: () => '/tmp/downloads',
      getVersion: () => '0.1.0',
      requestSingleInstanceLock: () => true,
      on: (event: string, handler: Handler) => state.appEvents.set(event, handler),
      whenReady: () => state.readyPromise!,
      quit: () => undefined,
      exit: (code: number) => (state.exitCode = code),
    },
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown) =>
        state.privileged.push({ schemes, beforeReady: !state.isReady }),
      handle: (scheme: string, handler: Handler) => state.protocolHandlers.set(scheme, handler),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (handler: Handler) => (state.permissionRequest = handler),
        setPermissionCheckHandler: (handler: Handler) => (state.permissionCheck = handler),
        webRequest: { onHeadersReceived: () => undefined },
      },
    },
    ipcMain: { handle: (channel: string, handler: Handler) => state.ipcHandlers.set(channel, handler) },
    BrowserWindow,
    Menu: {
      buildFromTemplate: (template: unknown) => template,
      setApplicationMenu: (menu: unknown) => (state.menu = menu),
    },
    dialog: {
      showSaveDialog: async (...args: unknown[]) => {
        state.saveDialogs.push(args.at(-1));
        return { canceled: true };
      },
      showOpenDialog: async () => ({ canceled: true, filePaths: [] }),
      showMessageBox: async () => ({ response: 0 }),
      showErrorBox: (title: string, message: string) => {
        throw new Error(`${title}: ${message}`);
      },
    },
    shell: {
      openExternal: async (url: string) => void state.openedExternal.push(url),
      openPath: async () => '',
    },
  };
  return { state, electron, ready: () => ready() };
});

vi.mock('electron', () => ({ ...fake.electron, default: fake.electron }));

const IPC_CALL = 'workbench:call';
const dataDir = mkdtempSync(join(tmpdir(), 'vaewb-main-'));
const frame = (url: string, parent: unknown = null) => ({ senderFrame: { url, parent } });

beforeAll(async () => {
  vi.stubEnv('VAE_WORKBENCH_HOME', dataDir);
  vi.stubEnv('ELECTRON_RENDERER_URL', undefined);
  await import('../../../src-main/electron/main');
  expect(fake.state.privileged).toHaveLength(1); // at import, before ready
  fake.ready();
  // `?? null`: before the window exists, `loaded` is undefined, which is not null either.
  await vi.waitFor(() => expect(fake.state.windows[0]?.loaded ?? null).not.toBeNull(), { timeout: 30_000 });
});

afterAll(async () => {
  // Quitting closes the workbench, then exits.
  const willQuit = fake.state.appEvents.get('will-quit');
  willQuit?.({ preventDefault: () => undefined });
  await vi.waitFor(() => expect(fake.state.exitCode).toBe(0), { timeout: 30_000 });
  vi.unstubAllEnvs();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('Electron main, against a recording stand-in for electron', () => {
  it('registers app:// as a standard secure scheme before ready, and the window loads it', () => {
    expect(fake.state.privileged).toEqual([
      {
        schemes: [
          { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
        ],
        beforeReady: true,
      },
    ]);
    expect([...fake.state.protocolHandlers.keys()]).toEqual(['app']);
    const [window] = fake.state.windows;
    expect(window.loaded).toBe('app://workbench/index.html');
    expect(String((window.options.webPreferences as { preload: string }).preload)).toMatch(/preload[/\\]index\.cjs$/);
    expect(fake.state.userData).toBe(dataDir);
  });

  it('the protocol handler refuses anything outside the renderer folder', async () => {
    const handler = fake.state.protocolHandlers.get('app')!;
    for (const url of [
      'app://workbench/..%2f..%2fpackage.json',
      'app://workbench/%2e%2e/electron/main.ts',
      'app://other/x',
    ]) {
      const response = (await handler(new Request(url))) as Response;
      expect(response.status, url).toBe(404);
    }
  });

  it('navigation stays in the app; new windows are denied, http(s) links go to the system browser', () => {
    const [window] = fake.state.windows;
    const navigate = window.contentsEvents.get('will-navigate')!;
    for (const [url, refused] of [
      ['app://workbench/index.html', false],
      ['file:///etc/passwd', true],
      ['https://evil.example/', true],
      ['app://elsewhere/index.html', true],
    ] as const) {
      let prevented = false;
      navigate({ preventDefault: () => (prevented = true) }, url);
      expect(prevented, url).toBe(refused);
    }
    expect(window.openHandler!({ url: 'https://arxiv.org/abs/1312.6114' })).toEqual({ action: 'deny' });
    expect(window.openHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(fake.state.openedExternal).toEqual(['https://arxiv.org/abs/1312.6114']);
    let webviewPrevented = false;
    window.contentsEvents.get('will-attach-webview')!({ preventDefault: () => (webviewPrevented = true) });
    expect(webviewPrevented).toBe(true);
  });

  it('denies every permission', () => {
    let granted: boolean | null = null;
    fake.state.permissionRequest!({}, 'media', (answer: boolean) => (granted = answer));
    expect(granted).toBe(false);
    expect(fake.state.permissionCheck!({}, 'notifications')).toBe(false);
  });

  it('IPC: the app top frame gets appInfo naming the electron shell; other frames are refused', async () => {
    const ipc = fake.state.ipcHandlers.get(IPC_CALL)!;
    const reply = await ipc(frame('app://workbench/index.html'), 'appInfo', {});
    expect(reply).toMatchObject({ ok: true, result: { transport: 'electron', dataDir } });
    for (const event of [
      frame('https://evil.example/'),
      frame('file:///work/out/renderer/index.html'),
      frame('app://workbench/index.html', { url: 'app://workbench/index.html' }),
    ]) {
      const refused = await ipc(event, 'appInfo', {});
      expect(refused).toMatchObject({ ok: false, error: { message: expect.stringContaining('unexpected frame') } });
    }
  });

  it("IPC: the dialog methods reach Electron's dialog in main (a cancel answers canceled)", async () => {
    const ipc = fake.state.ipcHandlers.get(IPC_CALL)!;
    const reply = await ipc(frame('app://workbench/index.html'), 'exportRunWithDialog', {
      runId: 'abc',
      format: 'zip',
    });
    expect(reply).toEqual({ ok: true, result: { canceled: true } });
    expect(fake.state.saveDialogs).toEqual([
      expect.objectContaining({ defaultPath: join('/tmp/downloads', 'vae-workbench-abc.zip') }),
    ]);
  });

  it('the File menu imports through the same dialog method and no longer exports by reading the DOM', () => {
    const [file] = fake.state.menu as { label?: string; submenu: { label?: string }[] }[];
    const labels = file.submenu.map((item) => item.label).filter(Boolean);
    expect(labels).toEqual(['Open Data Folder', 'Import Bundle (.zip)…', 'Import Bundle Folder…', 'Import Data Set…']);
  });
});
