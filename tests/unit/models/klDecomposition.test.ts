// The KL decomposition (models/klDecomposition.ts): the weighted minibatch TC against the exact TC
// of a correlated Gaussian aggregate posterior, and MI + TC + DWKL = KL on the same samples.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src-main/training/backend';
import { klDecomposition } from '../../../src-main/models/klDecomposition';
import { klStandardNormal, logNormalDiag, logStandardNormal } from '../../../src-main/models/distributions';
import { standardNormalValues } from '../../../src-main/models/noise';

const DIM = 3;
/** Lower-triangular factor of the data covariance A = F F^T (correlated dimensions). */
const F = [
  [1, 0, 0],
  [0.8, 0.6, 0],
  [-0.5, 0.4, 0.7],
];
const SIGMA_Q = 0.6;

/** Covariance of the aggregate posterior: q(z) = E_x N(z; x, sigma^2 I) with x ~ N(0, F F^T) is N(0, F F^T + sigma^2 I). */
function aggregateCovariance(): number[][] {
  return F.map((ri, i) =>
    F.map((rk, k) => ri.reduce((s, v, j) => s + v * rk[j], 0) + (i === k ? SIGMA_Q * SIGMA_Q : 0)),
  );
}

function logDet3(c: number[][]): number {
  const det =
    c[0][0] * (c[1][1] * c[2][2] - c[1][2] * c[2][1]) -
    c[0][1] * (c[1][0] * c[2][2] - c[1][2] * c[2][0]) +
    c[0][2] * (c[1][0] * c[2][1] - c[1][1] * c[2][0]);
  return Math.log(det);
}

/** TC of N(0, C) = KL(N(0, C) || prod_j N(0, C_jj)) = 1/2 (sum_j log C_jj - log det C). */
const exactTc = (c: number[][]) => 0.5 * (c.reduce((s, row, j) => s + Math.log(row[j]), 0) - logDet3(c));

/** n posterior means x_n ~ N(0, F F^T) and one sample z_n ~ N(x_n, sigma^2 I) each. */
function draw(n: number, seed: number): { mu: number[][]; z: number[][] } {
  const g = standardNormalValues(n * DIM, seed);
  const e = standardNormalValues(n * DIM, seed + 1);
  const mu = Array.from({ length: n }, (_, r) => F.map((row) => row.reduce((s, v, j) => s + v * g[r * DIM + j], 0)));
  const z = mu.map((m, r) => m.map((v, j) => v + SIGMA_Q * e[r * DIM + j]));
  return { mu, z };
}

describe('KL decomposition (Chen et al. 2018)', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  const N = 1500;
  const { mu, z } = draw(N, 7);
  const logVarOf = (n: number) => Array.from({ length: n }, () => new Array<number>(DIM).fill(Math.log(SIGMA_Q ** 2)));

  it('the weighted minibatch TC is within 5% of the exact TC of the correlated Gaussian', () => {
    const truth = exactTc(aggregateCovariance());
    // The whole data set as the batch (M = N), and minibatches of 500 out of N (mean over the three).
    const whole = tf.tidy(
      () => klDecomposition(tf.tensor2d(z), tf.tensor2d(mu), tf.tensor2d(logVarOf(N)), N).tc.dataSync()[0],
    );
    const batches = [0, 1, 2].map((b) =>
      tf.tidy(() => {
        const rows = (a: number[][]) => tf.tensor2d(a.slice(b * 500, (b + 1) * 500));
        return klDecomposition(rows(z), rows(mu), tf.tensor2d(logVarOf(500)), N).tc.dataSync()[0];
      }),
    );
    const minibatch = batches.reduce((a, v) => a + v, 0) / 3;
    expect(truth).toBeGreaterThan(0.25); // a clearly correlated aggregate (exact TC 0.301 nats)
    expect(Math.abs(whole - truth) / truth).toBeLessThan(0.05);
    expect(Math.abs(minibatch - truth) / truth).toBeLessThan(0.05);
  });

  it('MI + TC + dimension-wise KL equals the total KL on the same samples (1e-3)', () => {
    const n = 400;
    const g = standardNormalValues(n * DIM, 21);
    const logVar = Array.from({ length: n }, (_, r) =>
      Array.from({ length: DIM }, (_, j) => -1 + 0.5 * g[r * DIM + j]),
    );
    const [decomp, mcKl, analyticKl] = tf.tidy(() => {
      const m = tf.tensor2d(mu.slice(0, n));
      const lv = tf.tensor2d(logVar);
      const eps = tf.tensor2d(Array.from(standardNormalValues(n * DIM, 22)), [n, DIM]);
      const zz = tf.add(m, tf.mul(tf.exp(tf.mul(0.5, lv)), eps)) as tf.Tensor2D;
      const d = klDecomposition(zz, m, lv, 10_000);
      const mc = tf.mean(tf.sub(logNormalDiag(zz, m, lv), logStandardNormal(zz))).dataSync()[0];
      return [
        { mi: d.mi.dataSync()[0], tc: d.tc.dataSync()[0], dwkl: d.dwkl.dataSync()[0], kl: d.kl.dataSync()[0] },
        mc,
        tf.mean(klStandardNormal(m, lv)).dataSync()[0],
      ];
    });
    expect(Math.abs(decomp.mi + decomp.tc + decomp.dwkl - mcKl)).toBeLessThan(1e-3);
    expect(Math.abs(decomp.kl - mcKl)).toBeLessThan(1e-3);
    // the Monte Carlo KL of 400 samples is near the analytic one
    expect(Math.abs(mcKl - analyticKl) / analyticKl).toBeLessThan(0.1);
    // each term is a KL or a mutual information: non-negative up to estimator noise
    expect(decomp.tc).toBeGreaterThan(0);
    expect(decomp.dwkl).toBeGreaterThan(0);
  });
});
