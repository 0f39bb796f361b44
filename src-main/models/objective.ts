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

/**
 * The KL part of the ELBO objective, given the batch-mean KL of each layer, their sum, and the
 * batch-mean KL of each latent dimension of each layer ([d_layer] per layer).
 */
export type KlPenalty = (
  klPerLayer: tf.Scalar[],
  kl: tf.Scalar,
  options: LossOptions,
  klPerDim: tf.Tensor1D[],
) => tf.Scalar;

/**
 * The weighted KL with free bits (Kingma et al. 2016): klWeight * sum_j max(freeBits, KL_j) with KL_j
 * the batch-mean KL of latent dimension j (openai/iaf kl_min: reduce_mean over the batch, maximum,
 * sum over dimensions), or with freeBitsPer 'layer' klWeight * sum_l max(freeBits, KL_l) over
 * stochastic layers. Below the floor a group's KL gets no gradient.
 */
export const weightedKlPenalty: KlPenalty = (klPerLayer, kl, options, klPerDim) =>
  tf.tidy(() => {
    let penalised: tf.Scalar = kl;
    if (options.freeBits > 0) {
      penalised =
        (options.freeBitsPer ?? 'dimension') === 'layer'
          ? (tf.addN(klPerLayer.map((k) => tf.maximum(k, options.freeBits))) as tf.Scalar)
          : (tf.addN(klPerDim.map((k) => tf.sum(tf.maximum(k, options.freeBits)))) as tf.Scalar);
    }
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
      loss = tf.add(recon, penalty(klPerLayer, kl, options, klDimMeans as tf.Tensor1D[])) as tf.Scalar;
    }
    return { loss, elbo, recon, kl, klPerLayer, klPerDim: tf.concat(klDimMeans) as tf.Tensor1D };
  });
}
