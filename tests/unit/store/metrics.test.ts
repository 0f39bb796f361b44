import { afterEach, describe, expect, it } from 'vitest';
import { InvalidInputError, NotFoundError } from '../../../src-main/store/errors';
import { ROLLUP_LEVELS, type RunMetricPoint as MetricPoint, type SeriesBucket } from '../../../src-main/store/metrics';
import type { Store } from '../../../src-main/store/db';
import { cleanup, config, countRows, openTempStore, range, rng, seriesPoints } from './helpers';

afterEach(cleanup);

function storeWithRun(): { store: Store; runId: string } {
  const store = openTempStore();
  return { store, runId: store.runs.create({ config: config() }).id };
}

function appendInBatches(store: Store, points: MetricPoint[], batchSize: number): void {
  for (let i = 0; i < points.length; i += batchSize) store.metricsWriter.append(points.slice(i, i + batchSize));
}

/**
 * Checks buckets against the raw points by brute force: buckets are in step order and partition
 * the points in [from, to], bucket i holding exactly those with step in (step[i-1], step[i]].
 */
function expectBucketsMatch(buckets: SeriesBucket[], points: MetricPoint[], from = -Infinity, to = Infinity): void {
  const inRange = points.filter((p) => p.step >= from && p.step <= to).sort((a, b) => a.step - b.step);
  let i = 0;
  const expected = buckets.map((bucket) => {
    const members: MetricPoint[] = [];
    while (i < inRange.length && inRange[i].step <= bucket.step) members.push(inRange[i++]);
    const values = members.map((p) => p.value);
    const last = members.at(-1);
    return {
      step: last?.step,
      min: Math.min(...values),
      max: Math.max(...values),
      last: last?.value,
      mean: roundMean(values.reduce((a, b) => a + b, 0) / values.length),
      count: members.length,
      epoch: last?.epoch,
      wallTime: last?.wallTime,
    };
  });
  expect(buckets.map((b) => ({ ...b, mean: roundMean(b.mean) }))).toEqual(expected);
  expect(i).toBe(inRange.length);
}

/** Sums differ in the last bits with the order of addition. */
const roundMean = (mean: number) => Number(mean.toPrecision(10));

describe('MetricsWriter', () => {
  it('N points appended in batches become N rows, and every rollup level counts N', () => {
    const { store, runId } = storeWithRun();
    const points = [
      ...seriesPoints(runId, 'train/loss', range(0, 5000), (s) => 1 / (s + 1)),
      ...seriesPoints(runId, 'train/kl', range(0, 5000), (s) => s % 7),
    ];
    appendInBatches(store, points, 777);
    expect(countRows(store, 'metrics')).toBe(10_000);
    expect(countRows(store, 'metric_series', 'run_id = ?', runId)).toBe(2);
    for (const level of ROLLUP_LEVELS) {
      expect(store.db.prepare('SELECT sum(point_count) FROM metric_rollups WHERE level = ?').pluck().get(level)).toBe(
        10_000,
      );
    }
    expect(store.db.prepare('SELECT count(*) FROM metric_rollups WHERE level = 2').pluck().get()).toBe(
      2 * Math.ceil(5000 / 16),
    );
  });

  it('a batch that fails midway writes nothing: repeated step, unknown run, or NaN', () => {
    const { store, runId } = storeWithRun();
    store.metricsWriter.append(seriesPoints(runId, 'train/loss', [0, 1, 2], (s) => s));
    const before = ['metrics', 'metric_rollups', 'metric_series'].map((t) => countRows(store, t));

    const repeated = seriesPoints(runId, 'train/loss', [3, 4, 5, 2, 6], (s) => s); // step 2 is already stored
    expect(() => store.metricsWriter.append(repeated)).toThrow(InvalidInputError);
    const unknownRun = [
      ...seriesPoints(runId, 'train/new', [10, 11], (s) => s),
      ...seriesPoints('ffffffff', 'train/loss', [1], () => 1),
    ];
    expect(() => store.metricsWriter.append(unknownRun)).toThrow(NotFoundError);
    const withNaN = seriesPoints(runId, 'train/loss', [7, 8, 9], (s) => (s === 8 ? NaN : s));
    expect(() => store.metricsWriter.append(withNaN)).toThrow(/train\/loss.*step 8 is NaN/);

    expect(['metrics', 'metric_rollups', 'metric_series'].map((t) => countRows(store, t))).toEqual(before);
    // The writer recovers: the next good batch lands whole.
    expect(store.metricsWriter.append(seriesPoints(runId, 'train/new', [10, 11], (s) => s))).toBe(2);
    expect(store.metrics.summary(runId, 'train/new')).toMatchObject({ count: 2, minStep: 10, maxStep: 11 });
  });

  it('a series created inside a caller transaction that rolls back is not remembered', () => {
    const { store, runId } = storeWithRun();
    const other = store.runs.create({ config: config() }).id;
    expect(() =>
      store.transaction(() => {
        store.metricsWriter.append(seriesPoints(runId, 'train/loss', [0], () => 1));
        throw new Error('caller changed its mind');
      }),
    ).toThrow('caller changed its mind');
    store.metricsWriter.append(seriesPoints(other, 'train/kl', [0], () => 2)); // may get the rolled-back series id
    store.metricsWriter.append(seriesPoints(runId, 'train/loss', [0], () => 3));
    expect(store.metrics.finalMetrics(runId)).toMatchObject({ 'train/loss': { value: 3 } });
    expect(store.metrics.finalMetrics(other)).toEqual({ 'train/kl': expect.objectContaining({ value: 2 }) });
  });

  it('non-finite values are rejected by the writer and by the schema alike', () => {
    const { store, runId } = storeWithRun();
    for (const value of [NaN, Infinity, -Infinity]) {
      expect(() => store.metricsWriter.append(seriesPoints(runId, 'train/loss', [1], () => value))).toThrow(
        InvalidInputError,
      );
    }
    store.metricsWriter.append(seriesPoints(runId, 'train/loss', [1], () => -Number.MAX_VALUE));
    const seriesId = store.db.prepare('SELECT id FROM metric_series').pluck().get();
    const insert = store.db.prepare(
      'INSERT INTO metrics (series_id, step, epoch, value, wall_time) VALUES (?, ?, 0, ?, 0)',
    );
    expect(() => insert.run(seriesId, 2, Infinity)).toThrow(/CHECK constraint/);
    expect(() => insert.run(seriesId, 3, NaN)).toThrow(/NOT NULL constraint/);
    expect(store.metrics.readSeriesRaw(runId, 'train/loss').map((p) => p.value)).toEqual([-Number.MAX_VALUE]);
  });

  it('truncateAfter leaves exactly the rollups a fresh series of the kept points would have', () => {
    const { store, runId } = storeWithRun();
    const random = rng(7);
    const points = seriesPoints(runId, 'train/loss', range(0, 12_000), () => random());
    appendInBatches(store, points, 1000);
    expect(store.metricsWriter.truncateAfter(runId, 6789)).toBe(12_000 - 6790);

    const fresh = store.runs.create({ config: config() }).id;
    store.metricsWriter.append(points.slice(0, 6790).map((p) => ({ ...p, runId: fresh })));
    const rollups = (id: string) =>
      store.db
        .prepare(
          `SELECT level, bucket, min_value, max_value, round(sum_value, 9), point_count, last_step, last_value FROM metric_rollups
           WHERE series_id = (SELECT id FROM metric_series WHERE run_id = ?) ORDER BY level, bucket`,
        )
        .raw()
        .all(id);
    expect(rollups(runId)).toEqual(rollups(fresh));
    expect(store.metrics.summary(runId, 'train/loss')).toEqual(store.metrics.summary(fresh, 'train/loss'));
    // The resumed trainer logs those steps again.
    expect(store.metricsWriter.append(points.slice(6790, 7000))).toBe(210);
    expect(store.metrics.summary(runId, 'train/loss')!.maxStep).toBe(6999);
  });
});

describe('readSeries', () => {
  it('keeps a spike: a 200,000-point series in <= 1000 buckets, the spike bucket has max 1e6', () => {
    const { store, runId } = storeWithRun();
    const random = rng(42);
    const spikeStep = 1 + Math.floor(random() * 199_998);
    const points = seriesPoints(runId, 'train/loss', range(0, 200_000), (s) =>
      s === spikeStep ? 1e6 : 1 + Math.sin(s / 500),
    );
    appendInBatches(store, points, 10_000);

    const buckets = store.metrics.readSeries(runId, 'train/loss', { maxBuckets: 1000 });
    expect(buckets.length).toBeLessThanOrEqual(1000);
    expect(buckets.length).toBeGreaterThan(500);
    expect(buckets.reduce((n, b) => n + b.count, 0)).toBe(200_000);
    const holder = buckets.find((b) => b.step >= spikeStep)!;
    expect(holder.max).toBe(1e6);
    expect(buckets.filter((b) => b.max === 1e6)).toHaveLength(1);
    expect(buckets.at(-1)).toMatchObject({ step: 199_999, last: points[199_999].value });

    // A zoomed window with unaligned edges keeps the spike too.
    const window = store.metrics.readSeries(runId, 'train/loss', {
      maxBuckets: 300,
      fromStep: spikeStep - 12_345,
      toStep: spikeStep + 23_456,
    });
    expect(window.length).toBeLessThanOrEqual(300);
    expect(Math.max(...window.map((b) => b.max))).toBe(1e6);
    expect(window.reduce((n, b) => n + b.count, 0)).toBe(
      Math.min(spikeStep + 23_456, 199_999) - Math.max(spikeStep - 12_345, 0) + 1,
    );
  });

  it('min, max, last, mean and count match a brute-force computation, for any width, window and write order', () => {
    const { store, runId } = storeWithRun();
    const random = rng(3);
    // Steps with gaps, values with spikes, written shuffled in uneven batches.
    const steps = range(0, 40_000)
      .filter(() => random() < 0.6)
      .map((s) => s + 17);
    const points = seriesPoints(runId, 'test/elbo', steps, () => (random() < 0.001 ? 500 : -100 + random()));
    const shuffled = [...points].sort(() => random() - 0.5);
    appendInBatches(store, shuffled, 3333);

    const cases: [maxBuckets: number, from?: number, to?: number][] = [
      [1000],
      [1],
      [2],
      [7],
      [100, 5_000, 35_000],
      [333, 1_234, 39_999],
      [50, 20_001, 20_900],
      [100_000],
      [1000, 0, 100],
    ];
    for (const [maxBuckets, fromStep, toStep] of cases) {
      const buckets = store.metrics.readSeries(runId, 'test/elbo', { maxBuckets, fromStep, toStep });
      expect(buckets.length).toBeLessThanOrEqual(maxBuckets);
      expectBucketsMatch(buckets, points, fromStep, toStep);
    }
  });

  it('a short series comes back as raw points, one per bucket', () => {
    const { store, runId } = storeWithRun();
    const points = seriesPoints(
      runId,
      'test/iwae',
      range(0, 500).map((i) => i * 70),
      (s) => -90 - s / 1e4,
    );
    store.metricsWriter.append(points);
    const buckets = store.metrics.readSeries(runId, 'test/iwae');
    expect(buckets).toHaveLength(500);
    expect(buckets.every((b) => b.count === 1 && b.min === b.max && b.mean === b.last)).toBe(true);
    expect(buckets.map((b) => b.last)).toEqual(points.map((p) => p.value));
    expect(store.metrics.readSeries(runId, 'no/such')).toEqual([]);
    expect(store.metrics.readSeries(runId, 'test/iwae', { fromStep: 10, toStep: 60 })).toEqual([]);
  });
});

describe('metric reads', () => {
  it('names, final values, raw reads and a step-based live tail', () => {
    const { store, runId } = storeWithRun();
    store.metricsWriter.append([
      ...seriesPoints(runId, 'train/loss', [0, 1, 2, 3], (s) => 10 - s),
      ...seriesPoints(runId, 'test/elbo', [3], () => -95.5),
    ]);
    expect(store.metrics.listMetricNames(runId)).toEqual(['test/elbo', 'train/loss']);
    expect(store.metrics.finalMetrics(runId)).toEqual({
      'test/elbo': { step: 3, epoch: 0, value: -95.5, wallTime: 1_700_000_000_003 },
      'train/loss': { step: 3, epoch: 0, value: 7, wallTime: 1_700_000_000_003 },
    });
    expect(store.metrics.readSeriesRaw(runId, 'train/loss', { fromStep: 1, toStep: 2 }).map((p) => p.value)).toEqual([
      9, 8,
    ]);
    expect(store.metrics.pointsAfter(runId, 1).map((p) => `${p.step}:${p.name}`)).toEqual([
      '2:train/loss',
      '3:test/elbo',
      '3:train/loss',
    ]);
    expect(store.metrics.pointsAfter(runId, 1, 1)).toHaveLength(1);
  });
});
