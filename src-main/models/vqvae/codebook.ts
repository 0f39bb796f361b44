// The VQ-VAE codebook (van den Oord et al. 2017): nearest-code quantization with the
// straight-through gradient, and the EMA update of the codebook (their appendix A.1, with the
// Laplace smoothing of the counts of sonnet's VectorQuantizerEMA).
import * as tf from '@tensorflow/tfjs';

/**
 * Index of the nearest code for each row of z [n, D] among codes e [K, D], by squared Euclidean
 * distance ||z||^2 - 2 z e^T + ||e||^2 (ties: the lowest index).
 */
export function nearestCodes(z: tf.Tensor2D, e: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const d = tf.add(
      tf.sub(tf.sum(tf.square(z), 1, true), tf.mul(2, tf.matMul(z, e, false, true))),
      tf.reshape(tf.sum(tf.square(e), 1), [1, -1]),
    );
    return tf.argMin(d, 1) as tf.Tensor1D;
  });
}

/** sg(x): the value of x with no gradient (tfjs has no stop_gradient op). */
export const stopGradient = tf.customGrad(((x: tf.Tensor) => ({
  value: tf.clone(x),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
})) as unknown as Parameters<typeof tf.customGrad>[0]) as (x: tf.Tensor) => tf.Tensor;

/**
 * The straight-through estimator: the value of the quantized codes e_q, the gradient passed to the
 * encoder output z_e unchanged (z_e + sg(e_q - z_e) in the paper's notation).
 */
export const straightThrough = tf.customGrad(((ze: tf.Tensor, eq: tf.Tensor) => ({
  value: tf.clone(eq),
  gradFunc: (dy: tf.Tensor) => [tf.clone(dy), tf.zerosLike(eq)],
})) as unknown as Parameters<typeof tf.customGrad>[0]) as (ze: tf.Tensor, eq: tf.Tensor) => tf.Tensor;

/** Laplace smoothing of the EMA counts (sonnet's VectorQuantizerEMA epsilon). */
export const EMA_EPSILON = 1e-5;

export interface EmaState {
  /** N_k, the moving average of each code's assignment count [K]. */
  count: Float64Array;
  /** m_k, the moving average of the sum of the vectors assigned to code k [K * D]. */
  sum: Float64Array;
}

/**
 * One EMA step for codes assigned to rows of z ([n * D], indices [n]), in place (float64):
 *   N_k <- decay N_k + (1 - decay) n_k,   m_k <- decay m_k + (1 - decay) sum_{i: k_i = k} z_i,
 *   N~_k = (N_k + eps) / (sum_j N_j + K eps) * sum_j N_j,   e_k = m_k / N~_k.
 * Returns the new codebook [K * D].
 */
export function emaUpdate(
  state: EmaState,
  z: ArrayLike<number>,
  indices: ArrayLike<number>,
  dim: number,
  decay: number,
): Float64Array {
  const k = state.count.length;
  const counts = new Float64Array(k);
  const sums = new Float64Array(k * dim);
  for (let i = 0; i < indices.length; i++) {
    const c = indices[i];
    counts[c] += 1;
    for (let j = 0; j < dim; j++) sums[c * dim + j] += z[i * dim + j];
  }
  for (let c = 0; c < k; c++) state.count[c] = decay * state.count[c] + (1 - decay) * counts[c];
  for (let i = 0; i < k * dim; i++) state.sum[i] = decay * state.sum[i] + (1 - decay) * sums[i];
  const total = state.count.reduce((a, b) => a + b, 0);
  const codebook = new Float64Array(k * dim);
  for (let c = 0; c < k; c++) {
    const smoothed = ((state.count[c] + EMA_EPSILON) / (total + k * EMA_EPSILON)) * total;
    for (let j = 0; j < dim; j++) codebook[c * dim + j] = state.sum[c * dim + j] / smoothed;
  }
  return codebook;
}

/** Perplexity exp(H(p_bar)) of code use, p_bar the fraction of assignments to each code, and the fraction of codes used. */
export function codeUsage(counts: ArrayLike<number>): { perplexity: number; used: number } {
  const total = Array.from(counts).reduce((a, b) => a + b, 0);
  let entropy = 0;
  let used = 0;
  for (let c = 0; c < counts.length; c++) {
    if (counts[c] > 0) {
      const p = counts[c] / total;
      entropy -= p * Math.log(p);
      used += 1;
    }
  }
  return { perplexity: Math.exp(entropy), used: used / counts.length };
}

/** Code indices by their use, most used first (ties: the lower index first). */
export function codesByUse(counts: ArrayLike<number>): Int32Array {
  return Int32Array.from(counts.length ? [...Array(counts.length).keys()] : []).sort(
    (a, b) => counts[b] - counts[a] || a - b,
  );
}

/**
 * The codebook-usage histogram: the share of all assignments taken by the codes at use ranks
 * [b w, (b + 1) w), most used first, w = `width` (the last bin may hold fewer codes); sums to 1.
 */
export function codeShares(counts: ArrayLike<number>, width: number): number[] {
  const sorted = Array.from(counts).sort((a, b) => b - a);
  const total = sorted.reduce((a, b) => a + b, 0);
  const out: number[] = [];
  for (let start = 0; start < sorted.length; start += width) {
    let sum = 0;
    for (let r = start; r < Math.min(start + width, sorted.length); r++) sum += sorted[r];
    out.push(total > 0 ? sum / total : 0);
  }
  return out;
}

/**
 * The code-swap grid's codes (VQ-VAE, in place of a latent traversal): `rows` rows of `columns`
 * code vectors of one image's codes [P]. Column 0 is the image's own codes; in row r, column c > 0
 * has position r's code replaced by the c-th most used code (by `order`) other than its own.
 */
export function codeSwapCodes(codes: Int32Array, rows: number, columns: number, order: Int32Array): Int32Array {
  const p = codes.length;
  const out = new Int32Array(rows * columns * p);
  for (let r = 0; r < rows; r++) {
    const others = order.filter((c) => c !== codes[r]);
    for (let c = 0; c < columns; c++) {
      const cell = out.subarray((r * columns + c) * p, (r * columns + c + 1) * p);
      cell.set(codes);
      if (c > 0 && others.length > 0) cell[r] = others[(c - 1) % others.length];
    }
  }
  return out;
}
