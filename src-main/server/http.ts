// Browser mode: the same UI and API as the desktop app, over HTTP + Server-Sent Events.
// Safe on a shared machine: bound to 127.0.0.1 by default; a random token (printed in the URL,
// as Jupyter does) is required on every request, the page included (a cookie set from the
// tokened URL carries it afterwards); the Host header is checked against DNS rebinding; no CORS.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { ApiError, type WorkbenchEvent } from '../api/contract';
import type { Workbench } from '../workbench/service';

export interface ServeOptions {
  host: string;
  port: number;
  /** Folder with the built renderer (index.html and assets). */
  staticDir: string;
  /** Fixed token (tests); a random one otherwise. */
  token?: string;
}

export interface RunningServer {
  server: Server;
  url: string;
  /** The URL with the token, the one to open. */
  openUrl: string;
  token: string;
  close(): Promise<void>;
}

const COOKIE = 'vaewb_token';
const MAX_BODY = 1_000_000;
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

function sameToken(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return v.join('=');
  }
  return undefined;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, message: string, field?: string): void {
  sendJson(res, status, { ok: false, error: { message, ...(field ? { field } : {}) } });
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, `Request body over ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ApiError(400, 'Request body is not valid JSON');
  }
}

export async function serve(workbench: Workbench, options: ServeOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(24).toString('hex');
  let port = options.port;
  const allowedHosts = (): Set<string> => {
    const names = new Set(['127.0.0.1', 'localhost', '[::1]']);
    if (options.host !== '127.0.0.1' && options.host !== '0.0.0.0' && options.host !== '::') names.add(options.host);
    return new Set([...names].map((n) => `${n}:${port}`));
  };

  const server = createServer(async (req, res) => {
    try {
      // DNS rebinding: a page on evil.example resolving to 127.0.0.1 still sends Host: evil.example.
      const exposedAnywhere = options.host === '0.0.0.0' || options.host === '::';
      if (!exposedAnywhere && !allowedHosts().has(req.headers.host ?? '')) {
        return sendError(res, 403, `Host '${req.headers.host ?? ''}' is not allowed`);
      }
      const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
      const queryToken = url.searchParams.get('token') ?? undefined;
      const bearer = req.headers.authorization?.startsWith('Bearer ') ? req.headers.authorization.slice(7) : undefined;
      const authorized = sameToken(cookieToken(req), token) || sameToken(bearer, token) || sameToken(queryToken, token);
      if (!authorized) {
        return sendError(res, 401, 'Missing or wrong access token: open the URL printed by `vae-workbench serve` (it carries ?token=...)');
      }
      if (url.pathname.startsWith('/api/')) return await handleApi(req, res, url);
      return await handleStatic(req, res, url, queryToken !== undefined);
    } catch (error) {
      if (error instanceof ApiError) return sendError(res, error.status, error.message, error.field);
      return sendError(res, 500, (error as Error).message);
    }
  });

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const name = url.pathname.slice('/api/'.length);
    if (name === 'events' && req.method === 'GET') return streamEvents(req, res);
    if (req.method !== 'POST') throw new ApiError(400, `Use POST for /api/${name}`);
    // Cross-site form posts carry an Origin (or none on old clients); refuse any foreign one.
    const origin = req.headers.origin;
    if (origin && !allowedHosts().has(origin.replace(/^https?:\/\//, ''))) throw new ApiError(403, `Origin '${origin}' is not allowed`);
    const payload = await readBody(req);
    const result = await workbench.dispatch(name, payload);
    sendJson(res, 200, { ok: true, result });
  }

  function streamEvents(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': connected\n\n');
    const unsubscribe = workbench.subscribe((event: WorkbenchEvent) => {
      res.write(`data: ${JSON.stringify(event)}\n\n`);
    });
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
    });
  }

  async function handleStatic(req: IncomingMessage, res: ServerResponse, url: URL, fromTokenUrl: boolean): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 400, 'Only GET for pages');
    if (fromTokenUrl) {
      // Swap the token in the URL for an HttpOnly cookie and drop it from the address bar.
      res.writeHead(302, {
        'set-cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
        location: url.pathname,
        'cache-control': 'no-store',
      });
      return void res.end();
    }
    const relative = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const file = normalize(join(options.staticDir, relative));
    if (!file.startsWith(normalize(options.staticDir) + sep)) return sendError(res, 403, 'Path outside the app');
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      if (relative === 'index.html') return sendError(res, 500, `The UI is not built: ${file} is missing. Run \`npm run build\`.`);
      return sendError(res, 404, `Not found: ${url.pathname}`);
    }
    res.writeHead(200, {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'cache-control': relative === 'index.html' ? 'no-store' : 'max-age=3600',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  port = typeof address === 'object' && address ? address.port : options.port;
  const shownHost = options.host === '0.0.0.0' || options.host === '::' ? '127.0.0.1' : options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `http://${shownHost}:${port}/`;
  return {
    server,
    url,
    openUrl: `${url}?token=${token}`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
