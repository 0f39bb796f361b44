// The model variants (flow posteriors, beta-TCVAE) train in the trainer on a tiny MNIST subset,
// report their own metrics, and their final checkpoint rebuilds into the same model and exports
// every network in the Layers format (the flow included) with identical outputs.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parseRunConfig, type RunConfig } from '../../../src-main/api/config';
import { getNamedWeights } from '../../../src-main/models';
import { decodeCheckpoint } from '../../../src-main/training/checkpoint';
import { filesIOHandler, layersModelFiles, modelFromCheckpoint } from '../../../src-main/training/checkpointModel';
import { CONTROL, type TrainerEvent } from '../../../src-main/training/events';
import { train } from '../../../src-main/training/trainer';

function config(model: object): RunConfig {
  return parseRunConfig({
    model: { hidden: [32], latentDim: 4, ...model },
    data: { dataset: 'mnist', trainSize: 256, testSize: 256, binarization: 'dynamic' },
    train: { epochs: 1, batchSize: 64, lr: 3e-3, seed: 3, backend: 'cpu' },
    eval: { iwaeK: 4, iwaeExamples: 16, gridSize: 4 },
  });
}

async function trainRun(cfg: RunConfig) {
  const control = new Int32Array(new SharedArrayBuffer(4));
  Atomics.store(control, 0, CONTROL.run);
  const metrics = new Map<string, number>();
  const images: { kind: string; width: number; height: number }[] = [];
  let finalCheckpoint: Uint8Array | null = null;
  let error: string | null = null;
  const status = await train({ runId: 'v', config: cfg, resumeFrom: null }, control, (event: TrainerEvent) => {
    if (event.type === 'metrics') for (const p of event.points) metrics.set(p.name, p.value);
    if (event.type === 'image') images.push({ kind: event.kind, width: event.width, height: event.height });
    if (event.type === 'checkpoint' && event.kind === 'final') finalCheckpoint = event.bytes;
    if (event.type === 'finished' && event.error) error = event.error;
  });
  return {
    status: error ? `${status}: ${error}` : status,
    metrics,
    images,
    checkpoint: finalCheckpoint as Uint8Array | null,
  };
}

/** The checkpoint rebuilt twice gives the same weights and the same reconstructions (max |diff| 0). */
async function checkRoundTrip(cfg: RunConfig, bytes: Uint8Array): Promise<void> {
  const content = decodeCheckpoint(bytes);
  const a = modelFromCheckpoint(cfg, [28, 28, 1], content);
  const b = modelFromCheckpoint(cfg, [28, 28, 1], content);
  try {
    const names = getNamedWeights(a).map((w) => w.name);
    expect(names).toEqual(content.model.map((w) => w.name));
    const x = tf.tidy(() => tf.randomUniform([3, 784], 0, 1, 'float32', 5));
    const diff = tf.tidy(
      () => tf.max(tf.abs(tf.sub(a.reconstruct(x as tf.Tensor2D), b.reconstruct(x as tf.Tensor2D)))).dataSync()[0],
    );
    x.dispose();
    expect(diff).toBe(0);
    // Every network exports in the Layers format and loads back with the same weights.
    for (const [name, net] of Object.entries(a.networks())) {
      const { files } = await layersModelFiles(net);
      const loaded = await tf.loadLayersModel(filesIOHandler((file) => files.get(file)!));
      const original = net.getWeights().map((w) => Array.from(w.dataSync()));
      expect(
        loaded.getWeights().map((w) => Array.from(w.dataSync())),
        name,
      ).toEqual(original);
      loaded.dispose();
    }
  } finally {
    a.dispose();
    b.dispose();
  }
}

describe('variant models in the trainer', () => {
  for (const posterior of ['planar', 'iaf'] as const) {
    it(`posterior '${posterior}' trains, reports the mean log-det per step, and round-trips its checkpoint`, async () => {
      const cfg = config({ posterior, flowLength: 2 });
      const run = await trainRun(cfg);
      expect(run.status).toBe('completed');
      const elbo = run.metrics.get('test/elbo')!;
      expect(elbo).toBeLessThan(0);
      expect(elbo).toBeCloseTo(-(run.metrics.get('test/recon')! + run.metrics.get('test/kl')!), 3);
      for (const k of [0, 1]) expect(Number.isFinite(run.metrics.get(`test/flow_logdet/${k}`))).toBe(true);
      expect(run.metrics.has('test/mi')).toBe(false); // no closed-form q(z|x) for the decomposition
      expect(run.metrics.get('test/iwae')!).toBeGreaterThan(elbo - 5);
      const flowWeights = decodeCheckpoint(run.checkpoint!).model.filter((w) => w.name.startsWith('flow/'));
      expect(flowWeights.length).toBe(posterior === 'planar' ? 6 : 12);
      await checkRoundTrip(cfg, run.checkpoint!);
    });
  }

  it('beta-tcvae trains and reports test/mi, test/tc, test/dwkl summing to about test/kl', async () => {
    const cfg = config({ kind: 'beta-tcvae', alpha: 1, beta: 6, gamma: 1 });
    const run = await trainRun(cfg);
    expect(run.status).toBe('completed');
    const [mi, tc, dwkl, kl] = ['mi', 'tc', 'dwkl', 'kl'].map((n) => run.metrics.get(`test/${n}`)!);
    expect(mi).toBeGreaterThan(0);
    // one posterior sample per test image: the Monte Carlo KL is near the analytic one
    expect(Math.abs(mi + tc + dwkl - kl) / kl).toBeLessThan(0.2);
    await checkRoundTrip(cfg, run.checkpoint!);
  });

  for (const codebookUpdate of ['ema', 'loss'] as const) {
    it(`vq-vae (codebook by ${codebookUpdate}) trains, reports codebook use and the uniform-prior bound, and round-trips`, async () => {
      const cfg = config({
        kind: 'vq-vae',
        latentDim: undefined,
        codebookSize: 32,
        codeDim: 4,
        codePositions: 4,
        codebookUpdate,
        deadCodeSteps: codebookUpdate === 'ema' ? 2 : 0,
      });
      const run = await trainRun(cfg);
      expect(run.status).toBe('completed');
      const m = (name: string) => run.metrics.get(`test/${name}`)!;
      expect(m('kl')).toBeCloseTo(4 * Math.log(32), 4); // P log K: the one-hot posterior's KL to the uniform prior
      expect(m('uniform_prior_kl')).toBeCloseTo(4 * Math.log(32), 4);
      expect(m('elbo')).toBeCloseTo(-(m('recon') + m('kl')), 3);
      expect(m('gap')).toBe(0); // the bound is exact for every IWAE k
      expect(m('perplexity')).toBeGreaterThan(1);
      expect(m('perplexity')).toBeLessThanOrEqual(32);
      expect(m('codes_used')).toBeGreaterThan(1 / 32);
      expect(m('codes_used')).toBeLessThanOrEqual(1);
      expect(m('commitment')).toBeGreaterThan(0);
      // The bound with the fitted autoregressive prior: its KL replaces P log K.
      expect(m('code_prior_kl')).toBeGreaterThan(0);
      expect(m('code_prior_kl')).toBeLessThan(4 * Math.log(32));
      expect(m('elbo_code_prior')).toBeCloseTo(-(m('recon') + m('code_prior_kl')), 3);
      expect(m('elbo_code_prior')).toBeGreaterThan(m('elbo'));
      expect([...run.metrics.keys()].some((k) => k.includes('kl_dim') || k.includes('active_units'))).toBe(false);
      // The codebook-usage histogram: 32 codes, one per bin, most used first, shares summing to 1.
      const shares = [...Array(32).keys()].map((b) => m(`code_share/${String(b).padStart(2, '0')}`));
      expect(run.metrics.has('test/code_share/32')).toBe(false);
      expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      for (let b = 1; b < 32; b++) expect(shares[b]).toBeLessThanOrEqual(shares[b - 1]);
      expect(shares.filter((v) => v > 0).length / 32).toBeCloseTo(m('codes_used'), 12);
      const entropy = -shares.filter((v) => v > 0).reduce((a, v) => a + v * Math.log(v), 0);
      expect(Math.exp(entropy)).toBeCloseTo(m('perplexity'), 4);
      // Code swaps instead of traversals: 4 positions x 4 columns of 28 x 28 images, 1-pixel gaps.
      expect(run.images.map((i) => i.kind)).toEqual(['samples', 'samples-drawn', 'reconstructions', 'code-swap']);
      const swap = run.images.find((i) => i.kind === 'code-swap')!;
      expect([swap.width, swap.height]).toEqual([4 * 28 + 3, 4 * 28 + 3]);
      const weights = decodeCheckpoint(run.checkpoint!).model;
      const names = weights.map((w) => w.name);
      expect(names).toContain('codebook/codebook_embedding/kernel');
      // The autoregressive code prior is counted on all 256 training images at each of the 4 positions.
      const marginal = weights.find((w) => w.name.startsWith('codePriorAr/') && w.name.includes('marginal'))!;
      expect(marginal.values.reduce((a, b) => a + b, 0)).toBe(256 * 4);
      for (let p = 0; p < 4; p++)
        expect(marginal.values.subarray(p * 32, (p + 1) * 32).reduce((a, b) => a + b, 0)).toBe(256);
      await checkRoundTrip(cfg, run.checkpoint!);
    });
  }

  for (const model of [
    { kind: 'vq-vae', latentDim: undefined, codebookSize: 16, codeDim: 4, codePositions: 4, deadCodeSteps: 2 },
    { posterior: 'iaf', flowLength: 2 },
  ]) {
    it(`pause and resume reproduce the uninterrupted run bit for bit: ${model.kind ?? model.posterior}`, async () => {
      const cfg = parseRunConfig({ ...config(model), train: { ...config(model).train, epochs: 2 } });
      const values = async (resumeFrom: { path: string; step: number } | null, pauseAt?: number) => {
        const control = new Int32Array(new SharedArrayBuffer(4));
        const seen = new Map<string, number>();
        let pausedAt: Uint8Array | null = null;
        const status = await train({ runId: 'p', config: cfg, resumeFrom }, control, (event: TrainerEvent) => {
          if (event.type === 'metrics')
            for (const p of event.points)
              if (p.name !== 'train/samples_per_sec') seen.set(`${p.name}@${p.step}`, p.value);
          if (event.type === 'progress' && event.step === pauseAt) Atomics.store(control, 0, CONTROL.pause);
          if (event.type === 'checkpoint' && event.kind === 'pause') pausedAt = event.bytes;
        });
        return { status, seen, pausedAt: pausedAt as Uint8Array | null };
      };
      const full = await values(null);
      const paused = await values(null, 3);
      expect(paused.status).toBe('paused');
      const file = join(mkdtempSync(join(tmpdir(), 'vaewb-variant-ckpt-')), 'pause.safetensors');
      writeFileSync(file, paused.pausedAt!);
      const resumed = await values({ path: file, step: 3 });
      expect(resumed.status).toBe('completed');
      expect(resumed.seen.size).toBeGreaterThan(20);
      for (const [key, value] of resumed.seen) expect(value, key).toBe(full.seen.get(key));
    });
  }

  it('a plain VAE also reports the decomposition', async () => {
    const run = await trainRun(config({}));
    const [mi, tc, dwkl, kl] = ['mi', 'tc', 'dwkl', 'kl'].map((n) => run.metrics.get(`test/${n}`)!);
    expect(Math.abs(mi + tc + dwkl - kl) / kl).toBeLessThan(0.2);
  });
});
