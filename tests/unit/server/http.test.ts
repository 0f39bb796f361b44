// Browser mode's security and the API contract, run against both transports the renderer uses:
// HTTP (this server) and the Electron preload bridge (the IPC handler body, without Electron).
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkbenchEvent } from '../../../src-main/api/contract';
import { mimeTypeOf } from '../../../src-main/api/mimeTypes';
import { handleIpcCall } from '../../../src-main/electron/ipcHandler';
import { serve, type RunningServer } from '../../../src-main/server/http';
import { Workbench } from '../../../src-main/workbench/service';
import { electronTransport, httpTransport, RemoteError, type Transport } from '../../../src-renderer/src/lib/transport';
import { tinyConfig } from '../../helpers/configs';

let dir: string;
let workbench: Workbench;
let server: RunningServer;
const TOKEN = 'test-token-0123456789';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vaewb-http-'));
  const staticDir = join(dir, 'renderer');
  mkdirSync(staticDir);
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>VAE Workbench</title>');
  workbench = await Workbench.open({ db: dir, runQueue: true, concurrency: 1 });
  server = await serve(workbench, { host: '127.0.0.1', port: 0, staticDir, token: TOKEN });
});

afterAll(async () => {
  await server.close();
  await workbench.close();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request, so the Host header can be anything (fetch will not let a test forge it). */
function raw(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    if (options.body) req.write(options.body);
    req.end();
  });
}

/** Counted through a read-only connection of the test's own (the workbench's store lives in its worker). */
const runCount = () => {
  const db = new Database(workbench.store.file, { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM runs').pluck().get() as number;
  } finally {
    db.close();
  }
};
const createBody = JSON.stringify({ config: tinyConfig({ epochs: 1 }) });

describe('browser mode security', () => {
  it('answers 401 to a request without the token, and stores nothing', async () => {
    const before = runCount();
    const reply = await raw('/api/createRun', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: createBody,
    });
    expect(reply.status).toBe(401);
    expect(JSON.parse(reply.body).error.message).toMatch(/token/);
    expect((await raw('/')).status).toBe(401); // the page too
    expect(runCount()).toBe(before);
  });

  it('answers 403 to a wrong Host header (DNS rebinding), even with the token, and stores nothing', async () => {
    const before = runCount();
    const reply = await raw('/api/createRun', {
      method: 'POST',
      headers: { host: 'evil.example:80', authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: createBody,
    });
    expect(reply.status).toBe(403);
    expect(runCount()).toBe(before);
  });

  it('answers 403 to a foreign Origin', async () => {
    const reply = await raw('/api/listRuns', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, origin: 'http://evil.example' },
      body: '{}',
    });
    expect(reply.status).toBe(403);
  });

  it('answers 400 naming the field to an invalid payload, and stores nothing', async () => {
    const before = runCount();
    const bad = JSON.stringify({ config: { train: { lr: 'fast' } } });
    const reply = await raw('/api/createRun', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: bad,
    });
    expect(reply.status).toBe(400);
    const error = JSON.parse(reply.body).error;
    expect(error.field).toBe('config.train.lr');
    expect(error.message).toContain('train.lr');
    const notJson = await raw('/api/createRun', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: '{oops',
    });
    expect(notJson.status).toBe(400);
    const unknownField = await raw('/api/getRun', {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ runId: 'x', extra: 1 }),
    });
    expect(unknownField.status).toBe(400);
    expect(runCount()).toBe(before);
  });

  it('swaps the tokened URL for an HttpOnly SameSite cookie, and serves the page with a CSP and no CORS', async () => {
    const first = await raw(`/?token=${TOKEN}`);
    expect(first.status).toBe(302);
    expect(first.headers.location).toBe('/');
    const cookie = String(first.headers['set-cookie']);
    expect(cookie).toMatch(/vaewb_token=test-token-0123456789; HttpOnly; SameSite=Strict/);
    const page = await raw('/', { headers: { cookie: cookie.split(';')[0] } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('VAE Workbench');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['access-control-allow-origin']).toBeUndefined();
    expect((await raw('/../../etc/passwd', { headers: { cookie: cookie.split(';')[0] } })).status).not.toBe(200);
  });

  it('serves each file with the Content-Type the desktop window gives it (one table, api/mimeTypes.ts)', async () => {
    const assets = join(dir, 'renderer', 'assets');
    mkdirSync(assets, { recursive: true });
    const names = ['index-1.js', 'worker.mjs', 'tfjs-backend-wasm.wasm', 'Inter.WOFF2', 'data.json', 'notes'];
    for (const name of names) writeFileSync(join(assets, name), 'x');
    const types = [];
    for (const name of names) {
      const reply = await raw(`/assets/${name}`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(reply.status).toBe(200);
      types.push(reply.headers['content-type']);
    }
    expect(types).toEqual([
      'text/javascript; charset=utf-8',
      'text/javascript; charset=utf-8',
      'application/wasm',
      'font/woff2',
      'application/json; charset=utf-8',
      'application/octet-stream',
    ]);
    expect(names.map((name) => mimeTypeOf(`assets/${name}`))).toEqual(types);
  });

  it('answers 400 to a malformed path instead of failing', async () => {
    const reply = await raw('/%E0%A4%A', { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(reply.status).toBe(400);
  });

  it('binds to 127.0.0.1 by default', () => {
    const address = server.server.address();
    expect(typeof address === 'object' && address?.address).toBe('127.0.0.1');
  });
});

// The same contract tests against both transports.
const transports: [string, () => Transport][] = [
  ['http', () => httpTransport(server.url.replace(/\/$/, ''))],
  [
    'electron preload',
    () =>
      electronTransport({
        call: (method, payload) => handleIpcCall(workbench, method, JSON.parse(JSON.stringify(payload ?? {}))),
        subscribe: (listener: (event: WorkbenchEvent) => void) => workbench.subscribe(listener),
      }),
  ],
];

describe.each(transports)('API contract over the %s transport', (_name, make) => {
  let transport: Transport;
  const originalFetch = globalThis.fetch;
  beforeAll(() => {
    // Node's fetch has no cookie jar: send the token as a bearer header, as a script would.
    globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) =>
      originalFetch(input, {
        ...init,
        headers: { ...(init?.headers as Record<string, string>), authorization: `Bearer ${TOKEN}` },
      })) as typeof fetch;
    transport = make();
  });
  afterAll(() => {
    globalThis.fetch = originalFetch;
  });

  it('creates a run, trains it, and reads back its series, images and detail', async () => {
    const run = await transport.call('createRun', {
      config: tinyConfig({ epochs: 1 }),
      experiment: 'contract',
      tags: ['t1'],
    });
    expect(run.status === 'queued' || run.status === 'running').toBe(true);
    const finished = await workbench.waitForRun(run.id);
    expect(finished.status).toBe('completed');
    const detail = await transport.call('getRun', { runId: run.id });
    expect(detail.experiment).toBe('contract');
    expect(detail.tags).toEqual(['t1']);
    expect(detail.checkpoints.length).toBeGreaterThan(0);
    const [series] = await transport.call('getSeries', { runIds: [run.id], metric: 'train/elbo' });
    expect(series.buckets).toHaveLength(8);
    const images = await transport.call('listImages', { runId: run.id, kind: 'samples' });
    expect(images).toHaveLength(1);
    const { dataUrl } = await transport.call('getImage', { imageId: images[0].id });
    expect(dataUrl.startsWith('data:image/png;base64,iVBORw0KGgo')).toBe(true);
    await transport.call('setNotes', { runId: run.id, text: 'baseline' });
    expect((await transport.call('getRun', { runId: run.id })).notes).toBe('baseline');
    const runs = await transport.call('listRuns', {});
    expect(runs.find((r) => r.id === run.id)?.final['test/elbo']).toBeLessThan(0);
  });

  it('answers a bad request with a RemoteError naming the field', async () => {
    const error = await transport
      .call('createRun', { config: { model: { latentDim: 9999 } } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).field).toBe('config.model.latentDim');
    const missing = await transport.call('getRun', { runId: 'nosuchrun' }).catch((e: unknown) => e);
    expect((missing as RemoteError).message).toMatch(/nosuchrun/);
  });
});

describe('server-sent events', () => {
  it('pushes run events to a subscribed view', async () => {
    const received: string[] = [];
    const done = new Promise<void>((resolve, reject) => {
      const url = new URL(server.url);
      const req = request(
        { host: url.hostname, port: url.port, path: '/api/events', headers: { authorization: `Bearer ${TOKEN}` } },
        (res) => {
          expect(res.headers['content-type']).toBe('text/event-stream');
          res.on('data', (chunk: Buffer) => {
            for (const line of chunk.toString().split('\n'))
              if (line.startsWith('data: ')) received.push(JSON.parse(line.slice(6)).type);
            if (received.includes('run')) {
              req.destroy();
              resolve();
            }
          });
        },
      );
      req.on('error', (e) => (received.includes('run') ? resolve() : reject(e)));
      req.end();
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await workbench.setTags({ runId: (await workbench.listRuns())[0].id, tags: ['pushed'] });
    await done;
    expect(received).toContain('run');
  });
});
