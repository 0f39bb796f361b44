import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../../src-main/store/db';
import { StoreCorruptError, StoreFullError, StoreNotWritableError } from '../../../src-main/store/errors';
import { ROLLUP_LEVELS } from '../../../src-main/store/metrics';
import {
  cleanup,
  config,
  countRows,
  openAgain,
  openTempStore,
  range,
  runFixture,
  seriesPoints,
  tempDir,
} from './helpers';

afterEach(cleanup);

type OpenOutcome = { ok: boolean; name?: string; message?: string };

/** Opens `file` as a user the folder's permissions apply to: this process, or user nobody when running as root. */
async function openAsUnprivileged(file: string): Promise<OpenOutcome> {
  if (process.getuid?.() !== 0) {
    try {
      openStore(file).close();
      return { ok: true };
    } catch (error) {
      return { ok: false, name: (error as Error).name, message: (error as Error).message };
    }
  }
  return runFixture<OpenOutcome>('open-store.ts', [file], { uid: 65534, gid: 65534 });
}

describe('two connections', () => {
  it('two processes and this one append to the same file at once, and every point lands', async () => {
    const app = openTempStore();
    const run = app.runs.create({ config: config() });
    // Both children write one shared series (disjoint steps, so the coarse rollup rows are shared).
    const children = [
      runFixture<{ written: number }>('write-metrics.ts', [app.file, run.id, 'train/loss', '20', '500', '0']),
      runFixture<{ written: number }>('write-metrics.ts', [app.file, run.id, 'train/loss', '20', '500', '10000']),
    ];
    // This process keeps writing for as long as either child runs.
    let childrenDone = false;
    const results = Promise.all(children).finally(() => (childrenDone = true));
    let batches = 0;
    while (!childrenDone) {
      app.metricsWriter.append(seriesPoints(run.id, 'app/metric', range(batches * 250, (batches + 1) * 250), (s) => s));
      batches++;
      await sleep(5);
    }
    expect((await results).map((c) => c.written)).toEqual([10_000, 10_000]);

    const cli = openAgain(app);
    expect(cli.metrics.summary(run.id, 'train/loss')).toMatchObject({ count: 20_000, minStep: 0, maxStep: 19_999 });
    expect(cli.metrics.summary(run.id, 'app/metric')).toMatchObject({
      count: batches * 250,
      maxStep: batches * 250 - 1,
    });
    for (const level of ROLLUP_LEVELS) {
      expect(cli.db.prepare('SELECT sum(point_count) FROM metric_rollups WHERE level = ?').pluck().get(level)).toBe(
        20_000 + batches * 250,
      );
    }
    const buckets = cli.metrics.readSeries(run.id, 'train/loss', { maxBuckets: 100 });
    expect(buckets.reduce((sum, b) => sum + b.count * b.mean, 0)).toBeCloseTo((19_999 * 20_000) / 2, 0);
    expect(cli.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('two Store instances in one process interleave writes and each sees the other', () => {
    const app = openTempStore();
    const cli = openAgain(app);
    const run = app.runs.create({ config: config() });
    for (const step of range(0, 10)) {
      app.metricsWriter.append(seriesPoints(run.id, 'a', [step], () => step));
      cli.metricsWriter.append(seriesPoints(run.id, 'b', [step], () => step));
    }
    cli.tags.add(run.id, ['from-cli']);
    expect(app.runs.get(run.id)!.tags).toEqual(['from-cli']);
    expect(app.metrics.listMetricNames(run.id)).toEqual(['a', 'b']);
    expect(countRows(cli, 'metrics')).toBe(20);
  });
});

describe('unwritable and full', () => {
  it('a read-only folder gives StoreNotWritableError naming the path and what to do', async () => {
    const dir = tempDir();
    const readOnly = path.join(dir, 'read-only');
    fs.mkdirSync(readOnly);
    fs.chmodSync(dir, 0o755);
    fs.chmodSync(readOnly, 0o555);
    try {
      for (const file of [path.join(readOnly, 'workbench.sqlite'), path.join(readOnly, 'sub', 'workbench.sqlite')]) {
        const outcome = await openAsUnprivileged(file);
        expect(outcome).toMatchObject({ ok: false, name: 'StoreNotWritableError' });
        expect(outcome.message).toContain(file);
        expect(outcome.message).toMatch(/Choose a folder you can write to/);
      }
      expect(fs.readdirSync(readOnly)).toEqual([]);
    } finally {
      fs.chmodSync(readOnly, 0o755);
    }
  });

  it('a database file that is read-only gives StoreNotWritableError at open, not at the first write', async () => {
    const dir = tempDir();
    fs.chmodSync(dir, 0o777);
    const store = openStore(path.join(dir, 'workbench.sqlite'));
    store.close();
    fs.chmodSync(store.file, 0o444);
    const outcome = await openAsUnprivileged(store.file);
    expect(outcome).toMatchObject({ ok: false, name: 'StoreNotWritableError' });
    expect(outcome.message).toContain(store.file);
  });

  it('a file where the folder should be gives StoreNotWritableError', () => {
    const blocker = path.join(tempDir(), 'not-a-folder');
    fs.writeFileSync(blocker, 'x');
    expect(() => openStore(path.join(blocker, 'workbench.sqlite'))).toThrow(StoreNotWritableError);
  });

  it('a file that is not a database gives StoreCorruptError and is left as it was', () => {
    const file = path.join(tempDir(), 'workbench.sqlite');
    fs.writeFileSync(file, 'certainly not SQLite '.repeat(100));
    expect(() => openStore(file)).toThrow(StoreCorruptError);
    expect(fs.readFileSync(file, 'utf8')).toBe('certainly not SQLite '.repeat(100));
  });

  it('a full disk gives StoreFullError, keeps nothing of the batch, and the store works once space is back', () => {
    const store = openTempStore();
    const run = store.runs.create({ config: config() });
    store.metricsWriter.append(seriesPoints(run.id, 'train/loss', range(0, 100), (s) => s));
    const pages = store.db.pragma('page_count', { simple: true }) as number;
    store.db.pragma(`max_page_count = ${pages + 2}`); // SQLite reports SQLITE_FULL past this size, as on a full disk

    let error: unknown;
    try {
      store.metricsWriter.append(seriesPoints(run.id, 'train/loss', range(100, 50_100), (s) => s));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(StoreFullError);
    expect((error as Error).message).toContain(store.file);
    expect((error as Error).message).toMatch(/Free some space/);
    expect(() => store.notes.set(run.id, 'x'.repeat(100_000))).toThrow(StoreFullError);
    expect(store.metrics.summary(run.id, 'train/loss')!.count).toBe(100);

    store.db.pragma('max_page_count = 1073741823');
    expect(store.metricsWriter.append(seriesPoints(run.id, 'train/loss', range(100, 200), (s) => s))).toBe(100);
    expect(store.metrics.summary(run.id, 'train/loss')!.count).toBe(200);
  });
});
