// @vitest-environment node
// (pure data and store logic: no DOM needed, so no jsdom to set up)
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '@api/config';
import {
  aggregateBySteps,
  buildBand,
  buildChartSeries,
  countPoints,
  estimateEta,
  distinctTestSets,
  groupBySeed,
  groupLabel,
  mapX,
  progressFraction,
  rebucket,
  refusedSeedGroups,
  seriesToCsv,
  smoothDebiasedEma,
  type SeriesInput,
} from '../../src-renderer/src/lib/chartData';
import { configDiff } from '../../src-renderer/src/lib/configDiff';
import { makeBuckets } from './fakeTransport';

describe('debiased EMA smoothing', () => {
  it('keeps a constant series constant from the very first point', () => {
    expect(smoothDebiasedEma([5, 5, 5, 5, 5], 0.9)).toEqual([5, 5, 5, 5, 5]);
    // Without the constant shortcut, the debiasing alone also gives the constant (to rounding).
    const nearlyConstant = smoothDebiasedEma([-90, -90, -90, -90.0000001], 0.95);
    for (const v of nearlyConstant) expect(v).toBeCloseTo(-90, 6);
  });

  it('starts at the first value, not pulled toward zero (the bias TensorBoard fixed)', () => {
    const smoothed = smoothDebiasedEma([100, 0, 0], 0.9);
    expect(smoothed[0]).toBe(100);
  });

  it('matches s_t = (w s_{t-1} + (1-w) y_t) / (1 - w^t) on a short series', () => {
    const smoothed = smoothDebiasedEma([1, 2, 3], 0.5);
    expect(smoothed[0]).toBeCloseTo(1, 12);
    expect(smoothed[1]).toBeCloseTo(1.25 / 0.75, 12); // 1.6667
    expect(smoothed[2]).toBeCloseTo(2.125 / 0.875, 12); // 2.4286
  });

  it('returns the values unchanged at weight 0 and passes non-finite values through', () => {
    expect(smoothDebiasedEma([3, 1, 2], 0)).toEqual([3, 1, 2]);
    const s = smoothDebiasedEma([1, NaN, 3], 0.5);
    expect(s[0]).toBe(1);
    expect(s[1]).toBeNaN();
    // NaN does not advance the average: the third point is the second finite one.
    expect(s[2]).toBeCloseTo((0.5 * 0.5 * 1 + 0.5 * 3) / 0.75, 12);
  });
});

describe('min/max band', () => {
  it('takes each bucket min and max at its x', () => {
    const buckets = [
      { min: -120, max: -95 },
      { min: -101, max: -99 },
      { min: -98, max: -40 },
    ];
    expect(buildBand([0, 10, 20], buckets)).toEqual({ x: [0, 10, 20], lo: [-120, -101, -98], hi: [-95, -99, -40] });
  });
});

describe('client-side rebucketing (many runs on one chart)', () => {
  it('merges consecutive buckets keeping spikes, the last value and the count-weighted mean', () => {
    const buckets = [
      { step: 10, epoch: 0, wallTime: 1, min: 5, max: 6, last: 5.5, mean: 5.5, count: 1 },
      { step: 20, epoch: 0, wallTime: 2, min: 4, max: 90, last: 4.5, mean: 8.5, count: 3 },
      { step: 30, epoch: 1, wallTime: 3, min: 3, max: 4, last: 3.5, mean: 3.5, count: 1 },
      { step: 40, epoch: 1, wallTime: 4, min: 2, max: 3, last: 2.5, mean: 2.5, count: 1 },
      { step: 50, epoch: 1, wallTime: 5, min: 1, max: 2, last: 1.5, mean: 1.5, count: 1 },
    ];
    expect(rebucket(buckets, 5)).toBe(buckets);
    expect(rebucket(buckets, 3)).toEqual([
      { step: 20, epoch: 0, wallTime: 2, min: 4, max: 90, last: 4.5, mean: (5.5 + 8.5 * 3) / 4, count: 4 },
      { step: 40, epoch: 1, wallTime: 4, min: 2, max: 4, last: 2.5, mean: 3, count: 2 },
      { step: 50, epoch: 1, wallTime: 5, min: 1, max: 2, last: 1.5, mean: 1.5, count: 1 },
    ]);
  });
});

describe('seed aggregation', () => {
  it('groups runs whose configs differ only by train.seed', () => {
    const a = { id: 'a', config: parseRunConfig({ train: { seed: 1 } }) };
    const b = { id: 'b', config: parseRunConfig({ train: { seed: 2 } }) };
    const c = { id: 'c', config: parseRunConfig({ model: { kind: 'beta-vae', beta: 4 }, train: { seed: 1 } }) };
    const d = { id: 'd', config: parseRunConfig({ model: { kind: 'beta-vae', beta: 4 }, train: { seed: 7 } }) };
    const e = { id: 'e', config: parseRunConfig({ train: { seed: 3, lr: 3e-4 } }) };
    expect(groupBySeed([a, c, b, e, d]).map((g) => g.map((r) => r.id))).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('refuses to average seeds evaluated on different test sets, and counts the test sets overlaid', () => {
    const config = (seed: number) => parseRunConfig({ train: { seed } });
    const same = 'a'.repeat(64);
    const other = 'b'.repeat(64);
    const runs = [
      { id: 'a', config: config(0), testSetHash: same },
      { id: 'b', config: config(1), testSetHash: same },
      { id: 'c', config: config(2), testSetHash: other }, // same config but for the seed: a different test set
      { id: 'd', config: config(3), testSetHash: null }, // recorded before test sets were hashed
    ];
    expect(groupBySeed(runs).map((g) => g.map((r) => r.id))).toEqual([['a', 'b'], ['c'], ['d']]);
    expect(distinctTestSets(runs)).toBe(2);
    expect(refusedSeedGroups(runs)).toBe(1);
    expect(refusedSeedGroups(runs.slice(0, 2))).toBe(0);
    expect(distinctTestSets(runs.slice(0, 2))).toBe(1);

    const input = (id: string, testSetHash: string, values: number[]): SeriesInput => ({
      runId: id,
      label: id,
      color: '#000',
      config: config(id.charCodeAt(0)),
      testSetHash,
      buckets: makeBuckets(values),
      ctx: { stepsPerEpoch: null, startWall: null },
    });
    const options = { xAxis: 'step' as const, smoothing: 0, logY: false, band: true, aggregateSeeds: true };
    const mixed = buildChartSeries(
      [input('a', same, [1, 2]), input('b', same, [3, 4]), input('c', other, [9, 9])],
      options,
    );
    expect(mixed.lines.map((l) => l.runIds)).toEqual([['a', 'b'], ['c']]);
    expect(mixed.lines[0].points.map((p) => p.v)).toEqual([2, 3]); // the mean of a and b only
  });

  it("names a group by what its runs' names share", () => {
    expect(groupLabel(['sweep train.seed=1', 'sweep train.seed=2'])).toBe('sweep train.seed');
    expect(groupLabel(['vae-mnist-s0', 'vae-mnist-s0'])).toBe('vae-mnist-s0');
    expect(groupLabel(['alpha', 'beta'])).toBe('alpha');
  });

  it('gives mean and sample std per step, with the runs that cover each step', () => {
    const r1 = makeBuckets([1, 2, 3]); // steps 0, 10, 20
    const r2 = makeBuckets([3, 4, 5]);
    const r3 = makeBuckets([2, 3]); // stops at step 10
    const agg = aggregateBySteps([r1, r2, r3]);
    expect(agg.map((p) => p.step)).toEqual([0, 10, 20]);
    expect(agg.map((p) => p.mean)).toEqual([2, 3, 4]);
    expect(agg.map((p) => p.n)).toEqual([3, 3, 2]);
    expect(agg[0].std).toBeCloseTo(1, 12); // {1, 3, 2}
    expect(agg[1].std).toBeCloseTo(1, 12); // {2, 4, 3}
    expect(agg[2].std).toBeCloseTo(Math.SQRT2, 12); // {3, 5}
  });

  it('aligns runs logged at different steps by linear interpolation, never extrapolating', () => {
    const coarse = [
      { step: 0, epoch: 0, wallTime: 0, last: 0 },
      { step: 20, epoch: 1, wallTime: 2000, last: 4 },
    ];
    const fine = [
      { step: 0, epoch: 0, wallTime: 0, last: 2 },
      { step: 10, epoch: 0.5, wallTime: 1000, last: 2 },
      { step: 20, epoch: 1, wallTime: 2000, last: 2 },
      { step: 30, epoch: 1.5, wallTime: 3000, last: 8 },
    ];
    const agg = aggregateBySteps([coarse, fine]);
    expect(agg.map((p) => [p.step, p.mean, p.n])).toEqual([
      [0, 1, 2],
      [10, 2, 2], // coarse interpolated to 2 at step 10
      [20, 3, 2],
      [30, 8, 1], // only the run that reached step 30
    ]);
  });

  it('draws one mean line per seed group when aggregating, one line per run otherwise', () => {
    const config = (seed: number) => parseRunConfig({ train: { seed } });
    const inputs: SeriesInput[] = [1, 2, 3].map((seed) => ({
      runId: `s${seed}`,
      label: `seed ${seed}`,
      color: '#000',
      config: config(seed),
      buckets: makeBuckets([seed, seed + 1, seed + 2, seed + 3]),
      ctx: { stepsPerEpoch: null, startWall: null },
    }));
    const options = { xAxis: 'step' as const, smoothing: 0, logY: false, band: true, aggregateSeeds: false };
    const separate = buildChartSeries(inputs, options);
    expect(separate.lines).toHaveLength(3);
    expect(countPoints(separate.lines)).toBe(12);
    const grouped = buildChartSeries(inputs, { ...options, aggregateSeeds: true });
    expect(grouped.lines).toHaveLength(1);
    expect(grouped.lines[0].points.map((p) => p.y)).toEqual([2, 3, 4, 5]);
    expect(grouped.lines[0].band!.hi[0] - grouped.lines[0].band!.lo[0]).toBeCloseTo(2, 12); // ± std of {1,2,3} = ±1
  });

  it('drops non-positive values on a log axis and counts them', () => {
    const input: SeriesInput = {
      runId: 'r',
      label: 'r',
      color: '#000',
      config: {},
      buckets: makeBuckets([-5, 0, 2, 4]),
      ctx: { stepsPerEpoch: null, startWall: null },
    };
    const built = buildChartSeries([input], {
      xAxis: 'step',
      smoothing: 0,
      logY: true,
      band: false,
      aggregateSeeds: false,
    });
    expect(built.dropped).toBe(2);
    expect(built.lines[0].points.map((p) => p.y)).toEqual([2, 4]);
  });
});

describe('x-axis mapping', () => {
  const bucket = { step: 250, epoch: 2, wallTime: 1_700_000_090_000 };
  it('maps a bucket to step, fractional epoch, wall time and seconds since start', () => {
    const ctx = { stepsPerEpoch: 100, startWall: 1_700_000_000_000 };
    expect(mapX(bucket, 'step', ctx)).toBe(250);
    expect(mapX(bucket, 'epoch', ctx)).toBe(2.5);
    expect(mapX(bucket, 'epoch', { ...ctx, stepsPerEpoch: null })).toBe(2);
    expect(mapX(bucket, 'wall', ctx)).toBe(1_700_000_090_000);
    expect(mapX(bucket, 'relative', ctx)).toBe(90);
  });
});

describe('CSV export', () => {
  it('writes one row per run and bucket, quoting names with commas', () => {
    const csv = seriesToCsv([
      {
        runId: 'r1',
        runName: 'beta=4, seed 0',
        metric: 'test/elbo',
        buckets: [{ step: 10, epoch: 1, wallTime: 1000, min: -110, max: -100, last: -105.5, mean: -104, count: 3 }],
        smoothed: [-105.5],
      },
      { runId: 'r2', runName: 'plain', metric: 'test/elbo', buckets: makeBuckets([-99], 1, 5) },
    ]);
    expect(csv).toBe(
      'run_id,run_name,metric,step,epoch,wall_time,value,min,max,mean,count,smoothed\n' +
        'r1,"beta=4, seed 0",test/elbo,10,1,1000,-105.5,-110,-100,-104,3,-105.5\n' +
        'r2,plain,test/elbo,0,0,5,-99,-99,-99,-99,1,\n',
    );
  });
});

describe('ETA', () => {
  const started = 1_700_000_000_000;
  it('extrapolates the average rate so far', () => {
    // 250 of 1000 steps in 100 s: 750 more steps take 300 s.
    expect(estimateEta(250, 1000, started, started + 100_000)).toBe(300_000);
  });
  it('is unknown before the first step or without a total, and zero when done', () => {
    expect(estimateEta(0, 1000, started, started + 5000)).toBeNull();
    expect(estimateEta(10, null, started, started + 5000)).toBeNull();
    expect(estimateEta(10, 1000, null, started + 5000)).toBeNull();
    expect(estimateEta(1000, 1000, started, started + 5000)).toBe(0);
  });
  it('gives progress as a fraction of total steps', () => {
    expect(progressFraction(250, 1000)).toBe(0.25);
    expect(progressFraction(5, null)).toBeNull();
  });
});

describe('config diff', () => {
  it('lists only the flattened keys whose values differ', () => {
    const a = parseRunConfig({ model: { kind: 'beta-vae', beta: 4, hidden: [400] }, train: { seed: 0 } });
    const b = parseRunConfig({ model: { kind: 'beta-vae', beta: 8, hidden: [400] }, train: { seed: 1 } });
    const c = parseRunConfig({ model: { kind: 'beta-vae', beta: 8, hidden: [512, 256] }, train: { seed: 1 } });
    expect(configDiff([a, b]).rows).toEqual([
      { key: 'model.beta', values: [4, 8] },
      { key: 'train.seed', values: [0, 1] },
    ]);
    expect(configDiff([a, b, c]).rows.map((r) => r.key)).toEqual(['model.beta', 'model.hidden', 'train.seed']);
  });
});
