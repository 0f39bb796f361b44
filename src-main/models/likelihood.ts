// The decoder's likelihood p(x|z): Bernoulli (the decoder outputs logits) or Gaussian (the decoder
// outputs means) with a fixed sigma or a learned per-pixel log-variance.
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../api/config';
import { bernoulliLogLikelihood, gaussianLogLikelihood } from './distributions';
import { buildPixelLogVariance, run } from './networks';

export interface Likelihood {
  /** log p(x | z) per example, summed over pixels, from the decoder's output. */
  logProb(x: tf.Tensor2D, decoderOutput: tf.Tensor2D): tf.Tensor1D;
  /** The decoder mean: Bernoulli probabilities or Gaussian means. */
  mean(decoderOutput: tf.Tensor2D): tf.Tensor2D;
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
  networks(): Record<string, tf.LayersModel> {
    return {};
  }
  dispose(): void {}
}

class GaussianLikelihood implements Likelihood {
  private readonly one = tf.keep(tf.ones([1, 1]));

  /** logVar: a fixed log sigma^2, or the network whose output [1, D] is the per-pixel log sigma^2. */
  constructor(private readonly logVar: number | tf.Sequential) {}

  logProb(x: tf.Tensor2D, mean: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const logVar = typeof this.logVar === 'number' ? this.logVar : run(this.logVar, this.one);
      return gaussianLogLikelihood(x, mean, logVar) as tf.Tensor1D;
    });
  }
  mean(output: tf.Tensor2D): tf.Tensor2D {
    return tf.clone(output);
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
