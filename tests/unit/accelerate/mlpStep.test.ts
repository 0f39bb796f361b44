// The whole-step native path (accelerate/mlpStep.ts) against the tfjs step it replaces, on the same
// backend (wasm + native sgemm, with the fused chains): every figure of the step and every weight
// after several Adam steps within 1e-5 relative, for one and two hidden layers, beta, free bits per
// dimension and per layer; it runs no tfjs kernel of its own, leaks no tensor, repeats bit for bit,
// and stands aside for every model it does not compute.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ModelConfigSchema, type ModelConfig } from '../../../src-main/api/config';
import { createModel } from '../../../src-main/models';
import type { LossOptions } from '../../../src-main/models/types';
import { initBackend } from '../../../src-main/training/backend';
import { createAdam, fusedMlpStepApplies, loadSgemmAddon } from '../../../src-main/training/accelerate';
import { trainStep } from '../../../src-main/training/step';
import { requirement } from '../../helpers/requirements';
import { relativeError } from '../../helpers/numeric';
import { latentSizesOf } from '../../../src-main/api/modelReads';

const addon = loadSgemmAddon().addon;
const available = requirement(
  import.meta.filename,
  addon !== null && typeof addon.fused === 'function',
  'the native sgemm addon is not built (it needs a BLAS: apt-get install libopenblas-dev, then npm rebuild vae-workbench-sgemm)',
).ok;
const saved = process.env.VAE_WORKBENCH_FUSED_STEP;
afterEach(() => {
  if (saved === undefined) delete process.env.VAE_WORKBENCH_FUSED_STEP;
  else process.env.VAE_WORKBENCH_FUSED_STEP = saved;
});

const BATCH = 48;
const pixels = new Float32Array(BATCH * 784).map((_, i) => ((i * 7919) % 11 < 3 ? 1 : 0));
const baseOptions: LossOptions = { klWeight: 1, freeBits: 0, capacity: null, objective: 'elbo', samples: 1, seed: 0 };

interface Trained {
  values: number[][];
  weights: Float32Array[];
  kernels: number;
}

async function train(
  fusedStep: boolean,
  config: ModelConfig,
  options: LossOptions,
  steps: number,
  seed = 4,
): Promise<Trained> {
  process.env.VAE_WORKBENCH_FUSED_STEP = fusedStep ? 'on' : 'off';
  const model = createModel(config, [28, 28, 1], seed);
  const optimizer = createAdam(1e-3);
  const variables = model.trainableVariables();
  expect(fusedMlpStepApplies(model, optimizer, options)).toBe(fusedStep);
  const values: number[][] = [];
  let kernels = 0;
  for (let step = 0; step < steps; step++) {
    const profile = await tf.profile(() => {
      values.push(trainStep(model, optimizer, variables, pixels, BATCH, { ...options, seed: 100 + step }));
    });
    if (step > 0) kernels += profile.kernels.length;
  }
  const weights = variables.map((v) => v.dataSync().slice() as Float32Array);
  model.dispose();
  optimizer.dispose();
  return { values, weights, kernels };
}

describe.skipIf(!available)('the whole-step native path matches the tfjs step', () => {
  beforeAll(async () => {
    await initBackend('wasm', { accelerator: 'native-sgemm' });
  });

  const cases: { name: string; model: Record<string, unknown>; options: Partial<LossOptions> }[] = [
    { name: '784-400-20 VAE', model: { kind: 'vae', hidden: [400], latentDim: 20 }, options: {} },
    {
      name: 'two hidden layers, beta 4',
      model: { kind: 'beta-vae', hidden: [256, 128], latentDim: 8, beta: 4 },
      options: { klWeight: 4 },
    },
    {
      name: 'free bits per dimension (some dimensions under the floor)',
      model: { kind: 'vae', hidden: [128], latentDim: 10 },
      options: { freeBits: 0.05, freeBitsPer: 'dimension' },
    },
    {
      name: 'free bits per layer, KL under the floor',
      model: { kind: 'vae', hidden: [128], latentDim: 10 },
      options: { freeBits: 1000, freeBitsPer: 'layer', klWeight: 0.5 },
    },
  ];
  for (const c of cases) {
    it(`${c.name}: every figure and weight within 1e-5 over 6 steps`, async () => {
      const config = ModelConfigSchema.parse({ likelihood: 'bernoulli', ...c.model });
      const options = { ...baseOptions, ...c.options };
      const fused = await train(true, config, options, 6);
      const plain = await train(false, config, options, 6);
      const d = latentSizesOf(config)[0] + 6;
      for (let step = 0; step < 6; step++) {
        expect(fused.values[step]).toHaveLength(d);
        expect(plain.values[step]).toHaveLength(d);
        // loss, elbo, recon, kl, gradient norm, the layer's KL
        for (let i = 0; i < 6; i++)
          expect(
            Math.abs(fused.values[step][i] - plain.values[step][i]) / Math.abs(plain.values[step][i]),
            `step ${step} figure ${i}`,
          ).toBeLessThan(1e-5);
        expect(
          relativeError(fused.values[step].slice(6), plain.values[step].slice(6)),
          `step ${step} KL per dim`,
        ).toBeLessThan(1e-5);
      }
      fused.weights.forEach((w, i) => expect(relativeError(w, plain.weights[i]), `weight ${i}`).toBeLessThan(1e-5));
      // The tfjs step runs well over a hundred kernels; this path only Adam's two beta-power updates.
      expect(plain.kernels / 5).toBeGreaterThan(100);
      expect(fused.kernels / 5).toBeLessThanOrEqual(4);
    });
  }

  it('repeats bit for bit and leaks no tensor', async () => {
    const config = ModelConfigSchema.parse({ kind: 'vae', hidden: [64], latentDim: 4 });
    const a = await train(true, config, baseOptions, 3);
    const b = await train(true, config, baseOptions, 3);
    expect(b.values).toEqual(a.values);
    b.weights.forEach((w, i) => expect(Array.from(w)).toEqual(Array.from(a.weights[i])));
    process.env.VAE_WORKBENCH_FUSED_STEP = 'on';
    const model = createModel(config, [28, 28, 1], 1);
    const optimizer = createAdam(1e-3);
    const variables = model.trainableVariables();
    trainStep(model, optimizer, variables, pixels, BATCH, baseOptions); // creates Adam's slots
    const before = tf.memory();
    for (let i = 0; i < 3; i++) trainStep(model, optimizer, variables, pixels, BATCH, baseOptions);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numBytes).toBe(before.numBytes);
    model.dispose();
    optimizer.dispose();
  });

  it('stands aside for the models and options it does not compute', () => {
    process.env.VAE_WORKBENCH_FUSED_STEP = 'on';
    const optimizer = createAdam(1e-3);
    const check = (model: Record<string, unknown>, options: Partial<LossOptions> = {}) => {
      const m = createModel(ModelConfigSchema.parse(model), [28, 28, 1], 0);
      const applies = fusedMlpStepApplies(m, optimizer, { ...baseOptions, ...options });
      m.dispose();
      return applies;
    };
    expect(check({ kind: 'vae', hidden: [32], latentDim: 4 })).toBe(true);
    expect(check({ kind: 'vae', hidden: [32], latentDim: 4, activation: 'tanh' })).toBe(false);
    expect(check({ kind: 'vae', hidden: [32], latentDim: 4, likelihood: 'gaussian' })).toBe(false);
    expect(check({ kind: 'vae', architecture: 'conv', hidden: [32], latentDim: 4 })).toBe(false);
    expect(check({ kind: 'vae', hidden: [32], latentDim: 4, posterior: 'iaf' })).toBe(false);
    expect(check({ kind: 'ladder', hidden: [32, 16], ladderLatentDims: [4, 2] })).toBe(false);
    expect(check({ kind: 'vae', hidden: [32], latentDim: 4 }, { objective: 'iwae', samples: 3 })).toBe(false);
    process.env.VAE_WORKBENCH_FUSED_STEP = 'off';
    expect(check({ kind: 'vae', hidden: [32], latentDim: 4 })).toBe(false);
    optimizer.dispose();
  });
});
