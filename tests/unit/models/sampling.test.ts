// Drawing x from p(x|z) (the seed text's second way to sample) and the floor on a learned Gaussian
// variance (#12).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ModelConfigSchema } from '../../../src-main/api/config';
import { GAUSSIAN_SIGMA_FLOOR } from '../../../src-main/api/constants';
import { initBackend } from '../../../src-main/training/backend';
import { createModel } from '../../../src-main/models';
import { GAUSSIAN_LOG_VAR_FLOOR, createLikelihood } from '../../../src-main/models/likelihood';

const SHAPE: [number, number, number] = [4, 4, 1];
const D = 16;

beforeAll(async () => {
  await initBackend('cpu');
});
afterAll(() => tf.disposeVariables());

describe('samples from p(x|z)', () => {
  it('Bernoulli draws are 0/1 with frequency the decoder mean; the same seed gives the same draws', () => {
    const model = createModel(ModelConfigSchema.parse({ hidden: [8], latentDim: 2 }), SHAPE, 3);
    const n = 4000;
    const z = tf.zeros([n, 2]) as tf.Tensor2D; // one z, many draws: the frequencies estimate sigmoid(logits)
    const draws = model.drawSamples(z, 11).dataSync();
    const again = model.drawSamples(z, 11).dataSync();
    const other = model.drawSamples(z, 12).dataSync();
    const mean = model.decode(tf.zeros([1, 2]) as tf.Tensor2D).dataSync();
    expect(draws.every((v) => v === 0 || v === 1)).toBe(true);
    expect(Array.from(again)).toEqual(Array.from(draws));
    expect(Array.from(other)).not.toEqual(Array.from(draws));
    for (let p = 0; p < D; p++) {
      let ones = 0;
      for (let i = 0; i < n; i++) ones += draws[i * D + p];
      // 4 standard errors of a frequency from 4,000 draws
      expect(Math.abs(ones / n - mean[p])).toBeLessThan(4 * Math.sqrt((mean[p] * (1 - mean[p])) / n) + 1e-3);
    }
    z.dispose();
  });

  it('Gaussian draws are mean + sigma * eps (clipped to [0, 1]): their mean and spread match', () => {
    const config = ModelConfigSchema.parse({ hidden: [8], latentDim: 2, likelihood: 'gaussian', gaussianSigma: 0.05 });
    const model = createModel(config, SHAPE, 3);
    const n = 4000;
    const z = tf.zeros([n, 2]) as tf.Tensor2D;
    const draws = model.drawSamples(z, 5).dataSync();
    const mean = model.decode(tf.zeros([1, 2]) as tf.Tensor2D).dataSync();
    for (let p = 0; p < D; p++) {
      if (mean[p] < 0.2 || mean[p] > 0.8) continue; // away from the clip
      let s = 0;
      let s2 = 0;
      for (let i = 0; i < n; i++) {
        s += draws[i * D + p];
        s2 += draws[i * D + p] ** 2;
      }
      const m = s / n;
      expect(Math.abs(m - mean[p])).toBeLessThan(0.005);
      expect(Math.sqrt(s2 / n - m * m)).toBeCloseTo(0.05, 2);
    }
    z.dispose();
  });
});

describe('learned Gaussian variance', () => {
  it('is floored at sigma = 1/256: below it, log p(x|z) is that of sigma = 1/256', () => {
    expect(GAUSSIAN_LOG_VAR_FLOOR).toBeCloseTo(2 * Math.log(GAUSSIAN_SIGMA_FLOOR), 12);
    const config = ModelConfigSchema.parse({
      hidden: [8],
      latentDim: 2,
      likelihood: 'gaussian',
      gaussianVariance: 'learned',
      gaussianSigma: 0.1,
    });
    const likelihood = createLikelihood(config, D);
    const logVar = likelihood.networks().pixelLogVariance;
    const x = tf.fill([3, D], 0.25) as tf.Tensor2D;
    const atPeak = (kernel: number) => {
      logVar.setWeights([tf.fill([1, D], kernel)]);
      return likelihood.logProb(x, x).dataSync(); // x at the mean: the density's peak
    };
    // Far below the floor, as pixels that are 0 in every image drive it: the peak of sigma = 1/256,
    // D (log 256 - 0.5 log 2 pi), and never more.
    const floorPeak = D * (Math.log(256) - 0.5 * Math.log(2 * Math.PI));
    for (const v of atPeak(-40)) expect(v).toBeCloseTo(floorPeak, 3);
    // Above the floor the learned value is used as it is: log sigma^2 = -2 gives D (1 - 0.5 log 2 pi).
    for (const v of atPeak(-2)) expect(v).toBeCloseTo(D * (1 - 0.5 * Math.log(2 * Math.PI)), 3);
    x.dispose();
    likelihood.dispose();
  });
});
