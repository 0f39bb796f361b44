// The app:// protocol handler's confinement (src-main/electron/appProtocol.ts), driven under Node
// with real files: only regular files under the renderer folder are served, whatever the URL
// says (traversal, encoded dots and slashes, absolute paths, NUL, symbolic links out).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  APP_INDEX_URL,
  APP_ROOT_URL,
  APP_SCHEME_PRIVILEGES,
  appUrlToRelativePath,
  resolveAppFile,
  serveAppRequest,
} from '../../../src-main/electron/appProtocol';
import { APP_CSP, isAppUrl } from '../../../src-main/electron/windowOptions';
import { mimeTypeOf } from '../../../src-main/api/mimeTypes';

let base: string;
let root: string;
let secret: string;

beforeAll(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'vaewb-appproto-')));
  root = join(base, 'renderer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>VAE Workbench</title>');
  writeFileSync(join(root, 'assets', 'index-abc.js'), 'console.log(1);');
  writeFileSync(join(root, 'assets', 'index-abc.css'), 'body{}');
  writeFileSync(join(root, 'assets', 'font.woff2'), Buffer.from([0x77, 0x4f, 0x46, 0x32]));
  writeFileSync(join(root, 'assets', 'a b.svg'), '<svg/>');
  // Outside the renderer folder: a sibling whose name starts like the root, and a secret.
  secret = join(base, 'secret.txt');
  writeFileSync(secret, 'do not serve');
  mkdirSync(join(base, 'renderer-evil'));
  writeFileSync(join(base, 'renderer-evil', 'x.js'), 'evil');
  symlinkSync(secret, join(root, 'assets', 'leak.txt'));
  symlinkSync(base, join(root, 'up'));
  symlinkSync(join(root, 'assets', 'index-abc.js'), join(root, 'inside-link.js'));
  mkdirSync(join(root, 'folder'));
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('app:// URL to a path under the renderer folder', () => {
  it('maps the app root and plain paths', () => {
    expect(appUrlToRelativePath(APP_ROOT_URL)).toBe('index.html');
    expect(appUrlToRelativePath(APP_INDEX_URL)).toBe('index.html');
    expect(appUrlToRelativePath('app://workbench/assets/index-abc.js?v=1#top')).toBe('assets/index-abc.js');
    expect(appUrlToRelativePath('app://workbench/assets/a%20b.svg')).toBe('assets/a b.svg');
    expect(appUrlToRelativePath('app://WORKBENCH/index.html')).toBe('index.html');
  });

  it('refuses other schemes, hosts, ports and credentials', () => {
    for (const url of [
      'file:///etc/passwd',
      'https://workbench/index.html',
      'app://other/index.html',
      'app://workbench:8080/index.html',
      'app://user:pw@workbench/index.html',
      'app:index.html',
      'not a url',
    ])
      expect(appUrlToRelativePath(url), url).toBeNull();
  });

  it('refuses encoded traversal, encoded separators, drive letters, NUL and empty segments', () => {
    for (const url of [
      'app://workbench/..%2f..%2fsecret.txt',
      'app://workbench/%2e%2e%2fsecret.txt',
      'app://workbench/assets/%2E%2E%5C%2E%2E%5Csecret.txt',
      'app://workbench/..%5csecret.txt',
      'app://workbench/%2fetc%2fpasswd',
      'app://workbench//etc/passwd',
      'app://workbench/C:%5cWindows%5cwin.ini',
      'app://workbench/C:/Windows/win.ini',
      'app://workbench/index.html%00.png',
      'app://workbench/%00',
      'app://workbench/%E0%A4%A',
      'app://workbench/assets/',
    ])
      expect(appUrlToRelativePath(url), url).toBeNull();
  });

  it('literal and %2e dot segments are resolved by the URL parser and stay under the root', () => {
    // WHATWG parsing removes them before the handler sees the path: at worst a missing file.
    expect(appUrlToRelativePath('app://workbench/assets/../../../secret.txt')).toBe('secret.txt');
    expect(appUrlToRelativePath('app://workbench/%2e%2e/%2e%2e/etc/passwd')).toBe('etc/passwd');
  });
});

describe('resolveAppFile: real files, links followed and confined', () => {
  it('serves files inside the folder, and links that stay inside', async () => {
    expect(await resolveAppFile(root, APP_INDEX_URL)).toBe(join(root, 'index.html'));
    expect(await resolveAppFile(root, 'app://workbench/assets/index-abc.js')).toBe(
      join(root, 'assets', 'index-abc.js'),
    );
    expect(await resolveAppFile(root, 'app://workbench/inside-link.js')).toBe(join(root, 'assets', 'index-abc.js'));
  });

  it('refuses traversal to files that exist outside the folder', async () => {
    for (const url of [
      'app://workbench/../secret.txt',
      'app://workbench/assets/../../secret.txt',
      'app://workbench/%2e%2e/secret.txt',
      'app://workbench/..%2fsecret.txt',
      'app://workbench/..%2frenderer-evil/x.js',
      `app://workbench/${encodeURIComponent(secret)}`,
      `app://workbench${secret}`,
    ])
      expect(await resolveAppFile(root, url), url).toBeNull();
  });

  it('refuses symbolic links out of the folder (real path checked)', async () => {
    expect(await resolveAppFile(root, 'app://workbench/assets/leak.txt')).toBeNull();
    expect(await resolveAppFile(root, 'app://workbench/up/secret.txt')).toBeNull();
    expect(await resolveAppFile(root, 'app://workbench/up/renderer-evil/x.js')).toBeNull();
    // Confinement is by real path: a link that leaves and comes back names a file inside.
    expect(await resolveAppFile(root, 'app://workbench/up/renderer/index.html')).toBe(join(root, 'index.html'));
  });

  it('refuses folders, missing files and a missing root', async () => {
    expect(await resolveAppFile(root, 'app://workbench/folder')).toBeNull();
    expect(await resolveAppFile(root, 'app://workbench/missing.js')).toBeNull();
    expect(await resolveAppFile(join(base, 'nope'), APP_INDEX_URL)).toBeNull();
  });
});

describe('serveAppRequest: the protocol handler', () => {
  it('answers with the file, its MIME type and the CSP', async () => {
    const response = await serveAppRequest(root, new Request(APP_INDEX_URL));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(APP_CSP);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await response.text()).toBe('<!doctype html><title>VAE Workbench</title>');

    const script = await serveAppRequest(root, new Request('app://workbench/assets/index-abc.js'));
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(script.headers.get('content-length')).toBe('15');
    expect(await script.text()).toBe('console.log(1);');

    const font = await serveAppRequest(root, new Request('app://workbench/assets/font.woff2'));
    expect(font.headers.get('content-type')).toBe('font/woff2');
    expect([...new Uint8Array(await font.arrayBuffer())]).toEqual([0x77, 0x4f, 0x46, 0x32]);
  });

  it('404s anything outside, with the CSP still set; 405s writes', async () => {
    for (const url of [
      'app://workbench/assets/leak.txt',
      'app://workbench/..%2fsecret.txt',
      'app://other/index.html',
    ]) {
      const response = await serveAppRequest(root, new Request(url));
      expect(response.status, url).toBe(404);
      expect(response.headers.get('content-security-policy')).toBe(APP_CSP);
      expect(await response.text()).not.toContain('do not serve');
    }
    const post = await serveAppRequest(root, new Request(APP_INDEX_URL, { method: 'POST', body: 'x' }));
    expect(post.status).toBe(405);
  });

  it('knows the MIME types of what the build emits', () => {
    expect(mimeTypeOf('a/index.css')).toBe('text/css; charset=utf-8');
    expect(mimeTypeOf('a/x.SVG')).toBe('image/svg+xml');
    expect(mimeTypeOf('a/x.wasm')).toBe('application/wasm');
    expect(mimeTypeOf('a/x.png')).toBe('image/png');
    expect(mimeTypeOf('a/x.unknown')).toBe('application/octet-stream');
    expect(mimeTypeOf('a/Makefile')).toBe('application/octet-stream');
    // As path.extname: a leading dot is no extension, a dotted folder lends none, nor does Object's prototype.
    expect(mimeTypeOf('a/.png')).toBe('application/octet-stream');
    expect(mimeTypeOf('a.png/readme')).toBe('application/octet-stream');
    expect(mimeTypeOf('a\\b.Html')).toBe('text/html; charset=utf-8');
    expect(mimeTypeOf('a/x.constructor')).toBe('application/octet-stream');
    expect(mimeTypeOf('a/x.')).toBe('application/octet-stream');
  });

  it("the scheme is standard and secure, so the CSP's 'self' is app://workbench", () => {
    expect(APP_SCHEME_PRIVILEGES).toMatchObject({ standard: true, secure: true });
    expect(APP_SCHEME_PRIVILEGES).not.toHaveProperty('bypassCSP');
  });
});

describe('isAppUrl with the app:// root', () => {
  it('accepts the app and nothing else', () => {
    expect(isAppUrl('app://workbench/index.html', APP_ROOT_URL)).toBe(true);
    expect(isAppUrl('app://workbench/#/runs', APP_ROOT_URL)).toBe(true);
    for (const url of [
      'app://other/index.html',
      'file:///work/out/renderer/index.html',
      'https://workbench/index.html',
      'foo://workbench/index.html',
      'app://user@workbench/index.html',
      'javascript:alert(1)',
      'about:blank',
    ])
      expect(isAppUrl(url, APP_ROOT_URL), url).toBe(false);
  });
});
