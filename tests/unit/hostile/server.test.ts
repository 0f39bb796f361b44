// Browser mode against hostile requests, the server in a child process: no server path is taken
// (bundles by upload and download, data sets by id), a zip or gzip bomb is refused with the
// server's peak memory under 512 MB, and listRuns keeps answering within 200 ms meanwhile. The
// database is unchanged by every refusal. Before issue #13 exportRun wrote where it was told,
// importBundle read any file, and a 4 MB zip peaked at 3.7 GB.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { MANIFEST_FILE, MANIFEST_HASH_FILE, type BundleManifest } from '../../../src-main/workbench/exchange/bundle';
import { sealBundle, zipBundle, type BundleFiles } from '../../helpers/bundleFiles';
import {
  api,
  databaseHash,
  deflatedZeros,
  gzipOf,
  MEMORY_BOUND_MB,
  peakMbOf,
  startServer,
  tempDir,
  whileAnswering,
  zipOf,
  type ServerChild,
  removeTempDirs,
} from './helpers';

let dir: string;
let server: ServerChild;
let before: string;
let trainedRunId: string;

beforeAll(async () => {
  dir = tempDir();
  server = await startServer(join(dir, 'data'));
  before = databaseHash(server.dbFile);
}, 90_000);

afterAll(async () => {
  await server?.stop();
  removeTempDirs();
});

async function upload(path: string, body: Buffer, type = 'application/zip') {
  const response = await fetch(new URL(path, server.url), {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': type },
    body: new Uint8Array(body),
  });
  return { status: response.status, body: (await response.json()) as { ok: boolean; error?: { message: string } } };
}

describe('hostile requests to browser mode', () => {
  it('exportRun with a path is refused and writes nothing there', async () => {
    const target = join(dir, 'x', 'a', 'b', 'evil.zip');
    const reply = await api(server, 'exportRun', { runId: 'abcd1234', out: `../../../../${target}` });
    expect(reply.status).toBe(403);
    expect(reply.body.error.message).toMatch(/exportRun takes a path on the machine.*\/download\/export/);
    expect(existsSync(join(dir, 'x'))).toBe(false);
    expect(databaseHash(server.dbFile)).toBe(before);
  });

  it('importBundle with a path is refused alike for a file that exists and one that does not', async () => {
    const shadow = await api(server, 'importBundle', { path: '/etc/shadow' });
    const missing = await api(server, 'importBundle', { path: '/no/such/file.zip' });
    expect(shadow.status).toBe(403);
    expect(missing.status).toBe(403);
    expect(shadow.body.error.message).toBe(missing.body.error.message);
    expect(shadow.body.error.message).toMatch(/\/upload\/import/);
    expect(databaseHash(server.dbFile)).toBe(before);
  });

  it('createRun with a dataset of /etc/passwd is refused without reading it', async () => {
    const reply = await api(server, 'createRun', { config: { data: { dataset: '/etc/passwd' } } });
    expect(reply.status).toBe(403);
    expect(reply.body.error.field).toBe('config.data.dataset');
    expect(reply.body.error.message).toMatch(/is a path on the machine/);
    expect(reply.body.error.message).not.toMatch(/root|0x/);
    const sweep = await api(server, 'createSweep', {
      config: { data: { dataset: '/etc/passwd' } },
      experiment: 'e',
      param: 'train.seed',
      values: [1],
    });
    expect(sweep.status).toBe(403);
    const grid = await api(server, 'createGridSweep', {
      config: { data: { dataset: '/etc/passwd' } },
      experiment: 'e',
      grid: [{ param: 'train.seed', values: [1] }],
    });
    expect(grid.status).toBe(403);
    expect(grid.body.error.field).toBe('config.data.dataset');
    const gridOverData = await api(server, 'createGridSweep', {
      config: {},
      experiment: 'e',
      grid: [{ param: 'data.dataset', values: ['mnist', '/etc/passwd'] }],
    });
    expect(gridOverData.status).toBe(403);
    expect(gridOverData.body.error.field).toBe('grid.0.values');
    expect(databaseHash(server.dbFile)).toBe(before);
  });

  it('a data set uploaded once is referred to by id, and a run trains on it', async () => {
    const count = 96;
    const idx = Buffer.alloc(16 + count * 28 * 28);
    idx.writeUInt32BE(0x00000803, 0);
    idx.writeUInt32BE(count, 4);
    idx.writeUInt32BE(28, 8);
    idx.writeUInt32BE(28, 12);
    for (let i = 16; i < idx.length; i++) idx[i] = (i * 2654435761) >>> 24;
    const first = await upload('/upload/dataset?name=digits', idx, 'application/octet-stream');
    expect(first.status).toBe(200);
    const dataset = (first.body as unknown as { result: { id: string; ref: string; count: number; sha256: string } })
      .result;
    expect(dataset.ref).toBe(`dataset:${dataset.id}`);
    expect(dataset.count).toBe(count);
    const again = await upload('/upload/dataset?name=digits again', idx, 'application/octet-stream');
    expect((again.body as unknown as { result: { id: string } }).result.id).toBe(dataset.id);
    expect((await api(server, 'listDatasets', {})).body.result).toHaveLength(1);

    const unknown = await api(server, 'createRun', { config: { data: { dataset: 'dataset:ds-000000000000' } } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toMatch(/is not imported here/);

    const created = await api(server, 'createRun', {
      config: {
        model: { hidden: [16], latentDim: 2 },
        data: { dataset: dataset.ref, trainSize: 64, testSize: 32 },
        train: { epochs: 1, batchSize: 32, backend: 'wasm' },
        eval: { iwaeK: 2, iwaeExamples: 4, gridSize: 4 },
      },
    });
    expect(created.status).toBe(200);
    let run = created.body.result as { id: string; status: string; datasetHash: string | null };
    for (let i = 0; i < 600 && (run.status === 'queued' || run.status === 'running'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      run = (await api(server, 'getRun', { runId: run.id })).body.result;
    }
    expect(run.status).toBe('completed');
    expect(run.datasetHash).toMatch(/^[0-9a-f]{64}$/);
    trainedRunId = run.id;
    before = databaseHash(server.dbFile); // the refusals below must leave this state as it is
  }, 120_000);

  it('a run imported from a bundle naming a server path is not replayed, duplicated or resumed over HTTP', async () => {
    const download = await fetch(new URL(`/download/export/${trainedRunId}.zip`, server.url), {
      headers: { authorization: `Bearer ${server.token}` },
    });
    expect(download.status).toBe(200);
    const entries = unzipSync(new Uint8Array(await download.arrayBuffer()));
    const files: BundleFiles = new Map(
      Object.entries(entries).filter(([path]) => path !== MANIFEST_FILE && path !== MANIFEST_HASH_FILE),
    );
    const manifest = JSON.parse(Buffer.from(entries[MANIFEST_FILE]).toString('utf8')) as BundleManifest;
    const config = JSON.parse(Buffer.from(files.get('config.json')!).toString('utf8'));
    config.data.dataset = '/etc/passwd';
    files.set('config.json', Buffer.from(JSON.stringify(config), 'utf8'));
    const { files: _, ...head } = manifest;
    sealBundle(files, head);
    const imported = await upload('/upload/import', Buffer.from(zipBundle(files)));
    expect(imported.status).toBe(200);
    const runId = (imported.body as unknown as { result: { run: { id: string } } }).result.run.id;
    const hash = databaseHash(server.dbFile);
    for (const method of ['planReplay', 'replayRun', 'duplicateRun', 'resumeRun', 'interpolateLatent']) {
      const reply = await api(server, method, method === 'interpolateLatent' ? { runId, from: 0, to: 1 } : { runId });
      expect(reply.status, method).toBe(403);
      expect(reply.body.error.message, method).toMatch(/'\/etc\/passwd' is a path on the machine/);
    }
    expect(databaseHash(server.dbFile)).toBe(hash);
    before = hash;
  }, 120_000);

  it('a config too big for the memory budget is refused with its estimate', async () => {
    const reply = await api(server, 'createRun', {
      config: {
        model: { hidden: [4096, 4096], latentDim: 512 },
        train: { batchSize: 4096, objective: 'iwae', objectiveSamples: 256 },
      },
    });
    expect(reply.status).toBe(400);
    expect(reply.body.error.message).toMatch(/about \d+ MiB .*over the memory budget of 2048 MiB/);
    expect(databaseHash(server.dbFile)).toBe(before);
  });

  it('a 4 MB zip that would inflate to 4 GB is refused under 512 MB, and listRuns answers within 200 ms', async () => {
    const entry = await deflatedZeros(1907); // 1907 MiB of zeros each: 4.0 GB in all
    const bomb = zipOf([
      { name: 'manifest.json', data: entry, size: 1907 * 2 ** 20 },
      { name: 'checkpoint.safetensors', data: entry, size: 1907 * 2 ** 20 },
    ]);
    expect(bomb.length).toBeLessThan(5 * 1024 ** 2);
    const { result, slowestMs, calls } = await whileAnswering(server, () => upload('/upload/import', bomb));
    expect(result.status).toBe(400);
    expect(result.body.error?.message).toMatch(/unpack to more than the limit of 1073741824 bytes/);
    expect(calls).toBeGreaterThan(0);
    expect(slowestMs).toBeLessThan(200);
    expect(peakMbOf(server.pid)).toBeLessThan(MEMORY_BOUND_MB);
    expect(databaseHash(server.dbFile)).toBe(before);
  }, 120_000);

  it('an uploaded .idx.gz bomb is refused as a data set under 512 MB, and listRuns keeps answering', async () => {
    const header = Buffer.alloc(16);
    header.writeUInt32BE(0x00000803, 0);
    header.writeUInt32BE(60_000, 4);
    header.writeUInt32BE(1000, 8);
    header.writeUInt32BE(1000, 12);
    const bomb = gzipOf(await deflatedZeros(2048, header), 0);
    const { result, slowestMs } = await whileAnswering(server, () =>
      upload('/upload/dataset?name=bomb', bomb, 'application/octet-stream'),
    );
    expect(result.status).toBe(400);
    expect(result.body.error?.message).toMatch(/declares 60000000016 bytes, over the limit of \d+ bytes/);
    expect(slowestMs).toBeLessThan(200);
    expect(peakMbOf(server.pid)).toBeLessThan(MEMORY_BOUND_MB);
    expect((await api(server, 'listDatasets', {})).body.result).toHaveLength(1); // the one imported above
    expect(readdirSync(join(dir, 'data', 'datasets')).filter((name) => name.startsWith('.'))).toEqual([]);
    expect(databaseHash(server.dbFile)).toBe(before);
  }, 120_000);
});
