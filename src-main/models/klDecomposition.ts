// The KL decomposition of Chen et al. 2018 ("Isolating sources of disentanglement", eq. 2): with
// q(z) = (1/N) sum_n q(z | x_n) the aggregate posterior,
//   E_x KL(q(z|x) || p(z)) = I_q(x; z)                      index-code mutual information (MI)
//                          + KL(q(z) || prod_j q(z_j))      total correlation (TC)
//                          + sum_j KL(q(z_j) || p(z_j))     dimension-wise KL (DWKL).
// q(z_i) and q(z_ij) are estimated on a minibatch of M examples out of N by weighted sampling: the
// example's own posterior gets weight 1/N, each of the other M - 1 weight (N - 1) / (N (M - 1)),
// an unbiased estimate of (1/N) sum_n q(z_i | x_n) (with M = N, the exact mixture). (Chen et al.'s
// printed minibatch-weighted form, a uniform 1/(NM), is off by log N per density at M = N; the
// weighting here is their stratified one's intent, as in their minibatch stratified sampling.) The
// three terms are computed on the same samples z_i ~ q(z | x_i), so MI + TC + DWKL equals the Monte
// Carlo KL E_i[log q(z_i | x_i) - log p(z_i)] exactly.
import * as tf from '@tensorflow/tfjs';

const LOG_2PI = Math.log(2 * Math.PI);

export interface KlDecomposition {
  /** Batch means, nats: MI, TC, dimension-wise KL, and their sum (the Monte Carlo KL). */
  mi: tf.Scalar;
  tc: tf.Scalar;
  dwkl: tf.Scalar;
  kl: tf.Scalar;
}

/** log w_ij of the weighted minibatch estimate of q(z_i): [M, M]. */
export function logImportanceWeights(batch: number, datasetSize: number): tf.Tensor2D {
  if (!(datasetSize >= batch && batch >= 1))
    throw new Error(`need 1 <= batch (${batch}) <= dataset size (${datasetSize})`);
  const self = -Math.log(datasetSize);
  const other = batch > 1 ? Math.log((datasetSize - 1) / (datasetSize * (batch - 1))) : -Infinity;
  return tf.tidy(() => {
    const eye = tf.eye(batch);
    return tf.add(tf.mul(eye, self), tf.mul(tf.sub(1, eye), other === -Infinity ? -1e30 : other)) as tf.Tensor2D;
  });
}

/**
 * MI, TC and dimension-wise KL of a diagonal Gaussian posterior on a batch: z [M, d] with z_i ~
 * q(z | x_i) = N(mu_i, diag exp(logVar_i)), the batch drawn from a data set of datasetSize examples.
 */
export function klDecomposition(
  z: tf.Tensor2D,
  mu: tf.Tensor2D,
  logVar: tf.Tensor2D,
  datasetSize: number,
): KlDecomposition {
  return tf.tidy(() => {
    const [m] = z.shape;
    // log q(z_id | x_j) for every pair (i, j) and dimension d: [M, M, d]
    const diff = tf.sub(tf.expandDims(z, 1), tf.expandDims(mu, 0));
    const lv = tf.expandDims(logVar, 0);
    const logQ = tf.mul(-0.5, tf.add(tf.add(lv, LOG_2PI), tf.div(tf.square(diff), tf.exp(lv))));
    const logW = tf.expandDims(logImportanceWeights(m, datasetSize), 2); // [M, M, 1]
    // log q(z_i | x_i), the diagonal of the pairs
    const logQzx = tf.mul(
      -0.5,
      tf.sum(tf.add(tf.add(logVar, LOG_2PI), tf.div(tf.square(tf.sub(z, mu)), tf.exp(logVar))), 1),
    );
    const logQz = tf.logSumExp(tf.add(tf.sum(logQ, 2, true), logW), 1).squeeze([1]); // log q(z_i)
    const logQzProd = tf.sum(tf.logSumExp(tf.add(logQ, logW), 1), 1); // sum_d log q(z_id)
    const logPz = tf.mul(-0.5, tf.sum(tf.add(tf.square(z), LOG_2PI), 1)); // log N(z_i; 0, I)
    const mi = tf.mean(tf.sub(logQzx, logQz)) as tf.Scalar;
    const tc = tf.mean(tf.sub(logQz, logQzProd)) as tf.Scalar;
    const dwkl = tf.mean(tf.sub(logQzProd, logPz)) as tf.Scalar;
    const kl = tf.mean(tf.sub(logQzx, logPz)) as tf.Scalar;
    return { mi, tc, dwkl, kl };
  });
}
