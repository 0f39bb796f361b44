import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src-main/training/backend';
import {
  bernoulliLogLikelihood,
  gaussianLogLikelihood,
  klGaussians,
  klStandardNormal,
  klStandardNormalPerDim,
  logAddExp,
  logNormalDiag,
  logStandardNormal,
  logSumExp,
  precisionWeightedMerge,
  sampleDiagGaussian,
} from '../../../src-main/models/distributions';
import { standardNormal, standardNormalValues } from '../../../src-main/models/noise';

beforeAll(async () => {
  await initBackend('cpu');
});

/** Mean and standard error of the values. */
function meanAndStandardError(values: Float32Array): { mean: number; se: number } {
  let s = 0;
  for (const v of values) s += v;
  const mean = s / values.length;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return { mean, se: Math.sqrt(ss / (values.length - 1) / values.length) };
}

describe('closed-form KL against Monte Carlo (200k samples)', () => {
  const N = 200_000;
  const mu = [0.8, -1.2, 0.1];
  const logVar = [Math.log(0.5), Math.log(2), Math.log(0.05)];

  it('KL(N(mu, sigma^2) || N(0, I)) = E_q[log q - log p] within 4 standard errors', () => {
    const { closed, mc } = tf.tidy(() => {
      const m = tf.tensor2d([mu]);
      const lv = tf.tensor2d([logVar]);
      const z = sampleDiagGaussian(tf.tile(m, [N, 1]), tf.tile(lv, [N, 1]), 42);
      const logRatio = tf.sub(logNormalDiag(z, m, lv), logStandardNormal(z));
      return {
        closed: klStandardNormal(m, lv).dataSync()[0],
        mc: meanAndStandardError(logRatio.dataSync() as Float32Array),
      };
    });
    const byHand = mu.reduce((s, m, i) => s + 0.5 * (m * m + Math.exp(logVar[i]) - logVar[i] - 1), 0);
    expect(closed).toBeCloseTo(byHand, 5);
    expect(Math.abs(mc.mean - closed)).toBeLessThan(4 * mc.se);
    expect(mc.se).toBeLessThan(0.01);
  });

  it('KL between two diagonal Gaussians = E_q[log q - log p] within 4 standard errors', () => {
    const muP = [0.3, -0.5, 1.0];
    const logVarP = [Math.log(1.5), Math.log(0.7), Math.log(0.2)];
    const { closed, mc, vsStandard } = tf.tidy(() => {
      const [mq, lq, mp, lp] = [mu, logVar, muP, logVarP].map((v) => tf.tensor2d([v]));
      const z = sampleDiagGaussian(tf.tile(mq, [N, 1]), tf.tile(lq, [N, 1]), 43);
      const logRatio = tf.sub(logNormalDiag(z, mq, lq), logNormalDiag(z, mp, lp));
      return {
        closed: klGaussians(mq, lq, mp, lp).dataSync()[0],
        mc: meanAndStandardError(logRatio.dataSync() as Float32Array),
        // against N(0, I) it reduces to the standard-normal form
        vsStandard: [
          klGaussians(mq, lq, tf.zeros([1, 3]), tf.zeros([1, 3])).dataSync()[0],
          klStandardNormal(mq, lq).dataSync()[0],
        ],
      };
    });
    expect(Math.abs(mc.mean - closed)).toBeLessThan(4 * mc.se);
    expect(vsStandard[0]).toBeCloseTo(vsStandard[1], 5);
  });

  it('per-dim KL is zero exactly at the prior and sums to the total', () => {
    const [perDim, total] = tf.tidy(() => {
      const m = tf.tensor2d([[0, 1, -2]]);
      const lv = tf.tensor2d([[0, 0.5, -1]]);
      return [klStandardNormalPerDim(m, lv).arraySync() as number[][], klStandardNormal(m, lv).dataSync()[0]];
    });
    expect(perDim[0][0]).toBe(0);
    expect(perDim[0].reduce((a, b) => a + b, 0)).toBeCloseTo(total, 5);
  });
});

describe('likelihoods and helpers', () => {
  it('Bernoulli log-likelihood from logits is x l - softplus(l), finite for huge logits', () => {
    const values = tf.tidy(() =>
      bernoulliLogLikelihood(
        tf.tensor2d([
          [1, 0, 0.5],
          [1, 0, 1],
        ]),
        tf.tensor2d([
          [0.3, -1.2, 2],
          [200, -200, -200],
        ]),
      ).arraySync(),
    ) as number[];
    const logSigmoid = (l: number) => -Math.log1p(Math.exp(-l));
    const first =
      logSigmoid(0.3) + Math.log(1 - 1 / (1 + Math.exp(1.2))) + (0.5 * logSigmoid(2) + 0.5 * logSigmoid(-2));
    expect(values[0]).toBeCloseTo(first, 5);
    expect(values[1]).toBeCloseTo(-200, 3); // log sigmoid(200) + log(1 - sigmoid(-200)) + log sigmoid(-200)
  });

  it('Gaussian log-likelihood with fixed sigma and with a per-pixel log-variance', () => {
    const x = [[0.2, 0.9]];
    const m = [[0.1, 0.5]];
    const [fixed, perPixel] = tf.tidy(() => [
      gaussianLogLikelihood(tf.tensor2d(x), tf.tensor2d(m), Math.log(0.01)).dataSync()[0],
      gaussianLogLikelihood(tf.tensor2d(x), tf.tensor2d(m), tf.tensor2d([[Math.log(0.01), Math.log(4)]])).dataSync()[0],
    ]);
    const logN = (v: number, mean: number, variance: number) =>
      -0.5 * (Math.log(2 * Math.PI * variance) + (v - mean) ** 2 / variance);
    expect(fixed).toBeCloseTo(logN(0.2, 0.1, 0.01) + logN(0.9, 0.5, 0.01), 4);
    expect(perPixel).toBeCloseTo(logN(0.2, 0.1, 0.01) + logN(0.9, 0.5, 4), 4);
  });

  it('log-sum-exp and log-add-exp are stable for large magnitudes', () => {
    const [lse, lae] = tf.tidy(() => [
      logSumExp(
        tf.tensor2d([
          [1000, -1000],
          [1000, -1000],
        ]),
        0,
      ).arraySync() as number[],
      logAddExp(tf.tensor1d([-1000, 5]), tf.tensor1d([-1000, 5])).arraySync() as number[],
    ]);
    expect(lse[0]).toBeCloseTo(1000 + Math.log(2), 3);
    expect(lse[1]).toBeCloseTo(-1000 + Math.log(2), 3);
    expect(lae[0]).toBeCloseTo(-1000 + Math.log(2), 3);
    expect(lae[1]).toBeCloseTo(5 + Math.log(2), 5);
  });

  it('precision-weighted merge: sigma_q^2 = 1/(sigma_hat^-2 + sigma_p^-2), mu_q = (mu_hat sigma_hat^-2 + mu_p sigma_p^-2) sigma_q^2', () => {
    const [muHat, varHat, muP, varP] = [1.5, 0.5, -1, 2];
    const { mu, logVar } = tf.tidy(() => {
      const r = precisionWeightedMerge(
        tf.tensor1d([muHat]),
        tf.tensor1d([Math.log(varHat)]),
        tf.tensor1d([muP]),
        tf.tensor1d([Math.log(varP)]),
      );
      return { mu: r.mu.dataSync()[0], logVar: r.logVar.dataSync()[0] };
    });
    const varQ = 1 / (1 / varHat + 1 / varP);
    expect(Math.exp(logVar)).toBeCloseTo(varQ, 5);
    expect(mu).toBeCloseTo((muHat / varHat + muP / varP) * varQ, 5);
  });

  it('seeded noise is reproducible, chunk-independent and standard normal', () => {
    const all = standardNormalValues(10_000, 7);
    const tail = standardNormalValues(4_000, 7, 6_000);
    expect(Array.from(tail)).toEqual(Array.from(all.subarray(6_000)));
    expect(Array.from(standardNormalValues(5, 8))).not.toEqual(Array.from(all.subarray(0, 5)));
    const { mean, se } = meanAndStandardError(all);
    expect(Math.abs(mean)).toBeLessThan(4 * se);
    const variance = all.reduce((s, v) => s + v * v, 0) / all.length;
    expect(variance).toBeGreaterThan(0.96);
    expect(variance).toBeLessThan(1.04);
    const t = standardNormal([2, 3], 7);
    expect(Array.from(t.dataSync())).toEqual(Array.from(all.subarray(0, 6)));
    t.dispose();
  });
});
