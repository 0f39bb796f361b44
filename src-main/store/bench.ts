// Store benchmarks for `npm run bench`: ingest rate including rollup upkeep, and the time to read a
// long series as chart buckets. Each uses a fresh database in a temporary folder and removes it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseRunConfig } from '../api/config';
import { openStore, type Store } from './db';
import type { RunMetricPoint } from './metrics';

export interface IngestBench {
  points: number;
  batchSize: number;
  seconds: number;
  pointsPerSecond: number;
}

export interface SeriesQueryBench {
  points: number;
  maxBuckets: number;
  buckets: number;
  /** Median over `repeats` reads of the whole series. */
  medianMs: number;
  /** Median over `repeats` reads of a random 30% window (unaligned edges read raw rows). */
  windowMedianMs: number;
}

const TRAIN_METRICS = ['train/loss', 'train/elbo', 'train/recon', 'train/kl'];

function withTempStore<T>(fn: (store: Store, runId: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vae-store-bench-'));
  const store = openStore(path.join(dir, 'bench.sqlite'));
  try {
    const run = store.runs.create({ config: parseRunConfig({}) });
    return fn(store, run.id);
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Points as a trainer logs them: four train metrics per step, in batches of batchSize points. */
function* trainingBatches(runId: string, points: number, batchSize: number): Generator<RunMetricPoint[]> {
  let batch: RunMetricPoint[] = [];
  for (let i = 0; i < points; i++) {
    const step = Math.floor(i / TRAIN_METRICS.length);
    const name = TRAIN_METRICS[i % TRAIN_METRICS.length];
    const value = 100 * Math.exp(-step / 1e5) + Math.sin(i);
    batch.push({ runId, name, step, epoch: Math.floor(step / 70), value, wallTime: 1.7e12 + step });
    if (batch.length === batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** Appends `points` points (default 1,000,000) and reports points per second, rollups included. */
export function benchIngest(points = 1_000_000, batchSize = 1000): IngestBench {
  return withTempStore((store, runId) => {
    const batches = [...trainingBatches(runId, points, batchSize)]; // built before timing
    const start = performance.now();
    for (const batch of batches) store.metricsWriter.append(batch);
    const seconds = (performance.now() - start) / 1000;
    return { points, batchSize, seconds, pointsPerSecond: Math.round(points / seconds) };
  });
}

/** Writes one series of `points` steps (default 1,000,000), then times readSeries at maxBuckets. */
export function benchSeriesQuery(points = 1_000_000, maxBuckets = 1000, repeats = 21): SeriesQueryBench {
  return withTempStore((store, runId) => {
    let batch: RunMetricPoint[] = [];
    for (let step = 0; step < points; step++) {
      const value = Math.sin(step / 1000) + (step % 9973 === 0 ? 50 : 0);
      batch.push({ runId, name: 'train/loss', step, epoch: Math.floor(step / 70), value, wallTime: 1.7e12 + step });
      if (batch.length === 10_000 || step === points - 1) {
        store.metricsWriter.append(batch);
        batch = [];
      }
    }
    const median = (read: () => unknown) => {
      const times: number[] = [];
      for (let i = 0; i < repeats; i++) {
        const start = performance.now();
        read();
        times.push(performance.now() - start);
      }
      return times.sort((a, b) => a - b)[Math.floor(repeats / 2)];
    };
    const buckets = store.metrics.readSeries(runId, 'train/loss', { maxBuckets }).length;
    const medianMs = median(() => store.metrics.readSeries(runId, 'train/loss', { maxBuckets }));
    const windowMedianMs = median(() => {
      const fromStep = Math.floor(Math.random() * points * 0.7);
      store.metrics.readSeries(runId, 'train/loss', {
        maxBuckets,
        fromStep,
        toStep: fromStep + Math.floor(points * 0.3),
      });
    });
    return { points, maxBuckets, buckets, medianMs, windowMedianMs };
  });
}
