// Metric points: one writer that appends batches and keeps multi-resolution rollups up to date,
// and one downsampler that answers chart reads from the coarsest data that still fills the chart.
//
// Non-finite values are rejected, never stored: a batch holding NaN or ±Infinity throws
// InvalidInputError before anything is written. A NaN loss ends the run as 'diverged'
// (Runs.updateStatus(runId, 'diverged', { step, error })), which is where that fact belongs;
// charts and min/max/mean then never meet a NaN. The schema holds the same line (NOT NULL + CHECK).
//
// A (run, name, step) is stored once. Repeating it is refused, so a resumed run must first drop
// the steps after its checkpoint (Runs.resume with fromStep, or MetricsWriter.truncateAfter).
import type Database from 'better-sqlite3';
import type { MetricPoint, SeriesBucket } from '../api/contract';
import type { StoreContext } from './context';
import { requireRun, requireStep } from './context';
import { InvalidInputError, NotFoundError, translateError } from './errors';

/** A metric point of one run, as the writer takes it: the API's MetricPoint with its run. */
export type RunMetricPoint = MetricPoint & { runId: string };

/** A point of one series (its name is the series'). */
export type SeriesPoint = Omit<MetricPoint, 'name'>;

export type { MetricPoint, SeriesBucket };

export interface SeriesSummary {
  count: number;
  minStep: number;
  maxStep: number;
  last: SeriesPoint;
}

export interface ReadSeriesOptions {
  /** At most this many buckets come back (default 1000). */
  maxBuckets?: number;
  fromStep?: number;
  toStep?: number;
}

/**
 * Rollup level k holds buckets of 4^k steps. Level 1 (4 steps) is left out on purpose: it would
 * add a third more rows at ingest, and raw rows already answer every range it would serve.
 */
export const ROLLUP_LEVELS = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] as const;
const FINEST_WIDTH = 4 ** ROLLUP_LEVELS[0];

/** The summary of some points; the unit of every rollup row and every output bucket. */
interface Aggregate {
  bucket: number;
  min: number;
  max: number;
  sum: number;
  count: number;
  lastStep: number;
  lastValue: number;
  lastEpoch: number;
  lastWallTime: number;
}

function combineInto(into: Aggregate, from: Aggregate): void {
  if (from.min < into.min) into.min = from.min;
  if (from.max > into.max) into.max = from.max;
  into.sum += from.sum;
  into.count += from.count;
  if (from.lastStep >= into.lastStep) {
    into.lastStep = from.lastStep;
    into.lastValue = from.lastValue;
    into.lastEpoch = from.lastEpoch;
    into.lastWallTime = from.lastWallTime;
  }
}

function pointAggregate(bucket: number, step: number, epoch: number, value: number, wallTime: number): Aggregate {
  return {
    bucket,
    min: value,
    max: value,
    sum: value,
    count: 1,
    lastStep: step,
    lastValue: value,
    lastEpoch: epoch,
    lastWallTime: wallTime,
  };
}

/** Groups aggregates by floor(bucket / factor); input need not be sorted. */
function coarsen(aggregates: Iterable<Aggregate>, factor: number): Map<number, Aggregate> {
  const out = new Map<number, Aggregate>();
  let current: Aggregate | undefined;
  for (const aggregate of aggregates) {
    const bucket = Math.floor(aggregate.bucket / factor);
    if (current?.bucket !== bucket) {
      current = out.get(bucket);
      if (!current) {
        out.set(bucket, (current = { ...aggregate, bucket }));
        continue;
      }
    }
    combineInto(current, aggregate);
  }
  return out;
}

// min/max/last combine with what is stored; all right-hand sides see the row's old values.
const UPSERT_ROLLUP = `
  INSERT INTO metric_rollups (series_id, level, bucket, min_value, max_value, sum_value, point_count,
                              last_step, last_value, last_epoch, last_wall_time)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (series_id, level, bucket) DO UPDATE SET
    min_value = min(min_value, excluded.min_value),
    max_value = max(max_value, excluded.max_value),
    sum_value = sum_value + excluded.sum_value,
    point_count = point_count + excluded.point_count,
    last_value = iif(excluded.last_step > last_step, excluded.last_value, last_value),
    last_epoch = iif(excluded.last_step > last_step, excluded.last_epoch, last_epoch),
    last_wall_time = iif(excluded.last_step > last_step, excluded.last_wall_time, last_wall_time),
    last_step = max(last_step, excluded.last_step)`;

const UPDATE_SERIES = `
  UPDATE metric_series SET
    point_count = point_count + @count,
    min_step = iif(min_step IS NULL OR @minStep < min_step, @minStep, min_step),
    last_value = iif(max_step IS NULL OR @maxStep > max_step, @lastValue, last_value),
    last_epoch = iif(max_step IS NULL OR @maxStep > max_step, @lastEpoch, last_epoch),
    last_wall_time = iif(max_step IS NULL OR @maxStep > max_step, @lastWallTime, last_wall_time),
    max_step = iif(max_step IS NULL OR @maxStep > max_step, @maxStep, max_step)
  WHERE id = ?`;

const RAW_RANGE =
  'SELECT step, epoch, value, wall_time FROM metrics WHERE series_id = ? AND step BETWEEN ? AND ? ORDER BY step';
const ROLLUP_RANGE = `
  SELECT bucket, min_value, max_value, sum_value, point_count, last_step, last_value, last_epoch, last_wall_time
  FROM metric_rollups WHERE series_id = ? AND level = ? AND bucket BETWEEN ? AND ? ORDER BY bucket`;

type RawRow = [step: number, epoch: number, value: number, wallTime: number];
type RollupRow = [
  bucket: number,
  min: number,
  max: number,
  sum: number,
  count: number,
  lastStep: number,
  lastValue: number,
  lastEpoch: number,
  lastWallTime: number,
];

interface SeriesGroup {
  runId: string;
  name: string;
  points: RunMetricPoint[];
}

function validateAndGroup(points: readonly RunMetricPoint[]): SeriesGroup[] {
  const byRun = new Map<string, Map<string, SeriesGroup>>();
  for (const point of points) {
    const { runId, name, step, epoch, value, wallTime } = point;
    if (typeof runId !== 'string' || runId.length === 0)
      throw new InvalidInputError(`A metric point has no runId: ${JSON.stringify(point)}.`);
    if (typeof name !== 'string' || name.length === 0)
      throw new InvalidInputError(`A metric point of run ${runId} has no name.`);
    requireStep(step, `Step of metric '${name}' (run ${runId})`);
    if (!Number.isFinite(value)) {
      throw new InvalidInputError(
        `Metric '${name}' of run ${runId} at step ${step} is ${value}; only finite values are stored and nothing of this batch was written. ` +
          "Stop the run as 'diverged' with this step instead of logging the value.",
      );
    }
    if (!Number.isFinite(epoch) || !Number.isFinite(wallTime)) {
      throw new InvalidInputError(
        `Metric '${name}' of run ${runId} at step ${step} needs a finite epoch and wallTime.`,
      );
    }
    let byName = byRun.get(runId);
    if (!byName) byRun.set(runId, (byName = new Map()));
    let group = byName.get(name);
    if (!group) byName.set(name, (group = { runId, name, points: [] }));
    group.points.push(point);
  }
  return [...byRun.values()].flatMap((byName) => [...byName.values()]);
}

/** Appends metric points in batched transactions and keeps rollups and series summaries current. */
export class MetricsWriter {
  /** runId -> name -> series id; cleared whenever a batch fails, since its ids may have been rolled back. */
  private readonly seriesIds = new Map<string, Map<string, number>>();
  /**
   * False while appending inside a caller's transaction: that transaction may still roll back, and
   * an id cached from it could later name another series.
   */
  private cacheNewIds = true;
  private readonly insertPoint: Database.Statement;
  private readonly upsertRollup: Database.Statement;
  private readonly updateSeries: Database.Statement;
  private readonly appendGroups: Database.Transaction<(groups: SeriesGroup[]) => void>;

  constructor(private readonly ctx: StoreContext) {
    this.insertPoint = ctx.sql('INSERT INTO metrics (series_id, step, epoch, value, wall_time) VALUES (?, ?, ?, ?, ?)');
    this.upsertRollup = ctx.sql(UPSERT_ROLLUP);
    this.updateSeries = ctx.sql(UPDATE_SERIES);
    this.appendGroups = ctx.db.transaction((groups: SeriesGroup[]) => {
      for (const group of groups) this.appendSeries(this.seriesId(group.runId, group.name), group.points);
    });
  }

  /**
   * Writes all points in one transaction, or none: a bad value, a repeated step or an unknown run
   * anywhere in the batch throws and leaves the database as it was. Returns the number written.
   */
  append(points: readonly RunMetricPoint[]): number {
    if (points.length === 0) return 0;
    const groups = validateAndGroup(points);
    this.cacheNewIds = !this.ctx.db.inTransaction;
    try {
      this.appendGroups.immediate(groups);
    } catch (error) {
      this.seriesIds.clear();
      throw this.describeFailure(error);
    }
    return points.length;
  }

  /**
   * Drops the run's points after `step` (a resume from a checkpoint at `step` logs them again) and
   * rebuilds the rollup buckets that held them. Returns the number of points removed.
   */
  truncateAfter(runId: string, step: number): number {
    requireStep(step);
    return this.ctx.write(() => {
      requireRun(this.ctx, runId);
      const seriesIds = this.ctx.sql('SELECT id FROM metric_series WHERE run_id = ?').pluck().all(runId) as number[];
      let removed = 0;
      for (const id of seriesIds) {
        const count = this.ctx.sql('DELETE FROM metrics WHERE series_id = ? AND step > ?').run(id, step).changes;
        if (count === 0) continue;
        removed += count;
        this.rebuildRollupsEndingAt(id, step);
        const last = this.ctx.sql(`${RAW_RANGE} DESC LIMIT 1`).raw().get(id, 0, step) as RawRow | undefined;
        this.ctx
          .sql(
            `UPDATE metric_series SET point_count = point_count - ?, min_step = iif(? IS NULL, NULL, min_step),
               max_step = ?, last_epoch = ?, last_value = ?, last_wall_time = ? WHERE id = ?`,
          )
          .run(
            count,
            last?.[0] ?? null,
            last?.[0] ?? null,
            last?.[1] ?? null,
            last?.[2] ?? null,
            last?.[3] ?? null,
            id,
          );
      }
      return removed;
    });
  }

  private seriesId(runId: string, name: string): number {
    let byName = this.seriesIds.get(runId);
    const cached = byName?.get(name);
    if (cached !== undefined) return cached;
    requireRun(this.ctx, runId);
    this.ctx.sql('INSERT INTO metric_series (run_id, name) VALUES (?, ?) ON CONFLICT DO NOTHING').run(runId, name);
    const id = this.ctx
      .sql('SELECT id FROM metric_series WHERE run_id = ? AND name = ?')
      .pluck()
      .get(runId, name) as number;
    if (this.cacheNewIds) {
      if (!byName) this.seriesIds.set(runId, (byName = new Map()));
      byName.set(name, id);
    }
    return id;
  }

  private appendSeries(seriesId: number, points: RunMetricPoint[]): void {
    // Pre-aggregate the batch per bucket in JS, so each rollup bucket costs one UPSERT per batch.
    const finest = new Map<number, Aggregate>();
    let current: Aggregate | undefined;
    let minStep = Infinity;
    let last = points[0];
    for (const point of points) {
      const { step, epoch, value, wallTime } = point;
      this.insertPoint.run(seriesId, step, epoch, value, wallTime);
      if (step < minStep) minStep = step;
      if (step > last.step) last = point;
      const bucket = Math.floor(step / FINEST_WIDTH);
      if (current?.bucket !== bucket) {
        current = finest.get(bucket);
        if (!current) {
          finest.set(bucket, (current = pointAggregate(bucket, step, epoch, value, wallTime)));
          continue;
        }
      }
      // combineInto, inlined: this loop runs once per point.
      if (value < current.min) current.min = value;
      if (value > current.max) current.max = value;
      current.sum += value;
      current.count += 1;
      if (step >= current.lastStep) {
        current.lastStep = step;
        current.lastValue = value;
        current.lastEpoch = epoch;
        current.lastWallTime = wallTime;
      }
    }
    let level: Map<number, Aggregate> = finest;
    ROLLUP_LEVELS.forEach((k, index) => {
      if (index > 0) level = coarsen(level.values(), 4);
      for (const a of level.values()) {
        this.upsertRollup.run(
          seriesId,
          k,
          a.bucket,
          a.min,
          a.max,
          a.sum,
          a.count,
          a.lastStep,
          a.lastValue,
          a.lastEpoch,
          a.lastWallTime,
        );
      }
    });
    this.updateSeries.run(
      {
        count: points.length,
        minStep,
        maxStep: last.step,
        lastValue: last.value,
        lastEpoch: last.epoch,
        lastWallTime: last.wallTime,
      },
      seriesId,
    );
  }

  /** Recomputes, finest level first, the one bucket per level that `step` now ends; drops later ones. */
  private rebuildRollupsEndingAt(seriesId: number, step: number): void {
    ROLLUP_LEVELS.forEach((k, index) => {
      const width = 4 ** k;
      const bucket = Math.floor(step / width);
      this.ctx
        .sql('DELETE FROM metric_rollups WHERE series_id = ? AND level = ? AND bucket >= ?')
        .run(seriesId, k, bucket);
      const parts: Aggregate[] =
        index === 0
          ? (
              this.ctx
                .sql(RAW_RANGE)
                .raw()
                .all(seriesId, bucket * width, step) as RawRow[]
            ).map((r) => pointAggregate(bucket, ...r))
          : (
              this.ctx
                .sql(ROLLUP_RANGE)
                .raw()
                .all(seriesId, ROLLUP_LEVELS[index - 1], bucket * 4, bucket * 4 + 3) as RollupRow[]
            ).map((r) => rollupAggregate(r, bucket));
      const merged = coarsen(parts, 1).get(bucket);
      if (merged) {
        const a = merged;
        this.upsertRollup.run(
          seriesId,
          k,
          bucket,
          a.min,
          a.max,
          a.sum,
          a.count,
          a.lastStep,
          a.lastValue,
          a.lastEpoch,
          a.lastWallTime,
        );
      }
    });
  }

  private describeFailure(error: unknown): unknown {
    const code = (error as { code?: unknown } | null)?.code;
    if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
      return new InvalidInputError(
        'This batch repeats a (run, metric, step) that is already stored or appears twice in the batch; nothing of it was written. ' +
          'A resumed run must first drop the steps after its checkpoint (resume with fromStep).',
      );
    }
    if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
      return new NotFoundError(
        `A run of this metrics batch no longer exists in ${this.ctx.file}; nothing of the batch was written.`,
      );
    }
    return translateError(error, this.ctx.file);
  }
}

function rollupAggregate(row: RollupRow, bucket: number): Aggregate {
  const [, min, max, sum, count, lastStep, lastValue, lastEpoch, lastWallTime] = row;
  return { bucket, min, max, sum, count, lastStep, lastValue, lastEpoch, lastWallTime };
}

function toBucket(a: Aggregate): SeriesBucket {
  const { lastStep: step, min, max, lastValue: last, sum, count, lastEpoch: epoch, lastWallTime: wallTime } = a;
  return { step, min, max, last, mean: sum / count, count, epoch, wallTime };
}

/** Reads metric series: downsampled for charts, raw for exports and tails, and summaries. */
export class MetricsReader {
  constructor(private readonly ctx: StoreContext) {}

  /**
   * At most maxBuckets buckets covering [fromStep, toStep]; each keeps min and max, so a spike
   * survives any zoom level. Buckets are aligned on multiples of one width W, chosen as the smallest
   * that fits maxBuckets; full 4^k-step rollup buckets (4^k <= W/2, so 2..8 x maxBuckets rows) are
   * merged into them, and only the partial buckets at the range's edges and short series read raw points.
   */
  readSeries(runId: string, name: string, options: ReadSeriesOptions = {}): SeriesBucket[] {
    const maxBuckets = options.maxBuckets ?? 1000;
    if (!Number.isSafeInteger(maxBuckets) || maxBuckets < 1) {
      throw new InvalidInputError(`maxBuckets must be a whole number >= 1, got ${maxBuckets}.`);
    }
    const series = this.seriesRow(runId, name);
    if (!series) return [];
    const lo = Math.max(options.fromStep ?? series.minStep, series.minStep);
    const hi = Math.min(options.toStep ?? series.maxStep, series.maxStep);
    if (lo > hi) return [];
    const span = hi - lo + 1;
    const raw = (from: number, to: number) => this.ctx.sql(RAW_RANGE).raw().all(series.id, from, to) as RawRow[];
    if (series.count <= maxBuckets || span <= maxBuckets) {
      return raw(lo, hi).map(([step, epoch, value, wallTime]) =>
        toBucket(pointAggregate(0, step, epoch, value, wallTime)),
      );
    }

    const target = Math.ceil(span / maxBuckets);
    const level = ROLLUP_LEVELS.filter((k) => 2 * 4 ** k <= target).at(-1);
    const width = level === undefined ? 1 : 4 ** level;
    const roundUp = (x: number) => Math.ceil(x / width) * width;
    const fits = (w: number) => Math.floor(hi / w) - Math.floor(lo / w) + 1 <= maxBuckets;
    let outWidth = roundUp(target);
    // An unaligned range can straddle one bucket more; W >= span / (maxBuckets - 1) always fits.
    if (!fits(outWidth)) outWidth = maxBuckets > 1 ? roundUp(span / (maxBuckets - 1)) : roundUp(hi + 1);

    const out: SeriesBucket[] = [];
    let current: Aggregate | undefined;
    const add = (part: Aggregate, firstStep: number) => {
      const bucket = Math.floor(firstStep / outWidth);
      if (current && current.bucket === bucket) return combineInto(current, part);
      if (current) out.push(toBucket(current));
      current = { ...part, bucket };
    };
    const addRaw = (from: number, to: number) => {
      if (from > to) return;
      for (const [step, epoch, value, wallTime] of raw(from, to))
        add(pointAggregate(0, step, epoch, value, wallTime), step);
    };

    // Rollup buckets wholly inside [lo, hi] (the series' own ends count as inside: nothing lies beyond them).
    const first = level === undefined ? 1 : lo === series.minStep ? Math.floor(lo / width) : Math.ceil(lo / width);
    const last =
      level === undefined ? 0 : hi === series.maxStep ? Math.floor(hi / width) : Math.floor((hi + 1) / width) - 1;
    if (level === undefined || first > last) {
      addRaw(lo, hi);
    } else {
      addRaw(lo, first * width - 1);
      for (const row of this.ctx.sql(ROLLUP_RANGE).raw().all(series.id, level, first, last) as RollupRow[]) {
        add(rollupAggregate(row, 0), row[0] * width);
      }
      addRaw((last + 1) * width, hi);
    }
    if (current) out.push(toBucket(current));
    return out;
  }

  /** Stored points in step order, optionally within [fromStep, toStep] and capped at limit. */
  readSeriesRaw(
    runId: string,
    name: string,
    options: { fromStep?: number; toStep?: number; limit?: number } = {},
  ): SeriesPoint[] {
    const series = this.seriesRow(runId, name);
    if (!series) return [];
    return this.ctx
      .sql(
        `SELECT step, epoch, value, wall_time AS wallTime FROM metrics
         WHERE series_id = ? AND step BETWEEN ? AND ? ORDER BY step LIMIT ?`,
      )
      .all(
        series.id,
        options.fromStep ?? 0,
        options.toStep ?? Number.MAX_SAFE_INTEGER,
        options.limit ?? -1,
      ) as SeriesPoint[];
  }

  /** Names of the run's series that hold points, sorted. */
  listMetricNames(runId: string): string[] {
    return this.ctx
      .sql('SELECT name FROM metric_series WHERE run_id = ? AND point_count > 0 ORDER BY name')
      .pluck()
      .all(runId) as string[];
  }

  summary(runId: string, name: string): SeriesSummary | null {
    const row = this.seriesRow(runId, name);
    if (!row) return null;
    const last = { step: row.maxStep, epoch: row.lastEpoch, value: row.lastValue, wallTime: row.lastWallTime };
    return { count: row.count, minStep: row.minStep, maxStep: row.maxStep, last };
  }

  /** The last point (highest step) of every series of the run, by name. */
  finalMetrics(runId: string): Record<string, SeriesPoint> {
    const rows = this.ctx
      .sql(
        `SELECT name, max_step AS step, last_epoch AS epoch, last_value AS value, last_wall_time AS wallTime
         FROM metric_series WHERE run_id = ? AND point_count > 0 ORDER BY name`,
      )
      .all(runId) as (SeriesPoint & { name: string })[];
    return Object.fromEntries(rows.map(({ name, ...point }) => [name, point]));
  }

  /**
   * Every point of the run with step > afterStep, in (step, name) order: a live tail polls with
   * the highest step it has seen. Capped at limit (default 10,000); poll again from the last step.
   */
  pointsAfter(runId: string, afterStep: number, limit = 10_000): RunMetricPoint[] {
    return this.ctx
      .sql(
        `SELECT s.run_id AS runId, s.name, m.step, m.epoch, m.value, m.wall_time AS wallTime
         FROM metric_series s JOIN metrics m ON m.series_id = s.id AND m.step > ?
         WHERE s.run_id = ? ORDER BY m.step, s.name LIMIT ?`,
      )
      .all(afterStep, runId, limit) as RunMetricPoint[];
  }

  private seriesRow(runId: string, name: string) {
    return (
      (this.ctx
        .sql(
          `SELECT id, point_count AS count, min_step AS minStep, max_step AS maxStep, last_epoch AS lastEpoch,
                  last_value AS lastValue, last_wall_time AS lastWallTime
           FROM metric_series WHERE run_id = ? AND name = ? AND point_count > 0`,
        )
        .get(runId, name) as
        | {
            id: number;
            count: number;
            minStep: number;
            maxStep: number;
            lastEpoch: number;
            lastValue: number;
            lastWallTime: number;
          }
        | undefined) ?? null
    );
  }
}
