// Turns a model's sampled terms into LossTerms (sign convention in types.ts): the ELBO's recon and
// KL, and the scalar the optimizer minimizes: recon + KL penalty (ELBO objective) or -IWAE_k.
import * as tf from '@tensorflow/tfjs';
import { iwaeFromLogWeights } from './iwae';
import type { LossOptions, LossTerms } from './types';

/** What one pass of a model over a batch with n posterior samples per example gives. */
export interface SampledTerms {
  /** Posterior samples per example; rows of the per-sample tensors are sample-major (j * batch + b). */
  samples: number;
  /** log p(x | z) per sample: [samples * batch]. */
  logLikelihood: tf.Tensor1D;
  /** log p(z) - log q(z | x) per sample, over all stochastic layers: [samples * batch]. */
  logPriorRatio: tf.Tensor1D;
  /** Analytic KL per latent dimension, one [rows, d_layer] tensor per layer, bottom first (rows: examples or samples). */
  klPerDim: tf.Tensor2D[];
}

/** The KL part of the ELBO objective, given the batch-mean KL of each layer and their sum. */
export type KlPenalty = (klPerLayer: tf.Scalar[], kl: tf.Scalar, options: LossOptions) => tf.Scalar;

/**
 * klWeight * sum_l max(freeBits, KL_l), with KL_l the batch-mean KL of layer l: the weighted KL with
 * free bits (Kingma et al. 2016, openai/iaf kl_min; below the floor a layer's KL gets no gradient).
 */
export const weightedKlPenalty: KlPenalty = (klPerLayer, kl, options) =>
  tf.tidy(() => {
    const penalised = options.freeBits > 0 ? tf.addN(klPerLayer.map((k) => tf.maximum(k, options.freeBits))) : kl;
    return tf.mul(penalised, options.klWeight) as tf.Scalar;
  });

/**
 * LossTerms from the sampled terms. ELBO objective: loss = recon + penalty. IWAE objective:
 * loss = -mean_b IWAE_k(x_b) over the n samples, with log w = log p(x|z) + klWeight (log p(z) - log q(z|x))
 * (klWeight = 1 is the exact IWAE bound; free bits and capacity do not apply to it).
 */
export function assembleLossTerms(terms: SampledTerms, options: LossOptions, penalty: KlPenalty): LossTerms {
  return tf.tidy(() => {
    const recon = tf.neg(tf.mean(terms.logLikelihood)) as tf.Scalar; // recon = -E_q[log p(x|z)]
    const klDimMeans = terms.klPerDim.map((k) => tf.mean(k, 0));
    const klPerLayer = klDimMeans.map((k) => tf.sum(k) as tf.Scalar);
    const kl = tf.addN(klPerLayer) as tf.Scalar; // total KL = sum of the layers' KL
    const elbo = tf.neg(tf.add(recon, kl)) as tf.Scalar; // elbo = E_q[log p(x|z)] - KL (reference 001)
    let loss: tf.Scalar;
    if (options.objective === 'iwae') {
      const logWeights = tf.add(terms.logLikelihood, tf.mul(terms.logPriorRatio, options.klWeight));
      loss = tf.neg(tf.mean(iwaeFromLogWeights(tf.reshape(logWeights, [terms.samples, -1])))) as tf.Scalar;
    } else {
      loss = tf.add(recon, penalty(klPerLayer, kl, options)) as tf.Scalar;
    }
    return { loss, elbo, recon, kl, klPerLayer, klPerDim: tf.concat(klDimMeans) as tf.Tensor1D };
  });
}
