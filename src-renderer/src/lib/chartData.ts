// Pure data shaping for the compare view: smoothing, bands, seed aggregation, x-axis mapping,
// CSV export and ETA. No Svelte, no DOM: every function here is a plain function of its inputs,
// linear in the number of buckets, so the chart can call it on every redraw.
import type { SeriesBucket } from '@api/contract';
import { flattenConfig } from './apiConstants';

export const X_AXES = ['step', 'epoch', 'wall', 'relative'] as const;
export type XAxis = (typeof X_AXES)[number];

/**
 * Exponential moving average with bias correction, as TensorBoard does since its fix
 * (tensorboard#1186): s_t = w*s_{t-1} + (1-w)*y_t with s_0 = 0, reported as s_t / (1 - w^t).
 * Non-finite values pass through unsmoothed and do not advance the average.
 * A constant series is returned as is (the division would otherwise leave rounding noise).
 */
export function smoothDebiasedEma(values: readonly number[], weight: number): number[] {
  const w = Math.min(Math.max(weight, 0), 0.999);
  if (w === 0 || values.length === 0) return values.slice();
  const first = values[0];
  if (values.every((v) => v === first)) return values.slice();
  const out = new Array<number>(values.length);
  let last = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const y = values[i];
    if (!Number.isFinite(y)) {
      out[i] = y;
      continue;
    }
    last = last * w + (1 - w) * y;
    count++;
    out[i] = last / (1 - Math.pow(w, count));
  }
  return out;
}

/** The faint min/max envelope of a downsampled series: one low and one high value per bucket. */
export interface Band {
  x: number[];
  lo: number[];
  hi: number[];
}

export function buildBand(x: readonly number[], buckets: readonly Pick<SeriesBucket, 'min' | 'max'>[]): Band {
  const n = Math.min(x.length, buckets.length);
  const band: Band = { x: new Array(n), lo: new Array(n), hi: new Array(n) };
  for (let i = 0; i < n; i++) {
    band.x[i] = x[i];
    band.lo[i] = buckets[i].min;
    band.hi[i] = buckets[i].max;
  }
  return band;
}

/**
 * Merges runs of consecutive buckets so at most `maxCount` remain (k = ceil(n / maxCount) per
 * group): min of mins and max of maxes (spikes survive), the last bucket's step, time and value,
 * count-weighted mean. Used when many runs share the chart, so drawing stays linear in pixels.
 */
export function rebucket(buckets: readonly SeriesBucket[], maxCount: number): readonly SeriesBucket[] {
  const n = buckets.length;
  if (maxCount < 1 || n <= maxCount) return buckets;
  const k = Math.ceil(n / maxCount);
  const out: SeriesBucket[] = [];
  for (let start = 0; start < n; start += k) {
    const end = Math.min(n, start + k);
    const lastBucket = buckets[end - 1];
    let min = Infinity;
    let max = -Infinity;
    let count = 0;
    let sum = 0;
    for (let i = start; i < end; i++) {
      const b = buckets[i];
      if (b.min < min) min = b.min;
      if (b.max > max) max = b.max;
      count += b.count;
      sum += b.mean * b.count;
    }
    out.push({
      step: lastBucket.step,
      epoch: lastBucket.epoch,
      wallTime: lastBucket.wallTime,
      min,
      max,
      last: lastBucket.last,
      mean: count > 0 ? sum / count : lastBucket.mean,
      count,
    });
  }
  return out;
}

/** Per-run context for mapping buckets onto the chosen x-axis. */
export interface XContext {
  /** Steps in one epoch when known (totalSteps / epochs), for fractional epochs. */
  stepsPerEpoch: number | null;
  /** Wall-clock origin for 'relative' (ms since the epoch). */
  startWall: number | null;
}

export function stepsPerEpoch(totalSteps: number | null, epochs: number | undefined): number | null {
  if (!totalSteps || !epochs || totalSteps <= 0 || epochs <= 0) return null;
  return totalSteps / epochs;
}

/**
 * x value of a bucket: step; fractional epoch (step / stepsPerEpoch, falling back to the bucket's
 * epoch counter); wall time in ms; or seconds since the run started.
 */
export function mapX(bucket: Pick<SeriesBucket, 'step' | 'epoch' | 'wallTime'>, axis: XAxis, ctx: XContext): number {
  switch (axis) {
    case 'step':
      return bucket.step;
    case 'epoch':
      return ctx.stepsPerEpoch ? bucket.step / ctx.stepsPerEpoch : bucket.epoch;
    case 'wall':
      return bucket.wallTime;
    case 'relative':
      return (bucket.wallTime - (ctx.startWall ?? bucket.wallTime)) / 1000;
  }
}

export function mapXs(buckets: readonly SeriesBucket[], axis: XAxis, ctx: XContext): number[] {
  const ctxStart =
    axis === 'relative' && ctx.startWall === null && buckets.length > 0
      ? { ...ctx, startWall: buckets[0].wallTime }
      : ctx;
  const out = new Array<number>(buckets.length);
  for (let i = 0; i < buckets.length; i++) out[i] = mapX(buckets[i], axis, ctxStart);
  return out;
}

/** Runs that differ only by train.seed share this key. */
export function seedGroupKey(config: unknown): string {
  if (config === null || typeof config !== 'object') return computeSeedGroupKey(config);
  let key = seedKeys.get(config);
  if (key === undefined) {
    key = computeSeedGroupKey(config);
    seedKeys.set(config, key);
  }
  return key;
}

/** Configs are immutable (a run's never changes): the key is computed once per config object. */
const seedKeys = new WeakMap<object, string>();

function computeSeedGroupKey(config: unknown): string {
  const flat = flattenConfig(config);
  delete flat['train.seed'];
  return JSON.stringify(
    Object.keys(flat)
      .sort()
      .map((k) => [k, flat[k]]),
  );
}

/** What a seed group may average: runs evaluated on the same test set (testSetHash) only. */
interface TestSetTagged {
  config: unknown;
  /** sha256 of the run's test set; null or absent for a run recorded before it was kept. */
  testSetHash?: string | null;
}

/**
 * Groups items by seedGroupKey of their config and by their test set, keeping first-seen order of
 * groups and members: runs whose testSetHash differs are never averaged together.
 */
export function groupBySeed<T extends TestSetTagged>(items: readonly T[]): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = `${seedGroupKey(item.config)}|${item.testSetHash ?? ''}`;
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return [...groups.values()];
}

/** Distinct known test sets among the items (runs without a recorded testSetHash are not counted). */
export function distinctTestSets(items: readonly TestSetTagged[]): number {
  return new Set(items.map((i) => i.testSetHash).filter((h): h is string => typeof h === 'string')).size;
}

/**
 * Seed groups (same config but for train.seed) that the aggregation refuses to average because
 * their runs were evaluated on different test sets.
 */
export function refusedSeedGroups(items: readonly TestSetTagged[]): number {
  const byConfig = new Map<string, TestSetTagged[]>();
  for (const item of items) {
    const key = seedGroupKey(item.config);
    byConfig.set(key, [...(byConfig.get(key) ?? []), item]);
  }
  return [...byConfig.values()].filter((group) => group.length > 1 && distinctTestSets(group) > 1).length;
}

/** One aggregated point over the members of a seed group. */
export interface AggregatePoint {
  step: number;
  epoch: number;
  wallTime: number;
  mean: number;
  /** Sample standard deviation (n - 1); 0 with a single contributing run. */
  std: number;
  /** Runs that cover this step. */
  n: number;
}

type AlignedBucket = Pick<SeriesBucket, 'step' | 'epoch' | 'wallTime' | 'last'>;

/**
 * Mean ± std across runs aligned on step. The grid is the union of the members' steps; a run
 * contributes at a step inside its own [first, last] range, linearly interpolated between its
 * two neighbouring buckets (exact when the step is one of its own), never extrapolated.
 */
export function aggregateBySteps(members: readonly (readonly AlignedBucket[])[]): AggregatePoint[] {
  const steps = new Set<number>();
  for (const m of members) for (const b of m) if (Number.isFinite(b.last)) steps.add(b.step);
  const grid = [...steps].sort((a, b) => a - b);
  const cursors = members.map(() => 0);
  const out: AggregatePoint[] = [];
  for (const step of grid) {
    let n = 0;
    let sum = 0;
    let sumSq = 0;
    let epochSum = 0;
    let wallSum = 0;
    for (let r = 0; r < members.length; r++) {
      const m = members[r];
      if (m.length === 0 || step < m[0].step || step > m[m.length - 1].step) continue;
      let i = cursors[r];
      while (i + 1 < m.length && m[i + 1].step <= step) i++;
      cursors[r] = i;
      const a = m[i];
      let value: number;
      let epoch: number;
      let wall: number;
      if (a.step === step || i + 1 >= m.length) {
        value = a.last;
        epoch = a.epoch;
        wall = a.wallTime;
      } else {
        const b = m[i + 1];
        const t = (step - a.step) / (b.step - a.step);
        value = a.last + t * (b.last - a.last);
        epoch = a.epoch + t * (b.epoch - a.epoch);
        wall = a.wallTime + t * (b.wallTime - a.wallTime);
      }
      if (!Number.isFinite(value)) continue;
      n++;
      sum += value;
      sumSq += value * value;
      epochSum += epoch;
      wallSum += wall;
    }
    if (n === 0) continue;
    const mean = sum / n;
    const variance = n > 1 ? Math.max(0, (sumSq - n * mean * mean) / (n - 1)) : 0;
    out.push({ step, epoch: epochSum / n, wallTime: wallSum / n, mean, std: Math.sqrt(variance), n });
  }
  return out;
}

/** What the chart needs of one run. */
export interface SeriesInput {
  runId: string;
  label: string;
  color: string;
  config: unknown;
  /** sha256 of the run's test set (RunSummary.testSetHash); runs with different ones are never averaged. */
  testSetHash?: string | null;
  buckets: readonly SeriesBucket[];
  ctx: XContext;
  /** Revision of `buckets` (bumped on every change); lets a memo skip unchanged runs. */
  rev?: number;
}

export interface ChartPoint {
  x: number;
  /** Plotted (smoothed) value. */
  y: number;
  /** The unsmoothed bucket value (last, or the group mean). */
  v: number;
  step: number;
}

export interface LineSeries {
  /** Run id, or 'group:<first run id>' for an aggregated seed group. */
  id: string;
  runIds: string[];
  label: string;
  color: string;
  points: ChartPoint[];
  band: Band | null;
  /** Line dash (canvas setLineDash); solid when absent. A dashboard panel tells metrics apart by it. */
  dash?: number[];
}

export interface ChartOptions {
  xAxis: XAxis;
  smoothing: number;
  logY: boolean;
  band: boolean;
  aggregateSeeds: boolean;
  /** Buckets per line at most (merged by rebucket); none when absent. */
  maxPointsPerLine?: number;
}

/** Drops points a log axis cannot show; counts them so the view can say so. */
function keepPositive(
  points: ChartPoint[],
  band: Band | null,
): { points: ChartPoint[]; band: Band | null; dropped: number } {
  const kept = points.filter((p) => p.y > 0);
  let outBand = band;
  if (band) {
    outBand = { x: [], lo: [], hi: [] };
    for (let i = 0; i < band.x.length; i++) {
      if (band.hi[i] <= 0) continue;
      outBand.x.push(band.x[i]);
      outBand.hi.push(band.hi[i]);
      outBand.lo.push(band.lo[i] > 0 ? band.lo[i] : band.hi[i]);
    }
  }
  return { points: kept, band: outBand, dropped: points.length - kept.length };
}

/** One run's line: x mapping, smoothing on bucket `last` values (after downsampling), min/max band. */
export function buildRunSeries(input: SeriesInput, options: ChartOptions): { line: LineSeries; dropped: number } {
  const buckets = options.maxPointsPerLine ? rebucket(input.buckets, options.maxPointsPerLine) : input.buckets;
  const xs = mapXs(buckets, options.xAxis, input.ctx);
  const raw = buckets.map((b) => b.last);
  const smoothed = smoothDebiasedEma(raw, options.smoothing);
  let points: ChartPoint[] = new Array(raw.length);
  for (let i = 0; i < raw.length; i++) points[i] = { x: xs[i], y: smoothed[i], v: raw[i], step: buckets[i].step };
  let band = options.band ? buildBand(xs, buckets) : null;
  let dropped = 0;
  if (options.logY) ({ points, band, dropped } = keepPositive(points, band));
  return {
    line: { id: input.runId, runIds: [input.runId], label: input.label, color: input.color, points, band },
    dropped,
  };
}

/** A seed group's mean line with a mean ± std band. */
export function buildGroupSeries(
  members: readonly SeriesInput[],
  options: ChartOptions,
): { line: LineSeries; dropped: number } {
  const max = options.maxPointsPerLine;
  const agg = aggregateBySteps(members.map((m) => (max ? rebucket(m.buckets, max) : m.buckets)));
  const ctx: XContext = {
    stepsPerEpoch: members[0].ctx.stepsPerEpoch,
    startWall: mean(members.map((m) => m.ctx.startWall ?? m.buckets[0]?.wallTime ?? 0)),
  };
  const xs = agg.map((p) => mapX(p, options.xAxis, ctx));
  const smoothMean = smoothDebiasedEma(
    agg.map((p) => p.mean),
    options.smoothing,
  );
  const smoothStd = smoothDebiasedEma(
    agg.map((p) => p.std),
    options.smoothing,
  );
  let points: ChartPoint[] = agg.map((p, i) => ({ x: xs[i], y: smoothMean[i], v: p.mean, step: p.step }));
  let band: Band | null = options.band
    ? { x: xs, lo: smoothMean.map((m, i) => m - smoothStd[i]), hi: smoothMean.map((m, i) => m + smoothStd[i]) }
    : null;
  let dropped = 0;
  if (options.logY) ({ points, band, dropped } = keepPositive(points, band));
  const first = members[0];
  return {
    line: {
      id: `group:${first.runId}`,
      runIds: members.map((m) => m.runId),
      label: `${groupLabel(members.map((m) => m.label))} (mean ± std of ${members.length} seeds)`,
      color: first.color,
      points,
      band,
    },
    dropped,
  };
}

/** What the members' names share ('sweep seed=1', 'sweep seed=2' -> 'sweep seed'), else the first name. */
export function groupLabel(labels: readonly string[]): string {
  let prefix = labels[0] ?? '';
  for (const l of labels) while (!l.startsWith(prefix)) prefix = prefix.slice(0, -1);
  const trimmed = prefix.replace(/[\s=:._-]+$/, '');
  return trimmed.length >= 3 ? trimmed : (labels[0] ?? '');
}

function mean(values: number[]): number {
  return values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Remembers built lines between redraws, keyed by line id; reused while its signature holds. */
export type LineMemo = Map<string, { signature: string; line: LineSeries; dropped: number }>;

/**
 * The chart's line series: one per run, or one per seed group when aggregating. Linear in total
 * buckets; with a memo, only lines whose inputs changed (by `rev`) or options changed are rebuilt.
 */
export function buildChartSeries(
  inputs: readonly SeriesInput[],
  options: ChartOptions,
  memo?: LineMemo,
): { lines: LineSeries[]; dropped: number } {
  const lines: LineSeries[] = [];
  let dropped = 0;
  const optionsKey = `${options.xAxis}|${options.smoothing}|${options.logY}|${options.band}|${options.maxPointsPerLine}`;
  const groups = options.aggregateSeeds ? groupBySeed(inputs) : inputs.map((i) => [i]);
  const used = new Set<string>();
  for (const group of groups) {
    const withData = group.filter((g) => g.buckets.length > 0);
    if (withData.length === 0) continue;
    const id = withData.length > 1 ? `group:${withData[0].runId}` : withData[0].runId;
    const signature = `${optionsKey}|${withData.map((g) => `${g.runId}:${g.rev ?? -1}:${g.buckets.length}:${g.label}:${g.color}:${g.ctx.stepsPerEpoch}:${g.ctx.startWall}`).join(',')}`;
    let built = memo?.get(id);
    if (!built || built.signature !== signature || withData.some((g) => g.rev === undefined)) {
      const fresh = withData.length > 1 ? buildGroupSeries(withData, options) : buildRunSeries(withData[0], options);
      built = { signature, ...fresh };
      memo?.set(id, built);
    }
    used.add(id);
    lines.push(built.line);
    dropped += built.dropped;
  }
  if (memo) for (const id of memo.keys()) if (!used.has(id)) memo.delete(id);
  return { lines, dropped };
}

/** Total number of plotted points across line series (what `data-points` reports). */
export function countPoints(lines: readonly LineSeries[]): number {
  let n = 0;
  for (const l of lines) n += l.points.length;
  return n;
}

/** A CSV field, quoted when it holds a comma, quote or newline (RFC 4180). */
function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'number' ? (Number.isFinite(value) ? String(value) : '') : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export interface CsvSeries {
  runId: string;
  runName: string;
  metric: string;
  buckets: readonly SeriesBucket[];
  /** Smoothed values, one per bucket, when smoothing is on. */
  smoothed?: readonly number[];
}

export const CSV_HEADER = [
  'run_id',
  'run_name',
  'metric',
  'step',
  'epoch',
  'wall_time',
  'value',
  'min',
  'max',
  'mean',
  'count',
  'smoothed',
];

/** Long-format CSV: one row per (run, bucket); `value` is the bucket's last value. */
export function seriesToCsv(series: readonly CsvSeries[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const s of series) {
    for (let i = 0; i < s.buckets.length; i++) {
      const b = s.buckets[i];
      lines.push(
        [
          s.runId,
          s.runName,
          s.metric,
          b.step,
          b.epoch,
          b.wallTime,
          b.last,
          b.min,
          b.max,
          b.mean,
          b.count,
          s.smoothed ? s.smoothed[i] : null,
        ]
          .map(csvField)
          .join(','),
      );
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * Remaining time in ms from the average rate so far: (totalSteps - step) * elapsed / step.
 * null when it cannot be known (not started, no step yet, unknown total).
 */
export function estimateEta(
  step: number,
  totalSteps: number | null,
  startedAt: number | null,
  now: number,
): number | null {
  if (totalSteps === null || startedAt === null || step <= 0) return null;
  if (step >= totalSteps) return 0;
  const elapsed = now - startedAt;
  if (elapsed <= 0) return null;
  return ((totalSteps - step) * elapsed) / step;
}

/** Fraction done in [0, 1], or null without a known total. */
export function progressFraction(step: number, totalSteps: number | null): number | null {
  if (!totalSteps || totalSteps <= 0) return null;
  return Math.min(1, Math.max(0, step / totalSteps));
}
