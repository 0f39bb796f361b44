// The decoder's likelihood p(x|z): Bernoulli (the decoder outputs logits) or Gaussian (the decoder
// outputs means) with a fixed sigma or a learned per-pixel log-variance, floored at
// sigma = GAUSSIAN_SIGMA_FLOOR (1/256): on dequantized 8-bit pixels the density then stays below
// 256 / sqrt(2 pi) per pixel, so the discrete bound E[log p(y)] - D log 256 is below 0 at every
// evaluation, not only in expectation (without a floor, pixels that are 0 in every image drive
// sigma to 0 and the ELBO to +infinity).
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../api/config';
import { GAUSSIAN_SIGMA_FLOOR } from '../api/constants';
import { bernoulliLogLikelihood, gaussianLogLikelihood } from './distributions';
import { buildPixelLogVariance, run } from './networks';
import { standardNormal, uniform } from './noise';

/** log sigma^2 of the floor. */
export const GAUSSIAN_LOG_VAR_FLOOR = 2 * Math.log(GAUSSIAN_SIGMA_FLOOR);

export interface Likelihood {
  /** log p(x | z) per example, summed over pixels, from the decoder's output. */
  logProb(x: tf.Tensor2D, decoderOutput: tf.Tensor2D): tf.Tensor1D;
  /** The decoder mean: Bernoulli probabilities or Gaussian means. */
  mean(decoderOutput: tf.Tensor2D): tf.Tensor2D;
  /** A draw x ~ p(x|z) from the decoder's output (seeded), clipped to [0, 1] for display. */
  sample(decoderOutput: tf.Tensor2D, seed: number): tf.Tensor2D;
  /** Networks holding the likelihood's own parameters (the learned log-variance), if any. */
  networks(): Record<string, tf.LayersModel>;
  dispose(): void;
}

class BernoulliLikelihood implements Likelihood {
  logProb(x: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor1D {
    return bernoulliLogLikelihood(x, logits) as tf.Tensor1D;
  }
  mean(logits: tf.Tensor2D): tf.Tensor2D {
    return tf.sigmoid(logits);
  }
  sample(logits: tf.Tensor2D, seed: number): tf.Tensor2D {
    // x_i = 1 with probability sigmoid(logit_i): a seeded uniform draw below it.
    return tf.tidy(() => tf.cast(tf.less(uniform(logits.shape, seed), tf.sigmoid(logits)), 'float32') as tf.Tensor2D);
  }
  networks(): Record<string, tf.LayersModel> {
    return {};
  }
  dispose(): void {}
}

class GaussianLikelihood implements Likelihood {
  private readonly one = tf.keep(tf.ones([1, 1]));

  /** logVar: a fixed log sigma^2, or the network whose output [1, D] is the per-pixel log sigma^2. */
  constructor(private readonly logVar: number | tf.Sequential) {}

  /** log sigma^2: the fixed value, or the learned one ([1, D]) floored at GAUSSIAN_LOG_VAR_FLOOR. */
  private pixelLogVar(): tf.Tensor | number {
    return typeof this.logVar === 'number'
      ? this.logVar
      : tf.maximum(run(this.logVar, this.one), GAUSSIAN_LOG_VAR_FLOOR);
  }

  logProb(x: tf.Tensor2D, mean: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => gaussianLogLikelihood(x, mean, this.pixelLogVar()) as tf.Tensor1D);
  }
  mean(output: tf.Tensor2D): tf.Tensor2D {
    return tf.clone(output);
  }
  sample(mean: tf.Tensor2D, seed: number): tf.Tensor2D {
    return tf.tidy(() => {
      const sigma = tf.exp(tf.mul(0.5, this.pixelLogVar())); // x = mean + sigma * eps
      return tf.clipByValue(tf.add(mean, tf.mul(sigma, standardNormal(mean.shape, seed))), 0, 1) as tf.Tensor2D;
    });
  }
  networks(): Record<string, tf.LayersModel> {
    return typeof this.logVar === 'number' ? {} : { pixelLogVariance: this.logVar };
  }
  dispose(): void {
    this.one.dispose();
    if (typeof this.logVar !== 'number') this.logVar.dispose();
  }
}

/** The likelihood named by the config, for D = dim pixels. A learned variance starts at gaussianSigma^2. */
export function createLikelihood(config: ModelConfig, dim: number): Likelihood {
  if (config.likelihood === 'bernoulli') return new BernoulliLikelihood();
  const logVar = Math.log(config.gaussianSigma ** 2);
  return new GaussianLikelihood(config.gaussianVariance === 'learned' ? buildPixelLogVariance(dim, logVar) : logVar);
}
