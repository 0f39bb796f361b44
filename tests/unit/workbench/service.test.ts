// The workbench service against a real SQLite file and real worker threads.
import { afterEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { tinyConfig } from '../../helpers/configs';
import { ApiError, type WorkbenchEvent } from '../../../src-main/api/contract';
import { Workbench } from '../../../src-main/workbench/service';

const open: Workbench[] = [];
async function workbench(db: string, options: { runQueue?: boolean; concurrency?: number } = {}): Promise<Workbench> {
  const w = await Workbench.open({
    db,
    runQueue: options.runQueue ?? true,
    concurrency: options.concurrency ?? 2,
    heartbeatMs: 200,
  });
  open.push(w);
  return w;
}
const tempDir = () => mkdtempSync(join(tmpdir(), 'vaewb-service-'));

afterEach(async () => {
  for (const w of open.splice(0)) await w.close();
});

describe('workbench service', () => {
  it('trains two runs at once in worker threads (wasm and cpu) and stores metrics, images and verified checkpoints', async () => {
    const dir = tempDir();
    const service = await workbench(dir);
    const events: WorkbenchEvent[] = [];
    service.subscribe((e) => events.push(e));
    const a = await service.createRun({ config: tinyConfig({ seed: 1 }), experiment: 'pair' });
    // The pool works with every backend: one run on wasm, one on cpu, at the same time.
    const b = await service.createRun({ config: tinyConfig({ seed: 2, backend: 'cpu' }), experiment: 'pair' });
    // Both claimed at once: concurrency 2.
    expect((await service.listRuns()).filter((r) => r.status === 'running')).toHaveLength(2);
    const [ra, rb] = await Promise.all([service.waitForRun(a.id), service.waitForRun(b.id)]);
    expect([ra.status, rb.status]).toEqual(['completed', 'completed']);
    expect(ra.backend).toMatch(/^wasm\+(native-sgemm|wasm-transpose-fast-path)$/);
    expect(rb.backend).toBe('cpu');
    expect(ra.datasetHash).toMatch(/^[0-9a-f]{64}$/);
    expect(ra.final['test/elbo']).toBeLessThan(0);
    // Seeds 1 and 2, one test set (#12): listRuns and getRun (runs --json, show --json) report it.
    expect(ra.testSetHash).toMatch(/^[0-9a-f]{64}$/);
    expect(rb.testSetHash).toBe(ra.testSetHash);
    expect((await service.listRuns()).find((r) => r.id === b.id)!.testSetHash).toBe(ra.testSetHash);

    const db = new Database(join(dir, 'workbench.sqlite'), { readonly: true });
    const steps = db
      .prepare("SELECT count(*) AS n FROM metric_points WHERE run_id = ? AND name = 'train/loss'")
      .get(a.id) as { n: number };
    expect(steps.n).toBe(16); // 256 / 32 * 2 epochs
    const images = db
      .prepare('SELECT kind, count(*) AS n FROM images WHERE run_id = ? GROUP BY kind ORDER BY kind')
      .all(a.id);
    expect(images).toEqual([
      { kind: 'reconstructions', n: 2 },
      { kind: 'samples', n: 2 },
      { kind: 'samples-drawn', n: 2 },
      { kind: 'traversal', n: 2 },
    ]);
    const checkpoints = db
      .prepare('SELECT path, size, sha256, step FROM checkpoints WHERE run_id = ? ORDER BY step')
      .all(a.id) as { path: string; size: number; sha256: string; step: number }[];
    expect(checkpoints.map((c) => c.step)).toEqual([8, 16]);
    for (const c of checkpoints) {
      const bytes = readFileSync(c.path);
      expect(bytes.length).toBe(c.size);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(c.sha256);
    }
    db.close();
    // Views saw the same truth live: metrics events for both runs, and each run's end.
    expect(new Set(events.filter((e) => e.type === 'metrics').map((e) => (e as { runId: string }).runId))).toEqual(
      new Set([a.id, b.id]),
    );
    expect(events.some((e) => e.type === 'run' && e.run.id === b.id && e.run.status === 'completed')).toBe(true);
  });

  it('refuses an invalid config before anything runs, naming the field and its range', async () => {
    const service = await workbench(tempDir());
    const error = await service.createRun({ config: { train: { epochs: 0 } } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(400);
    expect((error as ApiError).field).toBe('config.train.epochs');
    expect((error as ApiError).message).toMatch(/train\.epochs: .*>=1/);
    expect(await service.listRuns()).toEqual([]);
  });

  it('a corrupt data file fails the run with a message naming the file', async () => {
    const dir = tempDir();
    const bad = join(dir, 'digits.npy');
    writeFileSync(bad, Buffer.from('this is not a numpy file'));
    const service = await workbench(dir);
    const config = tinyConfig();
    const run = await service.createRun({ config: { ...config, data: { ...config.data, dataset: bad } } });
    const finished = await service.waitForRun(run.id);
    expect(finished.status).toBe('failed');
    expect(finished.error).toContain(bad);
  });

  it('a cancel from a second connection (the CLI beside the app) stops the run within two seconds', async () => {
    const dir = tempDir();
    const app = await workbench(dir);
    const cli = await workbench(dir, { runQueue: false });
    const run = await app.createRun({ config: tinyConfig({ epochs: 50 }) });
    await new Promise<void>((resolve) => {
      const stop = app.subscribe((e) => {
        if (e.type === 'metrics' && e.runId === run.id) {
          stop();
          resolve();
        }
      });
    });
    const cancelledAt = Date.now();
    expect((await cli.cancelRun({ runId: run.id })).status).toBe('cancelled');
    const finished = await app.waitForRun(run.id);
    expect(finished.status).toBe('cancelled');
    // The worker stopped: no step was logged long after the cancel.
    const db = new Database(join(dir, 'workbench.sqlite'), { readonly: true });
    const last = db
      .prepare('SELECT max(wall_time) AS t, max(step) AS s FROM metric_points WHERE run_id = ?')
      .get(run.id) as { t: number; s: number };
    db.close();
    expect(last.t).toBeLessThan(cancelledAt + 2000); // heartbeat every 200 ms, then one batch; slack for a loaded CI machine
    expect(last.s).toBeLessThan(400);
  });

  it('a run cancelled and deleted from another process fails alone: the run beside it keeps all its points', async () => {
    const dir = tempDir();
    const app = await workbench(dir);
    const cli = await workbench(dir, { runQueue: false });
    const doomed = await app.createRun({ config: tinyConfig({ epochs: 50, seed: 1 }) });
    const survivor = await app.createRun({ config: tinyConfig({ epochs: 3, seed: 2 }) });
    await new Promise<void>((resolve) => {
      const stop = app.subscribe((e) => {
        if (e.type === 'metrics' && e.runId === doomed.id) {
          stop();
          resolve();
        }
      });
    });
    await cli.cancelRun({ runId: doomed.id });
    await cli.deleteRun({ runId: doomed.id });
    const finished = await app.waitForRun(survivor.id);
    expect(finished.status).toBe('completed');
    const db = new Database(join(dir, 'workbench.sqlite'), { readonly: true });
    const steps = db
      .prepare("SELECT count(*) FROM metric_points WHERE run_id = ? AND name = 'train/loss'")
      .pluck()
      .get(survivor.id);
    const leftovers = db.prepare('SELECT count(*) FROM runs WHERE id = ?').pluck().get(doomed.id);
    db.close();
    expect(steps).toBe(24);
    expect(leftovers).toBe(0);
  });

  it('pause keeps a checkpoint; resume continues the step count with no step logged twice', async () => {
    const dir = tempDir();
    const service = await workbench(dir);
    const run = await service.createRun({ config: tinyConfig({ epochs: 3 }) });
    await new Promise<void>((resolve) => {
      const stop = service.subscribe((e) => {
        if (e.type === 'metrics' && e.runId === run.id && e.points.some((p) => p.step >= 3)) {
          stop();
          resolve();
        }
      });
    });
    await service.pauseRun({ runId: run.id });
    const paused = await service.waitForRun(run.id);
    expect(paused.status).toBe('paused');
    const detail = await service.getRun({ runId: run.id });
    const pauseStep = detail.checkpoints.at(-1)!.step;
    expect(pauseStep).toBeGreaterThanOrEqual(3);
    await service.resumeRun({ runId: run.id });
    const done = await service.waitForRun(run.id);
    expect(done.status).toBe('completed');
    expect(done.step).toBe(24);
    const db = new Database(join(dir, 'workbench.sqlite'), { readonly: true });
    const steps = db
      .prepare("SELECT step FROM metric_points WHERE run_id = ? AND name = 'train/loss' ORDER BY step")
      .pluck()
      .all(run.id);
    db.close();
    expect(steps).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
  });

  it('getSeries returns buckets read back from the store', async () => {
    const service = await workbench(tempDir());
    const run = await service.createRun({ config: tinyConfig() });
    await service.waitForRun(run.id);
    const [series] = await service.getSeries({ runIds: [run.id], metric: 'train/loss', maxBuckets: 1000 });
    expect(series.buckets).toHaveLength(16);
    expect(series.buckets.map((b) => b.step)).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    const names = await service.listMetricNames({ runIds: [run.id] });
    expect(names).toContain('test/iwae');
    expect(names).toContain('train/kl_dim/02');
  });
});
