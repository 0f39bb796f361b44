// Flow posteriors (models/flows/): planar and IAF log-determinants against the log of the
// determinant of a numerical Jacobian, the IAF Jacobian's triangular shape, the u_hat constraint,
// and IWAE_5000 with a flow posterior against the exact log p(x) of the linear-Gaussian model.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ModelConfigSchema, parseRunConfig } from '../../../src-main/api/config';
import { initBackend } from '../../../src-main/training/backend';
import { createModel, FlowVae } from '../../../src-main/models';
import { IafFlow, madeMasks, PlanarFlow, planarUHat, type Flow } from '../../../src-main/models/flows';
import { createLikelihood } from '../../../src-main/models/likelihood';
import { standardNormalValues } from '../../../src-main/models/noise';
import { getNamedWeights } from '../../../src-main/models/weights';
import { D, L, SIGMA, exactLogMarginal, linearDecoder, posteriorEncoder, sampleData } from './linearGaussianFixture';

/** Overwrites every flow parameter with seeded uniform values in [-scale, scale] (a far-from-identity flow). */
function randomize(flow: Flow, scale: number, seed: number): void {
  const weights = flow.network.getWeights();
  flow.network.setWeights(
    weights.map((w, i) => {
      const values = standardNormalValues(w.size, seed + i).map((v) => scale * Math.tanh(v));
      return tf.tensor(values, w.shape);
    }),
  );
}

/** Adds seeded noise of size `scale` to every flow parameter (a flow near its initial, near-identity one). */
function perturb(flow: Flow, scale: number, seed: number): void {
  const weights = flow.network.getWeights();
  flow.network.setWeights(
    weights.map((w, i) =>
      tf.tidy(() => tf.add(w, tf.tensor(standardNormalValues(w.size, seed + i), w.shape).mul(scale))),
    ),
  );
}

/** Forward z_K of one point by the tf code (float32). */
const forwardPoint = (flow: Flow, z: number[]): number[] =>
  tf.tidy(() => Array.from(flow.forward(tf.tensor2d([z])).z.dataSync()));

/** The planar flow re-implemented in float64 from its parameters (Rezende & Mohamed 2015, eq. 10 and app. A). */
function planar64(p: Record<string, Float32Array>, length: number, z0: number[]): number[] {
  let z = [...z0];
  const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);
  for (let k = 0; k < length; k++) {
    const [u, w, b] = [p[`u${k}`], p[`w${k}`], p[`b${k}`][0]];
    const wu = dot(w, u);
    const m = -1 + Math.log1p(Math.exp(wu));
    const uHat = Array.from(u, (ui, i) => ui + ((m - wu) * w[i]) / (dot(w, w) + 1e-12));
    const h = Math.tanh(dot(w, z) + b);
    z = z.map((zi, i) => zi + uHat[i] * h);
  }
  return z;
}

/** The IAF with MADE re-implemented in float64 from its parameters (Kingma et al. 2016, eq. 14). */
function iaf64(p: Record<string, Float32Array>, length: number, hidden: number, z0: number[]): number[] {
  const d = z0.length;
  const { inputToHidden: m1, hiddenToOutput: m2 } = madeMasks(d, hidden);
  let z = [...z0];
  for (let k = 0; k < length; k++) {
    if (k > 0) z.reverse();
    const hid = Array.from({ length: hidden }, (_, c) => {
      let a = p[`b${k}`][c];
      for (let i = 0; i < d; i++) a += z[i] * p[`W${k}`][i * hidden + c] * m1[i][c];
      return a > 0 ? a : Math.expm1(a); // elu
    });
    const out = (name: string, bias: string) =>
      Array.from({ length: d }, (_, j) =>
        hid.reduce((s, v, c) => s + v * p[`${name}${k}`][c * d + j] * m2[c][j], p[`${bias}${k}`][j]),
      );
    const m = out('Wm', 'bm');
    const s = out('Ws', 'bs');
    z = z.map((zi, j) => {
      const sigma = 1 / (1 + Math.exp(-s[j]));
      return sigma * zi + (1 - sigma) * m[j];
    });
  }
  if (length % 2 === 0) z.reverse();
  return z;
}

/** The Jacobian of f at z by central differences (float64, h = 1e-6). */
function numericalJacobian(f: (z: number[]) => number[], z: number[], h = 1e-6): number[][] {
  const d = z.length;
  const J = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (let j = 0; j < d; j++) {
    const plus = f(z.map((v, i) => (i === j ? v + h : v)));
    const minus = f(z.map((v, i) => (i === j ? v - h : v)));
    for (let i = 0; i < d; i++) J[i][j] = (plus[i] - minus[i]) / (2 * h);
  }
  return J;
}

/** log |det M| by LU with partial pivoting, float64. */
function logAbsDet(M: number[][]): number {
  const a = M.map((row) => [...row]);
  const n = a.length;
  let logDet = 0;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r][c]) > Math.abs(a[p][c])) p = r;
    [a[c], a[p]] = [a[p], a[c]];
    logDet += Math.log(Math.abs(a[c][c]));
    for (let r = c + 1; r < n; r++) {
      const f = a[r][c] / a[c][c];
      for (let k = c; k < n; k++) a[r][k] -= f * a[c][k];
    }
  }
  return logDet;
}

const summedLogDet = (flow: Flow, z: number[]): number =>
  tf.tidy(() => tf.addN(flow.forward(tf.tensor2d([z])).logDets).dataSync()[0]);

describe('flow log-determinants', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  const points = [0, 1, 2].map((p) => Array.from(standardNormalValues(4, 40 + p)));

  /** The flow's summed log-det (tf) against log |det| of the numerical Jacobian of its float64 twin. */
  function checkLogDet(flow: Flow, twin: (z: number[]) => number[]): void {
    for (const z of points) {
      const tfOut = forwardPoint(flow, z);
      twin(z).forEach((v, i) => expect(Math.abs(v - tfOut[i])).toBeLessThan(1e-5)); // the twin is the same map
      const numeric = logAbsDet(numericalJacobian(twin, z));
      const analytic = summedLogDet(flow, z);
      expect(Math.abs(numeric - analytic)).toBeLessThan(1e-4);
      expect(Math.abs(analytic)).toBeGreaterThan(0.05); // far from the identity
    }
  }

  it('planar: sum of log |1 + u_hat^T psi| equals log |det J| of the numerical Jacobian (1e-4)', () => {
    const flow = new PlanarFlow(4, 3, 1);
    randomize(flow, 1.5, 100);
    const p = flow.parameterValues();
    checkLogDet(flow, (z) => planar64(p, 3, z));
    flow.network.dispose();
    flow.dispose();
  });

  it('planar: u_hat keeps w^T u_hat > -1 where w^T u < -1', () => {
    const [wu, wuHat] = tf.tidy(() => {
      const w = tf.tensor1d([1, -0.5, 2]);
      const u = tf.mul(-3, w) as tf.Tensor1D; // w^T u = -15.75
      return [tf.sum(tf.mul(w, u)).dataSync()[0], tf.sum(tf.mul(w, planarUHat(u, w))).dataSync()[0]];
    });
    expect(wu).toBeLessThan(-1);
    expect(wuHat).toBeGreaterThan(-1);
    // m(a) = -1 + softplus(a) at a = -15.75
    expect(wuHat).toBeCloseTo(-1 + Math.log1p(Math.exp(wu)), 5);
  });

  it('IAF: one step has a lower-triangular Jacobian with diagonal sigma; K steps match log |det J| (1e-4)', () => {
    const one = new IafFlow(4, 1, 2);
    randomize(one, 1, 200);
    const p1 = one.parameterValues();
    for (const z of points) {
      // finite differences of the tf code itself: z'_i does not move at all when z_j, j >= i, does
      const step = 1e-2;
      for (let j = 0; j < 4; j++) {
        const moved = forwardPoint(
          one,
          z.map((v, i) => (i === j ? v + step : v)),
        );
        const base = forwardPoint(one, z);
        for (let i = 0; i < j; i++) expect(moved[i]).toBe(base[i]);
      }
      const J = numericalJacobian((v) => iaf64(p1, 1, one.hidden, v), z);
      for (let i = 0; i < 4; i++) for (let j = i + 1; j < 4; j++) expect(J[i][j]).toBe(0);
      expect(J[3][0] !== 0 || J[3][1] !== 0 || J[3][2] !== 0).toBe(true); // autoregressive, not diagonal
      const diag = J.reduce((s, row, i) => s + Math.log(Math.abs(row[i])), 0);
      expect(Math.abs(diag - summedLogDet(one, z))).toBeLessThan(1e-4);
    }
    checkLogDet(one, (z) => iaf64(p1, 1, one.hidden, z));
    one.network.dispose();
    one.dispose();
    const flow = new IafFlow(4, 3, 3);
    randomize(flow, 1, 300);
    const p = flow.parameterValues();
    checkLogDet(flow, (z) => iaf64(p, 3, flow.hidden, z));
    flow.network.dispose();
    flow.dispose();
  });
});

describe('flow posterior on the linear-Gaussian model', () => {
  const data = sampleData(12, 100);
  const exact = data.map(exactLogMarginal);
  let x: tf.Tensor2D;
  beforeAll(async () => {
    await initBackend('cpu');
    x = tf.tensor2d(data);
  });
  afterAll(() => x.dispose());

  for (const posterior of ['planar', 'iaf'] as const) {
    it(`${posterior}: IWAE_5000 <= log p(x) and within 0.05 nats; the ELBO is the IWAE_1 of the same draws`, () => {
      const config = ModelConfigSchema.parse({
        likelihood: 'gaussian',
        gaussianSigma: SIGMA,
        latentDim: L,
        posterior,
        flowLength: 2,
      });
      const flow = posterior === 'planar' ? new PlanarFlow(L, 2, 5) : new IafFlow(L, 2, 5);
      // A flow near the identity on a base a little wider than the exact posterior, so the
      // importance weights are light-tailed: each IAF step's gate starts at sigmoid(4) = 0.98.
      if (flow instanceof IafFlow) {
        const specs = flow.network.layers.filter((l) => l.name.includes('_bs'));
        specs.forEach((l) => l.setWeights([tf.fill(l.getWeights()[0].shape, 4)]));
        perturb(flow, 0.05, 400);
      } else {
        // u = (a0 + 0.2) w / |w|^2 with m(a0) = 0 (a0 = log(e - 1)): u_hat = m(a0 + 0.2) w / |w|^2, a mild step
        const layer = (name: string) => flow.network.getLayer(`flow_${name}`);
        for (let k = 0; k < 2; k++) {
          const w = Array.from(standardNormalValues(L, 500 + k));
          const norm2 = w.reduce((a, v) => a + v * v, 0);
          layer(`w${k}`).setWeights([tf.tensor2d([w])]);
          layer(`u${k}`).setWeights([tf.tensor2d([w.map((v) => ((Math.log(Math.E - 1) + 0.2) * v) / norm2)])]);
          layer(`b${k}`).setWeights([tf.tensor2d([[0.1]])]);
        }
      }
      const model = new FlowVae(
        config,
        [1, D, 1],
        posteriorEncoder(1.3, 0),
        linearDecoder(),
        createLikelihood(config, D),
        flow,
      );
      const bound = tf.tidy(() => Array.from(model.iwaeBound(x, 5000, { chunk: 500, seed: 9 }).dataSync()));
      const meanOf = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
      // Per example within 0.05 nats (measured: |IWAE_5000 - log p(x)| < 0.01); on average at or below
      // log p(x) up to the Monte Carlo noise of a 12-example mean of IWAE_5000 estimates (~0.002).
      for (let row = 0; row < data.length; row++) expect(Math.abs(bound[row] - exact[row])).toBeLessThan(0.05);
      expect(meanOf(bound)).toBeLessThanOrEqual(meanOf(exact) + 0.005);
      // One sample with the same seed: lossTerms' ELBO (Monte Carlo KL) is the mean IWAE_1.
      const options = { klWeight: 1, freeBits: 0, capacity: null, objective: 'elbo' as const, samples: 1, seed: 3 };
      const [elbo, kl, klDimSum] = tf.tidy(() => {
        const t = model.lossTerms(x, options);
        return [t.elbo.dataSync()[0], t.kl.dataSync()[0], tf.sum(t.klPerDim).dataSync()[0]];
      });
      const iwae1 = tf.tidy(() => meanOf(Array.from(model.iwaeBound(x, 1, { chunk: 1, seed: 3 }).dataSync())));
      expect(Math.abs(elbo - iwae1)).toBeLessThan(1e-4);
      expect(Math.abs(kl - klDimSum)).toBeLessThan(1e-4);
      // The ELBO itself (2,000 samples per example) is visibly below: KL(q_K || p(z|x)) > 0.
      const elbo2000 = tf.tidy(
        () => model.lossTerms(x, { ...options, objective: 'iwae', samples: 2000 }).elbo.dataSync()[0],
      );
      expect(meanOf(exact) - elbo2000).toBeGreaterThan(0.02);
      expect(meanOf(exact) - elbo2000).toBeGreaterThan(meanOf(exact) - meanOf(bound) + 0.02);
      const logDets = model.meanLogDetPerStep(x, 3);
      expect(logDets).toHaveLength(2);
      logDets.forEach((v) => expect(Math.abs(v)).toBeGreaterThan(1e-3));
      model.dispose();
    });
  }

  it('createModel builds a flow VAE whose weights include the flow', () => {
    const config = parseRunConfig({ model: { posterior: 'iaf', flowLength: 2, latentDim: 4, hidden: [8] } });
    const model = createModel(config.model, [4, 4, 1], 0);
    const names = getNamedWeights(model).map((w) => w.name);
    expect(names.filter((n) => n.startsWith('flow/'))).toHaveLength(12);
    model.dispose();
    // Runs stored before the posterior field existed: migrations/0007 gives them 'gaussian' (store/migrate.test.ts).
    expect(() => parseRunConfig({ model: { kind: 'ladder', posterior: 'planar' } })).toThrow(/model.posterior/);
    expect(() => parseRunConfig({ model: { flowLength: 8 } })).toThrow(/model.flowLength/);
    expect(() =>
      parseRunConfig({ model: { posterior: 'planar' }, train: { freeBits: 0.5, freeBitsPer: 'dimension' } }),
    ).toThrow(/train.freeBitsPer/);
  });
});
