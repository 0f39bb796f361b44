// The training loop, run in this process (the pool test runs it in worker threads).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRunConfig, type RunConfigInput } from '../../../src-main/api/config';
import { decodeCheckpoint } from '../../../src-main/training/checkpoint';
import { CONTROL, type TrainerEvent, type TrainJob } from '../../../src-main/training/events';
import { train } from '../../../src-main/training/trainer';

const small: RunConfigInput = {
  model: { hidden: [64], latentDim: 4 },
  data: { dataset: 'mnist', trainSize: 512, testSize: 64, binarization: 'dynamic' },
  train: { epochs: 2, batchSize: 64, lr: 3e-3, seed: 7, backend: 'wasm' },
  eval: { iwaeK: 8, iwaeExamples: 16, gridSize: 4 },
};

function config(overrides: { model?: object; data?: object; train?: object; eval?: object } = {}) {
  return parseRunConfig({
    model: { ...small.model, ...overrides.model },
    data: { ...small.data, ...overrides.data },
    train: { ...small.train, ...overrides.train },
    eval: { ...small.eval, ...overrides.eval },
  });
}

interface Recorded {
  status: string;
  events: TrainerEvent[];
  /** name@step -> value, for every metric except timing ones. */
  values: Map<string, number>;
}

async function record(job: TrainJob, onEvent?: (event: TrainerEvent, control: Int32Array) => void): Promise<Recorded> {
  const control = new Int32Array(new SharedArrayBuffer(4));
  const events: TrainerEvent[] = [];
  const values = new Map<string, number>();
  const status = await train(job, control, (event) => {
    events.push(event);
    if (event.type === 'metrics') {
      for (const p of event.points) if (p.name !== 'train/samples_per_sec') values.set(`${p.name}@${p.step}`, p.value);
    }
    onEvent?.(event, control);
  });
  return { status, events, values };
}

const series = (r: Recorded, name: string) =>
  [...r.values.entries()]
    .filter(([k]) => k.startsWith(`${name}@`))
    .map(([k, v]) => [Number(k.split('@')[1]), v] as const);

describe('trainer', () => {
  it('a short MNIST run lowers the test loss, and reports the terms with elbo = -(recon + kl)', async () => {
    const run = await record({ runId: 'a', config: config({ train: { epochs: 3 } }), resumeFrom: null });
    expect(run.status).toBe('completed');
    const elbo = series(run, 'test/elbo');
    expect(elbo).toHaveLength(3);
    expect(elbo[2][1]).toBeGreaterThan(elbo[0][1] + 5); // at least 5 nats better after two more epochs
    const recon = series(run, 'test/recon');
    const kl = series(run, 'test/kl');
    for (let i = 0; i < 3; i++) expect(elbo[i][1]).toBeCloseTo(-(recon[i][1] + kl[i][1]), 3);
    // The IWAE_k estimate is a tighter bound than the ELBO (on average over the same examples, up to noise).
    expect(series(run, 'test/iwae')[2][1]).toBeGreaterThan(elbo[2][1] - 2);
    const steps = series(run, 'train/loss');
    expect(steps.map(([s]) => s)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
  });

  it('two runs with one seed give identical metrics; another seed does not', async () => {
    const a = await record({ runId: 'a', config: config(), resumeFrom: null });
    const b = await record({ runId: 'b', config: config(), resumeFrom: null });
    const c = await record({ runId: 'c', config: config({ train: { seed: 8 } }), resumeFrom: null });
    expect(a.values.size).toBeGreaterThan(100);
    expect([...b.values.entries()]).toEqual([...a.values.entries()]);
    expect(c.values.get('train/loss@16')).not.toBe(a.values.get('train/loss@16'));
  });

  it('a NaN loss stops the run as diverged, recording the step', async () => {
    const run = await record({
      runId: 'd',
      config: config({ train: { lr: 1 }, data: { binarization: 'none' } }),
      resumeFrom: null,
    });
    expect(run.status).toBe('diverged');
    const finished = run.events.at(-1) as Extract<TrainerEvent, { type: 'finished' }>;
    const lastFinite = Math.max(...series(run, 'train/loss').map(([s]) => s));
    expect(finished.step).toBe(lastFinite + 1);
    expect(finished.error).toMatch(new RegExp(`step ${finished.step}\\b`));
  });

  it('cancel takes effect within one batch', async () => {
    const run = await record({ runId: 'e', config: config(), resumeFrom: null }, (event, control) => {
      if (event.type === 'progress' && event.step === 3) Atomics.store(control, 0, CONTROL.cancel);
    });
    expect(run.status).toBe('cancelled');
    expect(series(run, 'train/loss').map(([s]) => s)).toEqual([1, 2, 3]);
  });

  it('pause keeps a checkpoint, and resuming from it reproduces the uninterrupted run bit for bit', async () => {
    const full = await record({ runId: 'f', config: config(), resumeFrom: null });
    const paused = await record({ runId: 'g', config: config(), resumeFrom: null }, (event, control) => {
      if (event.type === 'progress' && event.step === 5) Atomics.store(control, 0, CONTROL.pause);
    });
    expect(paused.status).toBe('paused');
    const checkpoint = paused.events.find(
      (e): e is Extract<TrainerEvent, { type: 'checkpoint' }> => e.type === 'checkpoint',
    )!;
    expect(checkpoint.step).toBe(5);
    const file = join(mkdtempSync(join(tmpdir(), 'vaewb-ckpt-')), 'pause.safetensors');
    writeFileSync(file, checkpoint.bytes);
    expect(decodeCheckpoint(checkpoint.bytes).metadata.step).toBe('5');
    const resumed = await record({ runId: 'g', config: config(), resumeFrom: { path: file, step: 5 } });
    expect(resumed.status).toBe('completed');
    const started = resumed.events[0] as Extract<TrainerEvent, { type: 'started' }>;
    expect(started.startStep).toBe(5);
    const after = [...resumed.values.entries()];
    expect(after.length).toBeGreaterThan(50);
    for (const [key, value] of after) expect(value, key).toBe(full.values.get(key));
  });

  it('emits PNG grids of the expected size for samples (means and draws), reconstructions and traversals', async () => {
    const run = await record({ runId: 'h', config: config({ train: { epochs: 1 } }), resumeFrom: null });
    const images = run.events.filter((e): e is Extract<TrainerEvent, { type: 'image' }> => e.type === 'image');
    expect(images.map((i) => i.kind)).toEqual(['samples', 'samples-drawn', 'reconstructions', 'traversal']);
    const side = 4 * 28 + 3; // 4 columns of 28 px with 1 px gaps
    for (const image of images) {
      expect([...image.png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      expect(image.width).toBe(side);
    }
    expect(images[0].height).toBe(side); // 4 x 4 prior samples
    expect(images[1].height).toBe(side); // the same 4 x 4 prior draws, x drawn from p(x|z)
    expect(images[3].height).toBe(side); // 4 latent dims x 4 steps
  });
});
