// Browser mode: the same UI and API as the desktop app, over HTTP + Server-Sent Events.
// Safe on a shared machine: bound to 127.0.0.1 by default; a random token (printed in the URL,
// as Jupyter does) is required on every request, the page included (a cookie set from the
// tokened URL carries it afterwards); the Host header is checked against DNS rebinding; no CORS.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, normalize, sep } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { confineRequest } from '../api/confine';
import { ApiError, type ExportResult, type RunSummary, type WorkbenchEvent } from '../api/contract';
import { mimeTypeOf } from '../api/mimeTypes';
import { MAX_DATA_FILE_BYTES } from '../data/files';
import { toApiError } from '../workbench/errors';
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
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** Largest bundle /upload/import accepts. */
const MAX_UPLOAD = 1024 ** 3;
const UPLOAD_TYPES = ['application/zip', 'application/x-zip-compressed', 'application/octet-stream'];
/** Largest data file /upload/dataset accepts (the data readers' own limit). */
const MAX_DATASET_UPLOAD = MAX_DATA_FILE_BYTES;

/** ?checkpoint= of an export download: 'latest' (default), 'best' or a step. */
function parseCheckpointParam(value: string | null): 'latest' | 'best' | number {
  if (value === null || value === '' || value === 'latest') return 'latest';
  if (value === 'best') return 'best';
  if (/^\d{1,15}$/.test(value)) return Number(value);
  throw new ApiError(400, `checkpoint must be 'latest', 'best' or a step number, got '${value}'`, 'checkpoint');
}

/** A file name safe to create in a temporary folder, ending in .zip; null when nothing is left of it. */
function safeUploadName(name: string): string | null {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, 120);
  if (!clean) return null;
  return clean.toLowerCase().endsWith('.zip') ? clean : `${clean}.zip`;
}

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
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
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
        return sendError(
          res,
          401,
          'Missing or wrong access token: open the URL printed by `vae-workbench serve` (it carries ?token=...)',
        );
      }
      if (url.pathname.startsWith('/api/')) return await handleApi(req, res, url);
      // Bundle transfer (issue #6): the same token, Host and Origin checks as the API.
      if (url.pathname.startsWith('/download/export/')) return await handleExportDownload(req, res, url);
      if (url.pathname === '/upload/import') return await handleImportUpload(req, res, url);
      if (url.pathname === '/upload/dataset') return await handleDatasetUpload(req, res, url);
      return await handleStatic(req, res, url, queryToken !== undefined);
    } catch (error) {
      const { status, message, field } = toApiError(error); // the facade's one error table
      return sendError(res, status, message, field);
    }
  });

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const name = url.pathname.slice('/api/'.length);
    if (name === 'events' && req.method === 'GET') return streamEvents(req, res);
    if (req.method !== 'POST') throw new ApiError(400, `Use POST for /api/${name}`);
    // Cross-site form posts carry an Origin (or none on old clients); refuse any foreign one.
    checkOrigin(req);
    const payload = await readBody(req);
    // No server paths over the web API (issue #13): bundles by upload/download, data sets by id.
    await confineRequest(name, payload, (runId) => workbench.dispatch('getRun', { runId }) as Promise<RunSummary>);
    const result = await workbench.dispatch(name, payload);
    sendJson(res, 200, { ok: true, result });
  }

  /**
   * Refuses a request from a foreign page (no Origin: a plain navigation or a script). Exposed on
   * every interface (--host 0.0.0.0), the page's own origin is whatever host the browser used.
   */
  function checkOrigin(req: IncomingMessage): void {
    const origin = req.headers.origin;
    if (!origin) return;
    const host = origin.replace(/^https?:\/\//, '');
    const exposedAnywhere = options.host === '0.0.0.0' || options.host === '::';
    if (allowedHosts().has(host) || (exposedAnywhere && host === req.headers.host)) return;
    throw new ApiError(403, `Origin '${origin}' is not allowed`);
  }

  /**
   * GET /download/export/<runId>.zip?checkpoint=latest|best|<step>: exportRun into a temporary
   * .zip, streamed as an attachment, then deleted.
   */
  async function handleExportDownload(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      throw new ApiError(400, 'Use GET for /download/export/<runId>.zip');
    checkOrigin(req);
    const match = /^\/download\/export\/([A-Za-z0-9_-]{1,64})\.zip$/.exec(url.pathname);
    if (!match) throw new ApiError(404, `Not found: ${url.pathname} (use /download/export/<runId>.zip)`);
    const checkpoint = parseCheckpointParam(url.searchParams.get('checkpoint'));
    const folder = await mkdtemp(join(tmpdir(), 'vaewb-export-'));
    try {
      const result = (await workbench.dispatch('exportRun', {
        runId: match[1],
        checkpoint,
        out: join(folder, `${match[1]}.zip`),
      })) as ExportResult;
      const { size } = await stat(result.path);
      res.writeHead(200, {
        'content-type': 'application/zip',
        'content-length': String(size),
        'content-disposition': `attachment; filename="vae-workbench-${result.runId}-step${result.checkpointStep}.zip"`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      if (req.method === 'HEAD') return void res.end();
      try {
        await pipeline(createReadStream(result.path), res);
      } catch {
        res.destroy(); // the client went away mid-download; headers are out, so no error body
      }
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }

  /**
   * POST /upload/import with a zip body (application/zip or application/octet-stream): streamed
   * to a temporary file, imported (hashes verified before anything is written), then deleted.
   * Answers like the API: {ok, result} or {ok: false, error} (400 for a refused bundle).
   */
  async function handleImportUpload(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'POST') throw new ApiError(400, 'Use POST for /upload/import');
    checkOrigin(req);
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (!UPLOAD_TYPES.includes(type))
      throw new ApiError(
        400,
        `Upload a .zip bundle as application/zip or application/octet-stream (got '${type || 'no content type'}')`,
      );
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > MAX_UPLOAD) throw new ApiError(413, `The bundle is over ${MAX_UPLOAD} bytes`);
    // The name the user picked, for messages; the file on disk always gets a safe name.
    const shownName =
      (req.headers['x-file-name'] ? safeUploadName(String(req.headers['x-file-name'])) : null) ??
      url.searchParams.get('name') ??
      'upload.zip';
    const folder = await mkdtemp(join(tmpdir(), 'vaewb-upload-'));
    const file = join(folder, safeUploadName(shownName) ?? 'upload.zip');
    try {
      let size = 0;
      const limit = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          size += chunk.length;
          if (size > MAX_UPLOAD) done(new ApiError(413, `The bundle is over ${MAX_UPLOAD} bytes`));
          else done(null, chunk);
        },
      });
      await pipeline(req, limit, createWriteStream(file));
      if (size === 0) throw new ApiError(400, 'The upload is empty: send the bundle .zip as the request body');
      try {
        const result = await workbench.dispatch('importBundle', { path: file });
        sendJson(res, 200, { ok: true, result });
      } catch (error) {
        // Name the file the user chose, not the temporary copy.
        if (error instanceof ApiError)
          throw new ApiError(
            error.status,
            error.message.split(file).join(shownName).split(folder).join('upload'),
            error.field,
          );
        throw error;
      }
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }

  /**
   * POST /upload/dataset?name=<display name> with the data file as the body (an IDX file, plain or
   * .gz, or a .npy file, at most MAX_DATASET_UPLOAD bytes): streamed to a temporary file, imported
   * into the data folder (importDataset), then deleted. Answers {ok, result: DatasetInfo}.
   */
  async function handleDatasetUpload(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (req.method !== 'POST') throw new ApiError(400, 'Use POST for /upload/dataset');
    checkOrigin(req);
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/octet-stream' && type !== 'application/gzip')
      throw new ApiError(400, `Upload a data file as application/octet-stream (got '${type || 'no content type'}')`);
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > MAX_DATASET_UPLOAD) throw new ApiError(413, `The data file is over ${MAX_DATASET_UPLOAD} bytes`);
    const name = (url.searchParams.get('name') ?? '').trim().slice(0, 200) || 'uploaded data set';
    const folder = await mkdtemp(join(tmpdir(), 'vaewb-dataset-'));
    const file = join(folder, 'upload.bin');
    try {
      let size = 0;
      const limit = new Transform({
        transform(chunk: Buffer, _encoding, done) {
          size += chunk.length;
          if (size > MAX_DATASET_UPLOAD) done(new ApiError(413, `The data file is over ${MAX_DATASET_UPLOAD} bytes`));
          else done(null, chunk);
        },
      });
      await pipeline(req, limit, createWriteStream(file));
      if (size === 0) throw new ApiError(400, 'The upload is empty: send the data file as the request body');
      try {
        const result = await workbench.dispatch('importDataset', { path: file, name });
        sendJson(res, 200, { ok: true, result });
      } catch (error) {
        if (error instanceof ApiError)
          throw new ApiError(
            error.status,
            error.message.split(file).join(name).split(folder).join('upload'),
            error.field,
          );
        throw error;
      }
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
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

  async function handleStatic(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    fromTokenUrl: boolean,
  ): Promise<void> {
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
    let relative: string;
    try {
      relative = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    } catch {
      return sendError(res, 400, `Malformed path: ${url.pathname}`);
    }
    const file = normalize(join(options.staticDir, relative));
    if (!file.startsWith(normalize(options.staticDir) + sep)) return sendError(res, 403, 'Path outside the app');
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      if (relative === 'index.html')
        return sendError(res, 500, `The UI is not built: ${file} is missing. Run \`npm run build\`.`);
      return sendError(res, 404, `Not found: ${url.pathname}`);
    }
    res.writeHead(200, {
      'content-type': mimeTypeOf(file),
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
  const shownHost =
    options.host === '0.0.0.0' || options.host === '::'
      ? '127.0.0.1'
      : options.host.includes(':')
        ? `[${options.host}]`
        : options.host;
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
