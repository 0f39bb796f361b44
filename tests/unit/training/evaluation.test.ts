// Trustworthy comparisons (#12): fixed test sets, estimators on the same examples, bounded
// likelihoods, the 0-based cyclical schedule and MIG on fresh points, held on real training runs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../../src-main/api/config';
import { readIdx } from '../../../src-main/data/idx';
import { mnistDataFolder } from '../../../src-main/data/mnistData';
import { CONTROL, type TrainerEvent } from '../../../src-main/training/events';
import { evalTestSet, loadRunDataset } from '../../../src-main/training/runData';
import { train } from '../../../src-main/training/trainer';
import { requirement } from '../../helpers/requirements';

type Started = Extract<TrainerEvent, { type: 'started' }>;

function config(overrides: { model?: object; data?: object; train?: object; eval?: object } = {}) {
  return parseRunConfig({
    model: { hidden: [64], latentDim: 4, ...overrides.model },
    data: { dataset: 'mnist', trainSize: 256, testSize: 32, ...overrides.data },
    train: { epochs: 1, batchSize: 64, lr: 3e-3, seed: 7, backend: 'wasm', ...overrides.train },
    eval: { iwaeK: 8, gridSize: 4, ...overrides.eval },
  });
}

async function record(cfg: ReturnType<typeof config>) {
  const control = new Int32Array(new SharedArrayBuffer(4));
  control[0] = CONTROL.run;
  const events: TrainerEvent[] = [];
  const status = await train({ runId: 'x', config: cfg, resumeFrom: null }, control, (e) => events.push(e));
  const points = events.flatMap((e) => (e.type === 'metrics' ? e.points : []));
  const series = (name: string) => points.filter((p) => p.name === name).map((p) => p.value);
  return { status, events, series, started: events.find((e): e is Started => e.type === 'started')! };
}

const FASHION = '/usr/share/datasets/fashion-mnist';
const fashion = requirement(
  import.meta.filename,
  existsSync(join(FASHION, 't10k-images-idx3-ubyte.gz')),
  `Fashion-MNIST is not in ${FASHION} (apt-get install dataset-fashion-mnist)`,
);

describe('evaluation sets that do not move', () => {
  it('mnist is MNIST: 60,000 + 10,000 with the official class counts', async () => {
    const data = await loadRunDataset(config({ data: { trainSize: 60_000, testSize: 10_000 } }));
    const counts = (labels: Int32Array) => labels.reduce((c, l) => (c[l]++, c), new Array<number>(10).fill(0));
    expect(counts(data.train.labels!)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(counts(data.test.labels!)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(data.testSplit).toBe('published');
    expect(data.eightBit).toBe(true);
  });

  for (const [name, folder] of [
    ['mnist', () => mnistDataFolder()],
    ['fashion-mnist', () => FASHION],
  ] as const) {
    it.skipIf(name === 'fashion-mnist' && !fashion.ok)(
      `${name} with testSize 1,000 evaluates exactly t10k's first 1,000 images, whatever train.seed`,
      async () => {
        const dir = folder();
        const file = ['t10k-images-idx3-ubyte', 't10k-images-idx3-ubyte.gz'].map((f) => join(dir, f)).find(existsSync)!;
        const t10k = await readIdx(file);
        const expected = Float32Array.from((t10k.data as Uint8Array).subarray(0, 1000 * 784), (v) => v / 255);
        const hashes = new Set<string>();
        for (const seed of [0, 1, 2]) {
          const cfg = config({ data: { dataset: name, testSize: 1000, binarization: 'none' }, train: { seed } });
          const data = await loadRunDataset(cfg);
          expect(Array.from(data.test.indices!.subarray(0, 3))).toEqual([0, 1, 2]);
          expect(data.test.indices![999]).toBe(999);
          expect(data.test.pixels.length).toBe(expected.length);
          expect(data.test.pixels.every((v, i) => v === expected[i])).toBe(true);
          hashes.add(evalTestSet(cfg, data).hash);
        }
        expect(hashes.size).toBe(1);
      },
    );
  }

  it('two runs that differ only in train.seed report the same testSetHash; another split seed moves a seeded split', async () => {
    const a = await record(config());
    const b = await record(config({ train: { seed: 8 } }));
    expect(a.status).toBe('completed');
    expect(a.started.testSetHash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.started.testSetHash).toBe(a.started.testSetHash);
    expect(b.series('train/loss')[0]).not.toBe(a.series('train/loss')[0]); // the seed did change training
    // A source without a published split draws its split from data.splitSeed, not train.seed.
    const tenK = (o: object) => config({ data: { dataset: 'mnist-10k', ...o } });
    const seeded = async (cfg: ReturnType<typeof config>) => evalTestSet(cfg, await loadRunDataset(cfg)).hash;
    const base = await seeded(tenK({}));
    expect(await seeded(parseRunConfig({ ...tenK({}), train: { ...tenK({}).train, seed: 99 } }))).toBe(base);
    expect(await seeded(tenK({ splitSeed: 1 }))).not.toBe(base);
  });
});

describe('estimators on the same examples', () => {
  it('test/gap = test/iwae - test/elbo on the same images (the whole test set when testSize <= 2,000)', async () => {
    const run = await record(config());
    const [iwae, elbo, subset, gap, n] = ['iwae', 'elbo', 'elbo_iwae_subset', 'gap', 'iwae_examples'].map(
      (m) => run.series(`test/${m}`)[0],
    );
    expect(n).toBe(32);
    expect(subset).toBe(elbo);
    expect(Math.abs(gap - (iwae - elbo))).toBeLessThan(1e-6);
    expect(gap).toBeGreaterThan(-1); // IWAE_8 >= ELBO up to the one-sample noise of the ELBO estimate
    expect(run.series('test/bpd')[0]).toBeCloseTo(-elbo / (784 * Math.LN2), 9);
  });

  it('with eval.iwaeExamples the ELBO is also reported on that subset, and the gap uses it', async () => {
    const run = await record(config({ eval: { iwaeExamples: 8 } }));
    const [iwae, elbo, subset, gap, n] = ['iwae', 'elbo', 'elbo_iwae_subset', 'gap', 'iwae_examples'].map(
      (m) => run.series(`test/${m}`)[0],
    );
    expect(n).toBe(8);
    expect(subset).not.toBe(elbo);
    expect(Math.abs(gap - (iwae - subset))).toBeLessThan(1e-6);
  });
});

describe('likelihoods that are bounds', () => {
  it('a Gaussian learned-variance run on MNIST keeps test/elbo <= 0 at every evaluation (dequantized, sigma floored)', async () => {
    const cfg = config({
      model: { likelihood: 'gaussian', gaussianVariance: 'learned' },
      data: { trainSize: 512, testSize: 32 },
      train: { epochs: 4, lr: 1e-2 },
    });
    expect(cfg.data.binarization).toBe('none'); // the defaults follow the likelihood
    expect(cfg.data.dequantize).toBe(true);
    const run = await record(cfg);
    expect(run.status).toBe('completed');
    const elbo = run.series('test/elbo');
    const iwae = run.series('test/iwae');
    expect(elbo).toHaveLength(4);
    for (const v of [...elbo, ...iwae]) expect(v).toBeLessThanOrEqual(0);
    // Per pixel the bound is at most log(1/sqrt(2 pi)) = -0.919 nats at the floor sigma = 1/256.
    for (const v of iwae) expect(v / 784).toBeLessThan(-0.9189);
    for (const v of run.series('train/elbo')) expect(v).toBeLessThanOrEqual(0);
    const bpd = run.series('test/bpd');
    bpd.forEach((b, i) => expect(b).toBeCloseTo(-elbo[i] / (784 * Math.LN2), 9));
    expect(Math.min(...bpd)).toBeGreaterThan(0);
  });
});

describe('schedules as the references define them', () => {
  it('the cyclical weight of update i is frange_cycle_linear[i]: the last update of a cycle and of the run is not 0', async () => {
    // 256 / 64 = 4 updates per epoch, 2 epochs = 8 updates, M = 4, R = 0.5: period 2, increment 1.
    const run = await record(config({ train: { epochs: 2, klSchedule: 'cyclical', cycles: 4, cycleRatio: 0.5 } }));
    expect(run.series('train/kl_weight')).toEqual([0, 1, 0, 1, 0, 1, 0, 1]);
  });
});

describe('MIG on fresh points from the generator', () => {
  it('shapes report MIG on eval.migPoints points, not on the test split', async () => {
    const run = await record(
      config({ data: { dataset: 'shapes', trainSize: 256, testSize: 32 }, eval: { migPoints: 2000 } }),
    );
    expect(run.series('test/mig_points')).toEqual([2000]);
    const [mig] = run.series('test/mig');
    expect(mig).toBeGreaterThanOrEqual(0);
    expect(mig).toBeLessThanOrEqual(1);
  });
});
