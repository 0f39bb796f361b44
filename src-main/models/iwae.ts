// The importance-weighted bound (Burda et al. 2015) from log-weights log w_i = log p(x, z_i) - log q(z_i | x).
import * as tf from '@tensorflow/tfjs';
import { logAddExp, logSumExp } from './distributions';

/**
 * Log-weights for `samples` samples starting at sample index `sampleOffset`: [samples, batch].
 * Sample j's noise must depend only on (seed, j), so chunking does not change the draws.
 */
export type LogWeightsFn = (samples: number, sampleOffset: number) => tf.Tensor2D;

/** IWAE_k per example from all k log-weights at once ([k, batch] -> [batch]). */
export function iwaeFromLogWeights(logWeights: tf.Tensor2D): tf.Tensor1D {
  const k = logWeights.shape[0];
  // IWAE_k = log (1/k) sum_i w_i = logsumexp_i(log w_i) - log k (Burda et al. 2015, eq. 8)
  return tf.tidy(() => tf.sub(logSumExp(logWeights, 0), Math.log(k)) as tf.Tensor1D);
}

/**
 * IWAE_k per example, drawing the k samples `chunk` at a time and folding each chunk into a running
 * log-sum-exp, so memory is bounded by one chunk whatever k is.
 */
export function chunkedIwae(logWeights: LogWeightsFn, k: number, chunk: number): tf.Tensor1D {
  if (!(k >= 1 && Number.isInteger(k))) throw new Error(`IWAE needs an integer k >= 1, got ${k}`);
  if (!(chunk >= 1 && Number.isInteger(chunk))) throw new Error(`IWAE needs an integer chunk >= 1, got ${chunk}`);
  let running: tf.Tensor | null = null;
  for (let start = 0; start < k; start += chunk) {
    const prev: tf.Tensor | null = running;
    running = tf.tidy(() => {
      const chunkLse = logSumExp(logWeights(Math.min(chunk, k - start), start), 0);
      // log sum over all samples so far = logaddexp(previous running sum, this chunk's sum)
      return prev === null ? chunkLse : logAddExp(prev, chunkLse);
    });
    prev?.dispose();
  }
  const total = running as tf.Tensor;
  const bound = tf.tidy(() => tf.sub(total, Math.log(k)) as tf.Tensor1D); // IWAE_k = log (1/k) sum_i w_i
  total.dispose();
  return bound;
}
