// The app:// scheme that serves the built renderer to the desktop window (Electron's security
// checklist, item 18: a custom protocol instead of file://, so that a page can read nothing but
// the app's own files and has an origin of its own). No Electron import: main.ts registers the
// scheme and hands each request to `serveAppRequest`, and the tests drive the same function
// under Node with real files, links and hostile URLs.
import { readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { mimeTypeOf } from '../api/mimeTypes';
import { APP_CSP } from './windowOptions';

export const APP_SCHEME = 'app';
export const APP_HOST = 'workbench';
/** The root every app URL starts with (what `isAppUrl` compares against). */
export const APP_ROOT_URL = `${APP_SCHEME}://${APP_HOST}/`;
export const APP_INDEX_URL = `${APP_ROOT_URL}index.html`;

/** The privileges the scheme is registered with (before `app.ready`). */
export const APP_SCHEME_PRIVILEGES = {
  // A standard scheme has an origin ('app://workbench') and resolves relative URLs like http.
  standard: true,
  // A secure context, as https would be; 'self' in the CSP means this origin.
  secure: true,
  supportFetchAPI: true,
  codeCache: true,
} as const;

/**
 * The file an app:// URL names, as a path relative to the renderer folder ('assets/index.js'),
 * or null when the URL may not be served: another scheme or host, credentials or a port, a
 * segment that decodes to '.', '..', or one holding '/', '\', ':' or NUL (encoded traversal,
 * Windows drive letters and streams), an empty segment ('//etc/passwd'), or bad percent-encoding.
 * '/' is index.html. The query and fragment are ignored.
 */
export function appUrlToRelativePath(url: string): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.hostname.toLowerCase() !== APP_HOST) return null;
  if (parsed.port !== '' || parsed.username !== '' || parsed.password !== '') return null;
  if (parsed.pathname === '/' || parsed.pathname === '') return 'index.html';
  if (!parsed.pathname.startsWith('/')) return null;
  const segments: string[] = [];
  for (const raw of parsed.pathname.slice(1).split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment === '' || segment === '.' || segment === '..' || /[/\\:\0]/.test(segment)) return null;
    segments.push(segment);
  }
  return segments.join('/');
}

/** Whether `path` lies strictly inside `root` (both absolute, both resolved). */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * The real path of the regular file an app:// URL names inside `rootDir`, or null. The URL is
 * confined twice: its segments by `appUrlToRelativePath`, then the file's real path (links
 * followed) must still lie inside the root's real path, so a symbolic link out of the renderer
 * folder serves nothing.
 */
export async function resolveAppFile(rootDir: string, url: string): Promise<string | null> {
  const rel = appUrlToRelativePath(url);
  if (rel === null) return null;
  try {
    const root = await realpath(rootDir);
    const candidate = resolve(root, rel);
    if (!isInside(root, candidate)) return null;
    const real = await realpath(candidate);
    if (!isInside(root, real)) return null;
    return (await stat(real)).isFile() ? real : null;
  } catch {
    return null; // missing file, missing root, unreadable link
  }
}

function headers(contentType: string): Record<string, string> {
  return {
    'Content-Type': contentType,
    'Content-Security-Policy': APP_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-cache',
  };
}

/** The app:// protocol handler: the confined file with its MIME type and the CSP, else 404. */
export async function serveAppRequest(rootDir: string, request: Request): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response('Method not allowed', { status: 405, headers: headers('text/plain; charset=utf-8') });
  }
  const file = await resolveAppFile(rootDir, request.url);
  if (file === null) return new Response('Not found', { status: 404, headers: headers('text/plain; charset=utf-8') });
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    return new Response('Not found', { status: 404, headers: headers('text/plain; charset=utf-8') });
  }
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), {
    status: 200,
    headers: { ...headers(mimeTypeOf(file)), 'Content-Length': String(body.length) },
  });
}
