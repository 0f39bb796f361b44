// Browser mode's bundle transfer: GET /download/export/<runId>.zip and POST /upload/import,
// guarded like the API (token, Host, Origin). A tiny run is trained in-process, downloaded as a
// zip, uploaded into a second, empty workbench, and a damaged copy is refused with nothing written.
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { serve, type RunningServer } from '../../../src-main/server/http';
import { Workbench } from '../../../src-main/workbench/service';
import { tinyConfig } from '../../helpers/configs';

const TOKEN = 'transfer-token-0123456789';
let dir: string;
let source: Workbench;
let target: Workbench;
let sourceServer: RunningServer;
let targetServer: RunningServer;
let runId: string;
let zip: Buffer;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function raw(
  server: RunningServer,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Uint8Array } = {},
): Promise<Reply> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path, method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    if (options.body) req.write(options.body);
    req.end();
  });
}

/** Temporary folders of a prefix; the server removes its own just after the reply ends. */
const temps = (prefix: string) => readdirSync(tmpdir()).filter((n) => n.startsWith(prefix)).length;
async function tempsBackTo(prefix: string, expected: number): Promise<number> {
  for (let i = 0; i < 100 && temps(prefix) > expected; i++) await new Promise((resolve) => setTimeout(resolve, 20));
  return temps(prefix);
}

const auth = { authorization: `Bearer ${TOKEN}` };
/** A query through a read-only connection of the test's own (the workbench's store lives in its worker). */
function query(workbench: Workbench, sql: string, ...params: unknown[]): number {
  const db = new Database(workbench.store.file, { readonly: true });
  try {
    return db
      .prepare(sql)
      .pluck()
      .get(...params) as number;
  } finally {
    db.close();
  }
}
const count = (workbench: Workbench, table: string) => query(workbench, `SELECT count(*) FROM ${table}`);
const upload = (body: Uint8Array, headers: Record<string, string> = {}) =>
  raw(targetServer, '/upload/import', {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/zip', 'x-file-name': 'my-run.zip', ...headers },
    body,
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vaewb-transfer-'));
  const staticDir = join(dir, 'renderer');
  mkdirSync(staticDir);
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>VAE Workbench</title>');
  source = await Workbench.open({ db: join(dir, 'source'), runQueue: true, concurrency: 1 });
  target = await Workbench.open({ db: join(dir, 'target'), runQueue: false });
  sourceServer = await serve(source, { host: '127.0.0.1', port: 0, staticDir, token: TOKEN });
  targetServer = await serve(target, { host: '127.0.0.1', port: 0, staticDir, token: TOKEN });
  const run = await source.createRun({ config: tinyConfig({ epochs: 1 }), name: 'transfer me' });
  const finished = await source.waitForRun(run.id);
  expect(finished.status).toBe('completed');
  runId = run.id;
});

afterAll(async () => {
  await sourceServer?.close();
  await targetServer?.close();
  await source?.close();
  await target?.close();
});

describe('GET /download/export/<runId>.zip', () => {
  it('streams the run as a zip attachment whose manifest names the run and hashes every file, and leaves no temporary file', async () => {
    const tempBefore = temps('vaewb-export-');
    const reply = await raw(sourceServer, `/download/export/${runId}.zip?checkpoint=latest`, { headers: auth });
    expect(reply.status, reply.body.toString()).toBe(200);
    expect(reply.headers['content-type']).toBe('application/zip');
    expect(String(reply.headers['content-disposition'])).toMatch(
      new RegExp(`^attachment; filename="vae-workbench-${runId}-step\\d+\\.zip"$`),
    );
    expect(Number(reply.headers['content-length'])).toBe(reply.body.length);
    zip = reply.body;
    const files = unzipSync(new Uint8Array(zip));
    const manifest = JSON.parse(Buffer.from(files['manifest.json']).toString('utf8'));
    expect(manifest.run).toMatchObject({ id: runId, name: 'transfer me', status: 'completed' });
    const listed = new Set((manifest.files as { path: string; sha256: string }[]).map((f) => f.path));
    for (const f of manifest.files as { sha256: string }[]) expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
    for (const name of Object.keys(files))
      if (name !== 'manifest.json' && name !== 'manifest.sha256') expect(listed.has(name), name).toBe(true);
    expect(await tempsBackTo('vaewb-export-', tempBefore)).toBe(tempBefore);
  });

  it('exports the best checkpoint too, and answers 400 to a bad checkpoint and 404 to an unknown run', async () => {
    expect(
      (await raw(sourceServer, `/download/export/${runId}.zip?checkpoint=best`, { method: 'HEAD', headers: auth }))
        .status,
    ).toBe(200);
    const bad = await raw(sourceServer, `/download/export/${runId}.zip?checkpoint=newest`, { headers: auth });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.toString()).error.message).toMatch(/checkpoint/);
    expect((await raw(sourceServer, '/download/export/nosuchrun.zip', { headers: auth })).status).toBe(404);
  });

  it('answers 401 without the token, 403 to a wrong Host or a foreign Origin', async () => {
    const path = `/download/export/${runId}.zip`;
    const anonymous = await raw(sourceServer, path);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers['content-disposition']).toBeUndefined();
    expect((await raw(sourceServer, path, { headers: { ...auth, host: 'evil.example:80' } })).status).toBe(403);
    expect((await raw(sourceServer, path, { headers: { ...auth, origin: 'http://evil.example' } })).status).toBe(403);
  });
});

describe('POST /upload/import', () => {
  it('refuses an upload without the token, from a foreign Origin, or of another type, and writes nothing', async () => {
    const before = count(target, 'runs');
    expect(
      (
        await raw(targetServer, '/upload/import', {
          method: 'POST',
          headers: { 'content-type': 'application/zip' },
          body: zip,
        })
      ).status,
    ).toBe(401);
    expect((await upload(zip, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await upload(zip, { 'content-type': 'text/plain' })).status).toBe(400);
    expect(count(target, 'runs')).toBe(before);
  });

  it('refuses a zip with one flipped byte with 400 and a clear message; the database is unchanged', async () => {
    const tables = ['runs', 'metric_points', 'images', 'checkpoints'];
    const before = tables.map((t) => count(target, t));
    const damaged = Buffer.from(zip);
    damaged[Math.floor(damaged.length / 2)] ^= 0xff;
    const reply = await upload(damaged);
    expect(reply.status).toBe(400);
    const body = JSON.parse(reply.body.toString());
    expect(body.ok).toBe(false);
    expect(body.error.message).toMatch(/refused, nothing was imported/);
    expect(body.error.message).toContain('my-run.zip');
    expect(body.error.message).not.toContain(tmpdir());
    expect(tables.map((t) => count(target, t))).toEqual(before);
    const checkpoints = join(dir, 'target', 'checkpoints');
    expect(existsSync(checkpoints) ? readdirSync(checkpoints) : []).toEqual([]);
  });

  it('imports the downloaded zip into an empty workbench: the run appears with the same number of metric rows', async () => {
    expect(count(target, 'runs')).toBe(0);
    const tempBefore = temps('vaewb-upload-');
    const reply = await upload(zip, { 'content-type': 'application/octet-stream' });
    expect(reply.status, reply.body.toString()).toBe(200);
    const body = JSON.parse(reply.body.toString());
    expect(body.ok).toBe(true);
    expect(body.result.sourceRunId).toBe(runId);
    const imported = body.result.run.id as string;
    const rows = (w: Workbench, id: string) => query(w, 'SELECT count(*) FROM metric_points WHERE run_id = ?', id);
    expect(rows(target, imported)).toBe(rows(source, runId));
    expect(body.result.metricPoints).toBe(rows(source, runId));
    const runs = await target.listRuns();
    expect(runs.map((r) => r.name)).toEqual(['transfer me']);
    expect(runs[0].status).toBe('completed');
    expect(await tempsBackTo('vaewb-upload-', tempBefore)).toBe(tempBefore);
  });
});
