// The Electron security checklist settings, asserted on the exact options the app opens its
// window with (no Electron binary needed).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_CSP, isAppUrl, isExternalLinkAllowed, mainWindowOptions } from '../../../src-main/electron/windowOptions';
import { APP_INDEX_URL, APP_ROOT_URL } from '../../../src-main/electron/appProtocol';
import { APP_VERSION } from '../../../src-main/api/version';

const ROOT = join(import.meta.dirname, '..', '..', '..');

describe('main window options', () => {
  const options = mainWindowOptions('/app/out/preload/index.cjs', { width: 1200, height: 800, x: 10, y: 20 });
  it('isolate and sandbox the renderer, with no Node integration', () => {
    expect(options.webPreferences).toMatchObject({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    expect(options.webPreferences).toMatchObject({ experimentalFeatures: false });
    expect(options.webPreferences).not.toHaveProperty('enableBlinkFeatures');
    expect([options.x, options.y, options.width, options.height]).toEqual([10, 20, 1200, 800]);
  });
  it('the CSP allows scripts from the app only', () => {
    expect(APP_CSP).toContain("script-src 'self'");
    expect(APP_CSP).not.toContain('unsafe-eval');
    expect(readFileSync(join(ROOT, 'src-renderer', 'index.html'), 'utf8')).toContain("script-src 'self'");
  });
  it('only http(s) links leave the app, and only the app navigates in the window', () => {
    expect(isExternalLinkAllowed('https://arxiv.org/abs/1312.6114')).toBe(true);
    expect(isExternalLinkAllowed('file:///etc/passwd')).toBe(false);
    expect(isExternalLinkAllowed('javascript:alert(1)')).toBe(false);
    expect(isAppUrl(APP_INDEX_URL, APP_ROOT_URL)).toBe(true);
    expect(isAppUrl('file:///app/out/renderer/index.html', APP_ROOT_URL)).toBe(false);
    expect(isAppUrl('file:///etc/passwd', APP_ROOT_URL)).toBe(false);
    expect(isAppUrl('https://evil.example/', APP_ROOT_URL)).toBe(false);
    // The dev server (ELECTRON_RENDERER_URL): same scheme, host and port only.
    expect(isAppUrl('http://localhost:5173/index.html', 'http://localhost:5173/')).toBe(true);
    expect(isAppUrl('http://localhost:5174/', 'http://localhost:5173/')).toBe(false);
    // A file:// root is no longer an app root at all.
    expect(isAppUrl('file:///app/out/renderer/index.html', 'file:///app/out/renderer/')).toBe(false);
  });
  it('the window loads app://workbench/index.html, served from the renderer folder only', () => {
    expect(APP_INDEX_URL).toBe('app://workbench/index.html');
    const main = readFileSync(join(ROOT, 'src-main', 'electron', 'main.ts'), 'utf8');
    expect(main).toContain('protocol.registerSchemesAsPrivileged');
    expect(main).toContain('protocol.handle(APP_SCHEME, (request) => serveAppRequest(rendererDir, request))');
    expect(main).toContain('loadURL(process.env.ELECTRON_RENDERER_URL ?? APP_INDEX_URL)');
    expect(main).not.toContain('loadFile(');
    expect(main).not.toContain('pathToFileURL');
  });
  it('preload exposes one object and nothing else; main checks the IPC sender', () => {
    const preload = readFileSync(join(ROOT, 'src-main', 'electron', 'preload.ts'), 'utf8');
    expect(preload.match(/exposeInMainWorld/g)).toHaveLength(1);
    const main = readFileSync(join(ROOT, 'src-main', 'electron', 'main.ts'), 'utf8');
    expect(main).toContain('checkSender(event)');
    expect(main).toContain('setPermissionRequestHandler');
    expect(main).toContain('requestSingleInstanceLock');
  });
  it('the app version matches package.json', () => {
    expect(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version).toBe(APP_VERSION);
  });
});
