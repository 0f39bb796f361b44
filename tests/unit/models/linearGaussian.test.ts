// The linear-Gaussian model p(z) = N(0, I), p(x|z) = N(Wz + b, sigma^2 I) has an exact marginal,
// log p(x) = log N(x; b, W W^T + sigma^2 I), and an exact Gaussian posterior. It is built here as a
// Vae (the workbench's own class, distribution helpers and IWAE routine) with linear networks, and
// the bounds are checked against the exact value computed in float64.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ModelConfigSchema } from '../../../src-main/api/config';
import { initBackend } from '../../../src-main/training/backend';
import { gaussianLogLikelihood, logNormalDiag, sampleDiagGaussian } from '../../../src-main/models/distributions';
import { createLikelihood } from '../../../src-main/models/likelihood';
import type { LossOptions } from '../../../src-main/models/types';
import { Vae } from '../../../src-main/models/vae';
import { standardNormalValues } from '../../../src-main/models/noise';
import { A, B, D, exactLogMarginal, L, S, SIGMA, W, sampleData } from './linearGaussianFixture';

const N_EXAMPLES = 40;

/** A linear encoder x -> [mu | logVar]: mu = M x + c, logVar = v (constant). */
function linearEncoder(M: number[][], c: number[], logVar: number[]): tf.Sequential {
  const kernel = Array.from({ length: D }, (_, i) => [...M.map((row) => row[i]), ...new Array<number>(L).fill(0)]);
  const net = tf.sequential({
    name: 'encoder',
    layers: [tf.layers.dense({ name: 'encoder_out', units: 2 * L, inputShape: [D] })],
  });
  net.layers[0].setWeights([tf.tensor2d(kernel), tf.tensor1d([...c, ...logVar])]);
  return net;
}

/** The exact posterior, optionally with its variance scaled and its mean shifted by a fraction of a std. */
function posteriorEncoder(varianceScale = 1, meanShift = 0): tf.Sequential {
  const c = A.map((row, j) => -row.reduce((s, a, i) => s + a * B[i], 0) + meanShift * Math.sqrt(S[j]));
  return linearEncoder(
    A,
    c,
    S.map((s) => Math.log(s * varianceScale)),
  );
}

function randomEncoder(seed: number): tf.Sequential {
  const g = standardNormalValues(L * D + 2 * L, seed);
  const M = Array.from({ length: L }, (_, j) => Array.from({ length: D }, (_, i) => 0.5 * g[j * D + i]));
  const c = Array.from({ length: L }, (_, j) => 0.5 * g[L * D + j]);
  const logVar = Array.from({ length: L }, (_, j) => -1.5 + g[L * D + L + j]);
  return linearEncoder(M, c, logVar);
}

const config = ModelConfigSchema.parse({
  likelihood: 'gaussian',
  gaussianVariance: 'fixed',
  gaussianSigma: SIGMA,
  latentDim: L,
});

function linearGaussianVae(encoder: tf.Sequential): Vae {
  const decoder = tf.sequential({
    name: 'decoder',
    layers: [tf.layers.dense({ name: 'decoder_out', units: D, inputShape: [L] })],
  });
  decoder.layers[0].setWeights([
    tf.tensor2d(Array.from({ length: L }, (_, j) => W.map((row) => row[j]))),
    tf.tensor1d(B),
  ]);
  return new Vae(config, [1, D, 1], encoder, decoder, createLikelihood(config, D));
}

const mean = (values: ArrayLike<number>) => Array.from(values).reduce((a, b) => a + b, 0) / values.length;

describe('linear-Gaussian model: bounds against the exact log p(x)', () => {
  const data = sampleData(N_EXAMPLES, 100);
  const exact = data.map(exactLogMarginal);
  let x: tf.Tensor2D;

  beforeAll(async () => {
    await initBackend('cpu');
    x = tf.tensor2d(data);
  });
  afterAll(() => x.dispose());

  const mcElbo = (model: Vae, row: number, samples: number, seed: number): number => {
    // objective 'iwae' with n samples reports the n-sample Monte Carlo ELBO (recon averaged, KL analytic)
    const options: LossOptions = { klWeight: 1, freeBits: 0, capacity: null, objective: 'iwae', samples, seed };
    return tf.tidy(() => model.lossTerms(x.slice([row, 0], [1, D]), options).elbo.dataSync()[0]);
  };

  it('ELBO <= log p(x) for random encoders, and = log p(x) at the exact posterior', () => {
    for (let e = 0; e < 5; e++) {
      const model = linearGaussianVae(randomEncoder(200 + e));
      for (let row = 0; row < 8; row++) expect(mcElbo(model, row, 2000, 7 + row)).toBeLessThan(exact[row]);
      model.dispose();
    }
    // At the exact posterior, log w = log p(x, z) - log q(z|x) = log p(x) for every z: each
    // single-sample ELBO estimate (IWAE_1) is exact.
    const fitted = linearGaussianVae(posteriorEncoder());
    const single = tf.tidy(() => fitted.iwaeBound(x, 1, { chunk: 1, seed: 3 }).dataSync());
    fitted.dispose();
    exact.forEach((logP, row) => expect(Math.abs(single[row] - logP)).toBeLessThan(1e-3));
  });

  it('IWAE_k rises with k (k = 1, 10, 100, 1000, averaged over examples) towards log p(x)', () => {
    const model = linearGaussianVae(posteriorEncoder(0.4, 0.8));
    const bounds = [1, 10, 100, 1000].map((k) =>
      tf.tidy(() => mean(model.iwaeBound(x, k, { chunk: 250, seed: 5 }).dataSync())),
    );
    model.dispose();
    const logP = mean(exact);
    for (let i = 1; i < bounds.length; i++) expect(bounds[i]).toBeGreaterThan(bounds[i - 1] + 0.01);
    expect(bounds[0]).toBeLessThan(logP - 0.3); // the encoder is visibly off ...
    expect(bounds[3]).toBeLessThan(logP + 0.02); // ... and the bound stays below log p(x)
  });

  it('IWAE_5000 is within 0.05 nats of log p(x) for well-fitted encoders', () => {
    const rows = 12;
    const sub = x.slice([0, 0], [rows, D]);
    for (const [varianceScale, shift] of [
      [1, 0],
      [1.5, 0.2],
    ]) {
      const model = linearGaussianVae(posteriorEncoder(varianceScale, shift));
      const bound = tf.tidy(() => model.iwaeBound(sub, 5000, { chunk: 500, seed: 9 }).dataSync());
      const elbo = mcElbo(model, 0, 2000, 1);
      model.dispose();
      for (let row = 0; row < rows; row++) expect(Math.abs(bound[row] - exact[row])).toBeLessThan(0.05);
      if (varianceScale !== 1) expect(exact[0] - elbo).toBeGreaterThan(0.05); // the ELBO alone is not that tight
    }
    sub.dispose();
  });

  it('the reparameterization gradient has lower variance than the score-function estimator', () => {
    // d/dmu E_{z ~ N(mu, sigma_q^2)}[log p(x|z)] for one example, R single-sample estimates of each kind.
    const R = 4000;
    const model = linearGaussianVae(posteriorEncoder());
    const decoder = model.networks().decoder;
    const mu0 = [0.3, -0.2, 0.5];
    const logVarQ = S.map(Math.log);
    const [reparam, score] = tf.tidy(() => {
      const xr = tf.tile(x.slice([0, 0], [1, D]), [R, 1]);
      const mu = tf.tile(tf.tensor2d([mu0]), [R, 1]);
      const logVar = tf.tile(tf.tensor2d([logVarQ]), [R, 1]);
      const logLik = (z: tf.Tensor) =>
        gaussianLogLikelihood(xr, decoder.apply(z) as tf.Tensor, Math.log(SIGMA * SIGMA));
      // reparameterization: grad_mu f(mu + sigma eps), one row per repetition
      const gReparam = tf.grad((m: tf.Tensor) => tf.sum(logLik(sampleDiagGaussian(m, logVar, 21))))(mu);
      // score function: f(z) grad_mu log q(z; mu, sigma^2), same draws
      const z = sampleDiagGaussian(mu, logVar, 21);
      const scoreOfQ = tf.grad((m: tf.Tensor) => tf.sum(logNormalDiag(z, m, logVar)))(mu);
      const gScore = tf.mul(scoreOfQ, tf.expandDims(logLik(z), 1));
      return [gReparam.arraySync() as number[][], gScore.arraySync() as number[][]];
    });
    model.dispose();
    // exact gradient: W^T (x - W mu - b) / sigma^2
    const residual = data[0].map((xi, i) => xi - B[i] - W[i].reduce((s, w, j) => s + w * mu0[j], 0));
    const exactGrad = Array.from({ length: L }, (_, j) =>
      residual.reduce((s, r, i) => s + (W[i][j] * r) / (SIGMA * SIGMA), 0),
    );
    for (let j = 0; j < L; j++) {
      const stats = (g: number[][]) => {
        const m = mean(g.map((row) => row[j]));
        return { m, v: g.reduce((s, row) => s + (row[j] - m) ** 2, 0) / (R - 1) };
      };
      const re = stats(reparam);
      const sf = stats(score);
      expect(re.v).toBeLessThan(sf.v / 10);
      // both are unbiased: within 4 standard errors of the exact gradient
      expect(Math.abs(re.m - exactGrad[j])).toBeLessThan(4 * Math.sqrt(re.v / R) + 1e-3);
      expect(Math.abs(sf.m - exactGrad[j])).toBeLessThan(4 * Math.sqrt(sf.v / R));
    }
  });
});
