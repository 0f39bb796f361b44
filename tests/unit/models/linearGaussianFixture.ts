// The linear-Gaussian model of linearGaussian.test.ts (p(z) = N(0, I), p(x|z) = N(Wz + b, sigma^2 I),
// exact marginal and exact diagonal posterior), as a fixture for the variant models' tests.
import * as tf from '@tensorflow/tfjs';
import { standardNormalValues } from '../../../src-main/models/noise';

export const D = 6;
export const L = 3;
export const SIGMA = 0.5;
export const SCALES = [2, 1, 0.5];

function makeW(): number[][] {
  const g = standardNormalValues(D * L, 11);
  const cols: number[][] = [];
  for (let j = 0; j < L; j++) {
    let v = Array.from({ length: D }, (_, i) => g[i * L + j]);
    for (const c of cols) {
      const dot = v.reduce((s, vi, i) => s + vi * c[i], 0);
      v = v.map((vi, i) => vi - dot * c[i]);
    }
    const norm = Math.hypot(...v);
    cols.push(v.map((vi) => vi / norm));
  }
  return Array.from({ length: D }, (_, i) => cols.map((c, j) => c[i] * SCALES[j]));
}

export const W = makeW();
export const B = Array.from(standardNormalValues(D, 12), (v) => 0.5 * v);
/** Exact posterior variances S = (I + W^T W / sigma^2)^-1 (diagonal). */
export const S = SCALES.map((s) => 1 / (1 + (s * s) / (SIGMA * SIGMA)));
/** Exact posterior mean A (x - b) with A = S W^T / sigma^2 (L x D). */
export const A = Array.from({ length: L }, (_, j) =>
  Array.from({ length: D }, (_, i) => (S[j] * W[i][j]) / (SIGMA * SIGMA)),
);

export function sampleData(n: number, seed: number): number[][] {
  const z = standardNormalValues(n * L, seed);
  const e = standardNormalValues(n * D, seed + 1);
  return Array.from({ length: n }, (_, r) =>
    Array.from({ length: D }, (_, i) => W[i].reduce((s, w, j) => s + w * z[r * L + j], B[i]) + SIGMA * e[r * D + i]),
  );
}

/** log N(x; b, W W^T + sigma^2 I) in float64, by Cholesky. */
export function exactLogMarginal(x: number[]): number {
  const C = Array.from({ length: D }, (_, i) =>
    Array.from({ length: D }, (_, k) => W[i].reduce((s, w, j) => s + w * W[k][j], i === k ? SIGMA * SIGMA : 0)),
  );
  const chol = Array.from({ length: D }, () => new Array<number>(D).fill(0));
  for (let i = 0; i < D; i++) {
    for (let k = 0; k <= i; k++) {
      let s = C[i][k];
      for (let m = 0; m < k; m++) s -= chol[i][m] * chol[k][m];
      chol[i][k] = i === k ? Math.sqrt(s) : s / chol[k][k];
    }
  }
  const y = new Array<number>(D);
  for (let i = 0; i < D; i++) {
    let s = x[i] - B[i];
    for (let m = 0; m < i; m++) s -= chol[i][m] * y[m];
    y[i] = s / chol[i][i];
  }
  const logDet = 2 * chol.reduce((s, row, i) => s + Math.log(row[i]), 0);
  return -0.5 * (D * Math.log(2 * Math.PI) + logDet + y.reduce((s, v) => s + v * v, 0));
}

/** The exact posterior as a linear encoder x -> [mu | logVar], its variance scaled and mean shifted by a fraction of a std. */
export function posteriorEncoder(varianceScale = 1, meanShift = 0): tf.Sequential {
  const c = A.map((row, j) => -row.reduce((s, a, i) => s + a * B[i], 0) + meanShift * Math.sqrt(S[j]));
  const logVar = S.map((s) => Math.log(s * varianceScale));
  const kernel = Array.from({ length: D }, (_, i) => [...A.map((row) => row[i]), ...new Array<number>(L).fill(0)]);
  const net = tf.sequential({
    name: 'encoder',
    layers: [tf.layers.dense({ name: 'encoder_out', units: 2 * L, inputShape: [D] })],
  });
  net.layers[0].setWeights([tf.tensor2d(kernel), tf.tensor1d([...c, ...logVar])]);
  return net;
}

/** The linear decoder z -> W z + b. */
export function linearDecoder(): tf.Sequential {
  const decoder = tf.sequential({
    name: 'decoder',
    layers: [tf.layers.dense({ name: 'decoder_out', units: D, inputShape: [L] })],
  });
  decoder.layers[0].setWeights([
    tf.tensor2d(Array.from({ length: L }, (_, j) => W.map((row) => row[j]))),
    tf.tensor1d(B),
  ]);
  return decoder;
}
