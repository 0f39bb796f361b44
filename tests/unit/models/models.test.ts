import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ModelConfigSchema, type ModelConfig } from '../../../src-main/api/config';
import { initBackend } from '../../../src-main/training/backend';
import { createModel, getNamedWeights, setNamedWeights } from '../../../src-main/models';
import { standardNormalValues } from '../../../src-main/models/noise';
import { klWeightAt } from '../../../src-main/models/schedules';
import type { LossOptions, LossTerms, VaeModel } from '../../../src-main/models/types';

const SHAPE: [number, number, number] = [8, 8, 1];
const D = 64;
const BATCH = 6;

/** A small model of the kind in `overrides` (default 'vae'): 4 latent dimensions, or a ladder of 4 and 2. */
const cfg = (overrides: Record<string, unknown> = {}): ModelConfig =>
  ModelConfigSchema.parse({
    hidden: [16],
    ...(overrides.kind === 'ladder' ? { ladderLatentDims: [4, 2] } : { latentDim: 4 }),
    ...overrides,
  });

const elboOptions = (overrides: Partial<LossOptions> = {}): LossOptions => ({
  klWeight: 1,
  freeBits: 0,
  capacity: null,
  objective: 'elbo',
  samples: 1,
  seed: 17,
  ...overrides,
});

type Numbers = { loss: number; elbo: number; recon: number; kl: number; klPerLayer: number[]; klPerDim: number[] };

function lossNumbers(model: VaeModel, x: tf.Tensor2D, options: LossOptions): Numbers {
  return tf.tidy(() => {
    const t: LossTerms = model.lossTerms(x, options);
    return {
      loss: t.loss.dataSync()[0],
      elbo: t.elbo.dataSync()[0],
      recon: t.recon.dataSync()[0],
      kl: t.kl.dataSync()[0],
      klPerLayer: t.klPerLayer.map((k) => k.dataSync()[0]),
      klPerDim: Array.from(t.klPerDim.dataSync()),
    };
  });
}

let x: tf.Tensor2D;
const models: VaeModel[] = [];
/** A model disposed after the file's tests. */
const make = (config: ModelConfig, seed = 1): VaeModel => {
  const m = createModel(config, SHAPE, seed);
  models.push(m);
  return m;
};

beforeAll(async () => {
  await initBackend('cpu');
  // binary "images" from the seeded stream
  x = tf.tensor2d(
    Array.from(standardNormalValues(BATCH * D, 3), (v) => (v > 0.3 ? 1 : 0)),
    [BATCH, D],
  );
});
afterAll(() => {
  x.dispose();
  models.forEach((m) => m.dispose());
});

describe('reproducibility and checkpoints', () => {
  for (const kind of ['vae', 'beta-vae', 'ladder'] as const) {
    it(`${kind}: same seed gives identical weights and loss terms, another seed differs`, () => {
      const a = make(cfg({ kind, ...(kind === 'beta-vae' ? { beta: 4 } : {}) }), 5);
      const b = make(cfg({ kind, ...(kind === 'beta-vae' ? { beta: 4 } : {}) }), 5);
      const c = make(cfg({ kind, ...(kind === 'beta-vae' ? { beta: 4 } : {}) }), 6);
      const [wa, wb, wc] = [a, b, c].map(getNamedWeights);
      expect(wa.map((w) => w.name)).toEqual(wb.map((w) => w.name));
      expect(wa.map((w) => w.name)).toEqual(wc.map((w) => w.name));
      wa.forEach((w, i) => expect(Array.from(w.values)).toEqual(Array.from(wb[i].values)));
      expect(wa.some((w, i) => w.name.endsWith('kernel') && w.values.some((v, j) => v !== wc[i].values[j]))).toBe(true);
      expect(lossNumbers(a, x, elboOptions())).toEqual(lossNumbers(b, x, elboOptions()));
      expect(lossNumbers(a, x, elboOptions()).loss).not.toBe(lossNumbers(c, x, elboOptions()).loss);
      expect(lossNumbers(a, x, elboOptions()).recon).not.toBe(lossNumbers(a, x, elboOptions({ seed: 18 })).recon);
    });
  }

  it('weight names are stable and namespaced, and setNamedWeights restores a snapshot', () => {
    const a = make(cfg({ kind: 'ladder' }), 1);
    const b = make(cfg({ kind: 'ladder' }), 2);
    const names = getNamedWeights(a).map((w) => w.name);
    expect(names).toContain('up1/up1_dense0/kernel');
    expect(names).toContain('down1/down1_out/bias');
    expect(names).toContain('decoder/decoder_out/kernel');
    expect(new Set(names).size).toBe(names.length);
    setNamedWeights(b, getNamedWeights(a));
    expect(lossNumbers(b, x, elboOptions())).toEqual(lossNumbers(a, x, elboOptions()));
    expect(() => setNamedWeights(b, getNamedWeights(a).slice(1))).toThrow(/missing/);
  });
});

describe('loss terms', () => {
  it('sign convention: elbo = -(recon + kl), kl >= 0, klPerDim sums to klPerLayer', () => {
    for (const kind of ['vae', 'ladder'] as const) {
      const t = lossNumbers(make(cfg({ kind })), x, elboOptions());
      expect(t.elbo).toBeCloseTo(-(t.recon + t.kl), 4);
      expect(t.loss).toBeCloseTo(-t.elbo, 4);
      expect(t.kl).toBeGreaterThanOrEqual(0);
      expect(t.klPerDim.length).toBe(kind === 'ladder' ? 6 : 4);
      expect(t.klPerDim.reduce((a, b) => a + b, 0)).toBeCloseTo(t.kl, 4);
    }
  });

  it("a 2-layer ladder's per-layer KLs sum to its total KL", () => {
    const t = lossNumbers(make(cfg({ kind: 'ladder' })), x, elboOptions());
    expect(t.klPerLayer.length).toBe(2);
    expect(t.klPerLayer.every((k) => k > 0)).toBe(true);
    expect(t.klPerLayer[0] + t.klPerLayer[1]).toBeCloseTo(t.kl, 5);
    expect(t.klPerDim.slice(0, 4).reduce((a, b) => a + b, 0)).toBeCloseTo(t.klPerLayer[0], 5);
  });

  it('beta scales only the KL term: loss(beta=4) - loss(beta=1) = 3 KL, recon unchanged', () => {
    const spec = { klSchedule: 'constant' as const, warmupSteps: 1, cycles: 1, cycleRatio: 1 };
    for (const kind of ['beta-vae', 'ladder'] as const) {
      const model = make(cfg({ kind }));
      const one = lossNumbers(model, x, elboOptions({ klWeight: 1 * klWeightAt(10, spec, 100) }));
      const four = lossNumbers(model, x, elboOptions({ klWeight: 4 * klWeightAt(10, spec, 100) }));
      expect(four.recon).toBe(one.recon);
      expect(four.kl).toBe(one.kl);
      expect(four.elbo).toBe(one.elbo);
      expect(four.loss - one.loss).toBeCloseTo(3 * one.kl, 4);
    }
  });

  it('free bits floors the penalised KL of each layer; the reported KL stays the true KL', () => {
    const ladder = make(cfg({ kind: 'ladder' }));
    const plain = lossNumbers(ladder, x, elboOptions());
    const [k1, k2] = plain.klPerLayer;
    const floor = (Math.min(k1, k2) + Math.max(k1, k2)) / 2; // between the two layers' KLs
    const floored = lossNumbers(ladder, x, elboOptions({ freeBits: floor, freeBitsPer: 'layer', klWeight: 0.5 }));
    expect(floored.kl).toBe(plain.kl);
    expect(floored.loss - floored.recon).toBeCloseTo(0.5 * (Math.max(floor, k1) + Math.max(floor, k2)), 4);

    // Per latent dimension (the default, openai/iaf kl_min): sum_j max(lambda, KL_j) over every dimension.
    const perDim = plain.klPerDim;
    const lambda = [...perDim].sort((a, b) => a - b)[Math.floor(perDim.length / 2)]; // the median dimension's KL
    const byDim = lossNumbers(ladder, x, elboOptions({ freeBits: lambda, klWeight: 0.5 }));
    const expectedByDim = 0.5 * perDim.reduce((sum, k) => sum + Math.max(lambda, k), 0);
    expect(byDim.loss - byDim.recon).toBeCloseTo(expectedByDim, 4);
    expect(expectedByDim).toBeGreaterThan(0.5 * plain.kl + 1e-3); // the floor binds on some dimensions
    expect(byDim.kl).toBe(plain.kl);

    // Far above the KL, the KL term is a constant: the gradient equals the reconstruction's alone.
    const vae = make(cfg({ kind: 'vae' }));
    const gradients = (pick: (t: LossTerms) => tf.Scalar) =>
      tf.tidy(() => {
        const { grads } = tf.variableGrads(
          () => pick(vae.lossTerms(x, elboOptions({ freeBits: 1000 }))),
          vae.trainableVariables(),
        );
        return Object.values(grads).map((g) => Array.from(g.dataSync()));
      });
    const t = lossNumbers(vae, x, elboOptions({ freeBits: 1000 }));
    expect(t.loss - t.recon).toBeCloseTo(4 * 1000, 2); // four latent dimensions, each floored at 1000
    const gLoss = gradients((terms) => terms.loss);
    const gRecon = gradients((terms) => terms.recon);
    gLoss.forEach((g, i) => g.forEach((v, j) => expect(v).toBeCloseTo(gRecon[i][j], 6)));
  });

  it('controlled capacity: loss = recon + gamma |KL - C| (beta-VAE only)', () => {
    const model = make(cfg({ kind: 'beta-vae' }));
    const plain = lossNumbers(model, x, elboOptions());
    for (const c of [0, plain.kl / 2, plain.kl * 3]) {
      const t = lossNumbers(model, x, elboOptions({ capacity: { gamma: 100, c } }));
      expect(t.recon).toBe(plain.recon);
      expect(t.loss - t.recon).toBeCloseTo(100 * Math.abs(plain.kl - c), 2);
    }
    expect(() => make(cfg({ kind: 'vae' })).lossTerms(x, elboOptions({ capacity: { gamma: 1, c: 1 } }))).toThrow(
      /beta-vae/,
    );
  });

  it('the IWAE objective minimises -IWAE_k on the same draws as iwaeBound', () => {
    for (const kind of ['vae', 'ladder'] as const) {
      const model = make(cfg({ kind }));
      const t = lossNumbers(model, x, elboOptions({ objective: 'iwae', samples: 5, seed: 4 }));
      const bound = tf.tidy(() => model.iwaeBound(x, 5, { chunk: 2, seed: 4 }).mean().dataSync()[0]);
      expect(t.loss).toBeCloseTo(-bound, 4);
      expect(-t.loss).toBeGreaterThan(t.elbo - 1); // IWAE_5 >= ELBO up to sampling noise
    }
  });

  it('every variable gets a finite, non-zero gradient (ladder, conv, learned Gaussian variance)', () => {
    const configs = [
      cfg({ kind: 'ladder', activation: 'leaky-relu' }),
      cfg({ architecture: 'conv', activation: 'elu' }),
      cfg({ likelihood: 'gaussian', gaussianVariance: 'learned', activation: 'tanh' }),
    ];
    for (const config of configs) {
      const model = make(config);
      const norms = tf.tidy(() => {
        const { grads } = tf.variableGrads(() => model.lossTerms(x, elboOptions()).loss, model.trainableVariables());
        return model.trainableVariables().map((v) => tf.norm(grads[v.name]).dataSync()[0]);
      });
      expect(norms.length).toBeGreaterThan(0);
      for (const n of norms) {
        expect(Number.isFinite(n)).toBe(true);
        expect(n).toBeGreaterThan(0);
      }
    }
    expect(Object.keys(models[models.length - 1].networks())).toEqual(['encoder', 'decoder', 'pixelLogVariance']);
  });
});

describe('IWAE bound in chunks', () => {
  for (const kind of ['vae', 'ladder'] as const) {
    it(`${kind}: k = 5000 in chunks of 500 equals the unchunked value (1e-4)`, () => {
      const model = make(cfg({ kind }));
      const sub = x.slice([0, 0], [3, D]);
      const [chunked, whole] = tf.tidy(() => [
        Array.from(model.iwaeBound(sub, 5000, { chunk: 500, seed: 8 }).dataSync()),
        Array.from(model.iwaeBound(sub, 5000, { chunk: 5000, seed: 8 }).dataSync()),
      ]);
      sub.dispose();
      chunked.forEach((v, i) => expect(Math.abs(v - whole[i])).toBeLessThan(1e-4));
      const elbo = lossNumbers(model, x.slice([0, 0], [3, D]), elboOptions()).elbo;
      expect(chunked.reduce((a, b) => a + b, 0) / 3).toBeGreaterThan(elbo - 1);
    });
  }
});

describe('encoding, decoding, generation and export', () => {
  it('shapes and ranges of every variant', async () => {
    for (const config of [cfg(), cfg({ kind: 'ladder' }), cfg({ architecture: 'conv' })]) {
      const model = make(config);
      const out = tf.tidy(() => {
        const means = model.encodeMeans(x);
        const zTop = tf.zeros([5, model.priorDim]) as tf.Tensor2D;
        return {
          means: means.map((m) => m.shape),
          mean: model.encodeMean(x).shape,
          recon: Array.from(model.reconstruct(x).dataSync()),
          generated: model.generate(zTop, 3).shape,
          decoded: model.decode(tf.zeros([2, model.latentDims[0]]) as tf.Tensor2D).shape,
        };
      });
      expect(out.means).toEqual(model.latentDims.map((d) => [BATCH, d]));
      expect(out.mean).toEqual([BATCH, model.latentDims[0]]);
      expect(out.recon.every((v) => v >= 0 && v <= 1)).toBe(true);
      expect(out.generated).toEqual([5, D]);
      expect(out.decoded).toEqual([2, D]);
      expect(model.priorDim).toBe(config.kind === 'ladder' ? 2 : 4);
      // every network exports in the TF.js Layers format
      for (const net of Object.values(model.networks())) {
        let topology: unknown = null;
        await net.save(
          tf.io.withSaveHandler(async (artifacts) => {
            topology = artifacts.modelTopology;
            return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
          }),
        );
        expect(topology).not.toBeNull();
      }
    }
  });

  it('the conv architecture maps 28x28x1 images through 14x14x32 and 7x7x64 and back', () => {
    const model = createModel(cfg({ architecture: 'conv', hidden: [32] }), [28, 28, 1], 1);
    const { encoder, decoder } = model.networks();
    expect(
      encoder.layers.filter((l) => l.name.includes('conv') && !l.name.endsWith('act')).map((l) => l.outputShape),
    ).toEqual([
      [null, 14, 14, 32],
      [null, 7, 7, 64],
    ]);
    expect(encoder.outputs[0].shape).toEqual([null, 8]); // [mu | logVar] for latentDim 4
    expect(decoder.outputs[0].shape).toEqual([null, 784]);
    const shape = tf.tidy(() => model.reconstruct(tf.zeros([2, 784]) as tf.Tensor2D).shape);
    expect(shape).toEqual([2, 784]);
    model.dispose();
    expect(() => createModel(cfg({ architecture: 'conv' }), [30, 30, 1], 1)).toThrow(/divisible by 4/);
  });

  it('does not leak tensors', () => {
    const model = make(cfg({ kind: 'ladder' }));
    const zTop = tf.zeros([2, 2]) as tf.Tensor2D;
    const calls = [
      () =>
        tf.dispose(model.lossTerms(x, elboOptions({ objective: 'iwae', samples: 3 })) as unknown as tf.TensorContainer),
      () => model.iwaeBound(x, 20, { chunk: 7, seed: 1 }).dispose(),
      () => model.encodeMean(x).dispose(),
      () => model.reconstruct(x).dispose(),
      () => model.generate(zTop, 1).dispose(),
    ];
    const leaks = calls.map((call) => {
      const before = tf.memory().numTensors;
      call();
      return tf.memory().numTensors - before;
    });
    zTop.dispose();
    expect(leaks).toEqual([0, 0, 0, 0, 0]);
  });
});
