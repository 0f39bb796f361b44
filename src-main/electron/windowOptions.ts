// The main window's options, kept apart from the code that opens it so a test under Node can
// assert the Electron security checklist settings without an Electron binary.
import type { BrowserWindowConstructorOptions } from 'electron';

export interface WindowBounds {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized?: boolean;
}

export const DEFAULT_BOUNDS: WindowBounds = { width: 1400, height: 900 };

export function mainWindowOptions(
  preloadPath: string,
  bounds: WindowBounds = DEFAULT_BOUNDS,
): BrowserWindowConstructorOptions {
  return {
    x: bounds.x,
    y: bounds.y,
    width: bounds.width,
    height: bounds.height,
    minWidth: 900,
    minHeight: 600,
    title: 'VAE Workbench',
    show: false,
    backgroundColor: '#f6f7f9',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      experimentalFeatures: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  };
}

/** The Content-Security-Policy sent with every response of the app's own pages. */
export const APP_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** Links that may leave the app: http(s) only, opened in the system browser. */
export function isExternalLinkAllowed(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'https:' || protocol === 'http:';
  } catch {
    return false;
  }
}

/**
 * Whether `url` belongs to the app itself: the same scheme and host as `appRoot`
 * ('app://workbench/', or the dev server's http://localhost:PORT/), with no credentials.
 * Scheme and host are compared rather than `origin`, since a URL parser that does not know
 * app:// as a standard scheme (Node's) gives every such URL the origin 'null'.
 */
export function isAppUrl(url: string, appRoot: string): boolean {
  try {
    const parsed = new URL(url);
    const root = new URL(appRoot);
    if (!['app:', 'http:', 'https:'].includes(root.protocol)) return false;
    return (
      parsed.protocol === root.protocol &&
      parsed.host.toLowerCase() === root.host.toLowerCase() &&
      parsed.host !== '' &&
      parsed.username === '' &&
      parsed.password === ''
    );
  } catch {
    return false;
  }
}
