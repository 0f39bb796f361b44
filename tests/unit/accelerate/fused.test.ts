// The fused element-wise chains (accelerate/fused.ts) against the unfused tfjs ops they replace, on
// the same backend (wasm + native sgemm): values and gradients within 1e-5 relative (max|x - y| /
// max|y|), over ordinary and extreme inputs; the ReLU gradient exactly; the switch
// VAE_WORKBENCH_FUSED=off; and a whole training step of the product's VAE with and without them
// (same losses within 1e-5, fewer kernel calls, the fused gradient norm equal to tfjs's).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ModelConfigSchema } from '../../../src-main/api/config';
import { createModel } from '../../../src-main/models';
import {
  bernoulliLogLikelihood,
  klStandardNormalPerDim,
  logNormalDiag,
  logStandardNormal,
  reparameterize,
} from '../../../src-main/models/distributions';
import { fusedOps } from '../../../src-main/models/fusedOps';
import { initBackend } from '../../../src-main/training/backend';
import { createAdam, FUSED_KERNELS, loadSgemmAddon } from '../../../src-main/training/accelerate';
import { trainStep } from '../../../src-main/training/step';
import { relativeError as arrayRelativeError } from '../../helpers/numeric';
import { requirement } from '../../helpers/requirements';

const addon = loadSgemmAddon().addon;
const available = requirement(
  import.meta.filename,
  addon !== null && typeof addon.fused === 'function',
  'the native sgemm addon is not built (it needs a BLAS: apt-get install libopenblas-dev, then npm rebuild vae-workbench-sgemm)',
).ok;
const saved = process.env.VAE_WORKBENCH_FUSED;
const savedStep = process.env.VAE_WORKBENCH_FUSED_STEP;

afterEach(() => {
  if (saved === undefined) delete process.env.VAE_WORKBENCH_FUSED;
  else process.env.VAE_WORKBENCH_FUSED = saved;
  if (savedStep === undefined) delete process.env.VAE_WORKBENCH_FUSED_STEP;
  else process.env.VAE_WORKBENCH_FUSED_STEP = savedStep;
});

/** tests/helpers/numeric.ts's relativeError, on tensors of the same shape. */
function relativeError(actual: tf.Tensor, expected: tf.Tensor): number {
  expect(actual.shape).toEqual(expected.shape);
  return arrayRelativeError(actual.dataSync(), expected.dataSync());
}

let seed = 11;
const uniform = (shape: number[], lo: number, hi: number) => tf.randomUniform(shape, lo, hi, 'float32', seed++);

/** f's value and its gradients with respect to every input, fused (default) or unfused (env off). */
function valueAndGrads(
  fused: boolean,
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: tf.Tensor[],
  upstream: tf.Tensor,
): tf.Tensor[] {
  if (fused) delete process.env.VAE_WORKBENCH_FUSED;
  else process.env.VAE_WORKBENCH_FUSED = 'off';
  const value = f(...inputs);
  // A non-uniform upstream gradient, so every element of dy matters.
  const grads = tf.grads((...xs: tf.Tensor[]) => tf.sum(tf.mul(f(...xs), upstream)))(inputs);
  return [value, ...grads];
}

function expectAgree(name: string, f: (...xs: tf.Tensor[]) => tf.Tensor, inputs: tf.Tensor[], outShape: number[]) {
  const upstream = uniform(outShape, 0.5, 1.5);
  const fusedResults = valueAndGrads(true, f, inputs, upstream);
  const plainResults = valueAndGrads(false, f, inputs, upstream);
  fusedResults.forEach((r, i) => {
    expect(relativeError(r, plainResults[i]), `${name} ${i === 0 ? 'value' : `gradient ${i}`}`).toBeLessThan(1e-5);
  });
  tf.dispose([...fusedResults, ...plainResults, upstream]);
}

describe.skipIf(!available)('fused element-wise chains match the unfused tfjs ops', () => {
  beforeAll(async () => {
    await initBackend('wasm', { accelerator: 'native-sgemm' });
  });

  it('the fused ops run here, and are off with VAE_WORKBENCH_FUSED=off', () => {
    const x = uniform([4, 300], 0, 1);
    const l = uniform([4, 300], -5, 5);
    const before = tf.memory().numTensors;
    const fused = fusedOps()!.bernoulliLogLikelihood(x, l);
    expect(fused).not.toBeNull();
    expect(fused!.shape).toEqual([4]);
    fused!.dispose();
    expect(tf.memory().numTensors).toBe(before);
    process.env.VAE_WORKBENCH_FUSED = 'off';
    expect(fusedOps()!.bernoulliLogLikelihood(x, l)).toBeNull();
    expect(fusedOps()!.klStandardNormalPerDim(x, l)).toBeNull();
    tf.dispose([x, l]);
  });

  it('Bernoulli log-likelihood and its gradients (ordinary and extreme logits) within 1e-5', () => {
    for (const [lo, hi] of [
      [-6, 6],
      [-120, 120],
    ]) {
      const x = tf.tidy(() => tf.cast(tf.greater(uniform([128, 784], 0, 1), 0.87), 'float32'));
      const logits = uniform([128, 784], lo, hi);
      expectAgree(`bernoulli [${lo}, ${hi}]`, bernoulliLogLikelihood, [x, logits], [128]);
      // Grey-level targets and a rank-3 batch.
      const grey = uniform([3, 5, 70], 0, 1);
      const l3 = uniform([3, 5, 70], lo, hi);
      expectAgree(`bernoulli rank 3 [${lo}, ${hi}]`, bernoulliLogLikelihood, [grey, l3], [3, 5]);
      tf.dispose([x, logits, grey, l3]);
    }
  });

  it('closed-form KL to N(0, I) and its gradients within 1e-5', () => {
    const mu = uniform([128, 32], -3, 3);
    const logVar = uniform([128, 32], -8, 4);
    expectAgree('kl', klStandardNormalPerDim, [mu, logVar], [128, 32]);
    tf.dispose([mu, logVar]);
  });

  it('reparameterization and its gradients (mu, logVar, eps) within 1e-5', () => {
    const mu = uniform([128, 32], -3, 3);
    const logVar = uniform([128, 32], -8, 4);
    const eps = tf.randomNormal([128, 32], 0, 1, 'float32', seed++);
    expectAgree('reparam', reparameterize, [mu, logVar, eps], [128, 32]);
    tf.dispose([mu, logVar, eps]);
  });

  it('log N(z; 0, I) and log N(z; mu, e^lv) and their gradients within 1e-5', () => {
    const z = tf.randomNormal([128, 32], 0, 2, 'float32', seed++);
    const mu = uniform([128, 32], -3, 3);
    const logVar = uniform([128, 32], -6, 3);
    expectAgree('log standard normal', logStandardNormal, [z], [128]);
    expectAgree('log normal diag', logNormalDiag, [z, mu, logVar], [128]);
    // A fixed log-variance (the Gaussian likelihood's) is not fused: the tfjs ops run.
    expect(fusedOps()!.logNormalDiag(z, mu, 0.5)).toBeNull();
    tf.dispose([z, mu, logVar]);
  });

  it('the ReLU gradient is bit-identical to dy * step(x)', () => {
    const x = tf.tidy(() => tf.concat([uniform([128, 512], -1, 1).reshape([-1]), tf.tensor1d([0, -0, NaN, 3])]));
    const upstream = uniform(x.shape, -2, 2);
    const f = (t: tf.Tensor) => tf.relu(t);
    const [fused] = valueAndGrads(true, f, [x], upstream).slice(1);
    const [plain] = valueAndGrads(false, f, [x], upstream).slice(1);
    expect(Array.from(fused.dataSync())).toEqual(Array.from(plain.dataSync()));
    tf.dispose([x, upstream, fused, plain]);
  });

  it('a training step of the 784-512-32 VAE: same losses and gradient norm, fewer kernel calls', async () => {
    const config = ModelConfigSchema.parse({ kind: 'vae', hidden: [512], latentDim: 32, likelihood: 'bernoulli' });
    const pixels = new Float32Array(64 * 784).map((_, i) => ((i * 7919) % 13 < 2 ? 1 : 0));
    const options = { klWeight: 1, freeBits: 0, capacity: null, objective: 'elbo' as const, samples: 1, seed: 5 };
    const fusedNames = new Set<string>(Object.values(FUSED_KERNELS));
    // The tfjs step with and without the chains (the whole-step path, mlpStep.ts, has its own test).
    process.env.VAE_WORKBENCH_FUSED_STEP = 'off';
    const train = async (fused: boolean) => {
      process.env.VAE_WORKBENCH_FUSED = fused ? 'on' : 'off';
      const model = createModel(config, [28, 28, 1], 3);
      const optimizer = createAdam(1e-3);
      const variables = model.trainableVariables();
      const values: number[][] = [];
      let kernels = 0;
      let fusedCalls = 0;
      for (let step = 0; step < 3; step++) {
        const profile = await tf.profile(() => {
          values.push(trainStep(model, optimizer, variables, pixels, 64, { ...options, seed: step }));
        });
        kernels += profile.kernels.length;
        fusedCalls += profile.kernels.filter((k) => fusedNames.has(k.name)).length;
      }
      model.dispose();
      optimizer.dispose();
      return { values, kernels, fusedCalls };
    };
    const fused = await train(true);
    const plain = await train(false);
    // Forward: Bernoulli, KL, reparameterization and the two log densities of log p(z) - log q(z|x)
    // (no gradient in the ELBO objective); backward: three gradients and two ReLUs.
    expect(fused.fusedCalls).toBe(3 * 10);
    expect(plain.fusedCalls).toBe(0);
    expect(fused.kernels).toBeLessThan(plain.kernels * 0.8);
    for (let step = 0; step < 3; step++) {
      // loss, elbo, recon, kl, gradient norm
      for (let i = 0; i < 5; i++) {
        const [a, b] = [fused.values[step][i], plain.values[step][i]];
        expect(Math.abs(a - b) / Math.abs(b), `step ${step} value ${i}`).toBeLessThan(1e-5);
      }
    }
  });
});
