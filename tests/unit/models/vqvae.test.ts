// VQ-VAE (models/vqvae/): the straight-through gradient, the EMA codebook update on a hand-computed
// 3-code example, the code prior sampling, and the config's refusals.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { parseRunConfig } from '../../../src-main/api/config';
import { initBackend } from '../../../src-main/training/backend';
import { createModel, type VqVae } from '../../../src-main/models';
import { bernoulliLogLikelihood } from '../../../src-main/models/distributions';
import {
  codeShares,
  codeSwapCodes,
  codesByUse,
  codeUsage,
  emaUpdate,
  straightThrough,
} from '../../../src-main/models/vqvae';
import { codeShareBinWidth } from '../../../src-main/api/constants';
import { modelOfKind } from '../../../src-main/api/modelReads';

function smallVq(model: object = {}): VqVae {
  const cfg = parseRunConfig({
    model: { kind: 'vq-vae', hidden: [8], codebookSize: 3, codeDim: 2, codePositions: 2, ...model },
  });
  return createModel(cfg.model, [4, 4, 1], 0) as VqVae;
}

describe('VQ-VAE', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('the straight-through gradient w.r.t. z_e equals the decoder gradient at the quantized code', () => {
    const model = smallVq({ codebookSize: 8 });
    const decoder = model.networks().decoder;
    const [viaSt, atCode, toCodes, moved] = tf.tidy(() => {
      const x = tf.randomUniform([5, 16], 0, 1, 'float32', 1) as tf.Tensor2D;
      const ze = model.encodeRows(x);
      const { eq } = model.quantize(ze);
      const logLik = (z: tf.Tensor) =>
        tf.sum(bernoulliLogLikelihood(x, decoder.apply(tf.reshape(z, [5, -1])) as tf.Tensor));
      const gSt = tf.grad((z: tf.Tensor) => logLik(straightThrough(z, eq)))(ze);
      const gCode = tf.grad((z: tf.Tensor) => logLik(z))(eq);
      const gEq = tf.grad((e: tf.Tensor) => logLik(straightThrough(ze, e)))(eq);
      return [
        gSt.arraySync(),
        gCode.arraySync(),
        tf.max(tf.abs(gEq)).dataSync()[0],
        tf.max(tf.abs(tf.sub(ze, eq))).dataSync()[0],
      ];
    });
    expect(moved).toBeGreaterThan(1e-3); // z_e is not its code: the two points differ
    expect(viaSt).toEqual(atCode);
    expect(toCodes).toBe(0); // the reconstruction sends no gradient to the codebook
    expect(Math.max(...(atCode as number[][]).flat().map(Math.abs))).toBeGreaterThan(1e-3);
    model.dispose();
  });

  it('an EMA update matches the hand-computed one on a 3-code example', () => {
    // Codes e = (0,0), (1,0), (0,1), N = (1,1,1), m = e; rows assigned 0, 1, 1, 0; decay 0.9:
    // n = (2,2,0), N = 0.9 + 0.1 n = (1.1, 1.1, 0.9), m_0 = 0.1 (0.3, 0) = (0.03, 0),
    // m_1 = 0.9 (1, 0) + 0.1 (2, 0) = (1.1, 0), m_2 = 0.9 (0, 1) = (0, 0.9); sum N = 3.1,
    // N~_k = (N_k + 1e-5) / (3.1 + 3e-5) * 3.1; e_k = m_k / N~_k.
    const state = { count: Float64Array.from([1, 1, 1]), sum: Float64Array.from([0, 0, 1, 0, 0, 1]) };
    const z = [0.1, 0.1, 0.9, 0.1, 1.1, -0.1, 0.2, -0.1];
    const codebook = emaUpdate(state, z, [0, 1, 1, 0], 2, 0.9);
    const expected = [0.027272743268316323, 0, 1.000000586504932, 0, 0, 0.9999985663241735];
    expected.forEach((v, i) => expect(codebook[i]).toBeCloseTo(v, 12));
    expect(Array.from(state.count)).toEqual([0.9 + 0.2, 0.9 + 0.2, 0.9].map((v) => expect.closeTo(v, 12)));
  });

  it("the model's afterStep writes that EMA update, keeps an unused code in place, and fits the code prior", () => {
    const model = smallVq({ emaDecay: 0.9 });
    const x = tf.randomUniform([4, 16], 0, 1, 'float32', 2) as tf.Tensor2D;
    const before = model.networks().codebook.getWeights()[0].dataSync().slice();
    const rows = tf.tidy(() => model.encodeRows(x).dataSync());
    const { indices } = model.codeStats(x);
    const state = { count: new Float64Array(3).fill(1), sum: Float64Array.from(before) };
    const want = emaUpdate(state, rows, indices, 2, 0.9);
    model.afterStep(x, 1);
    const after = model.networks().codebook.getWeights()[0].dataSync();
    want.forEach((v, i) => expect(after[i]).toBeCloseTo(v, 5));
    for (let c = 0; c < 3; c++) {
      if (!indices.includes(c)) for (let j = 0; j < 2; j++) expect(after[c * 2 + j]).toBeCloseTo(before[c * 2 + j], 4);
    }
    // Code prior: 0.99 * 1/3 + 0.01 * (fraction of the 4 examples at each code), per position.
    const prior = model.networks().vqState.getLayer('vqState_codePrior').getWeights()[0].dataSync();
    for (let p = 0; p < 2; p++) {
      for (let c = 0; c < 3; c++) {
        const share = [0, 1, 2, 3].filter((b) => indices[b * 2 + p] === c).length / 4;
        expect(prior[p * 3 + c]).toBeCloseTo(0.99 / 3 + 0.01 * share, 6);
      }
    }
    x.dispose();
    model.dispose();
  });

  it('samples codes from the fitted per-position categorical prior', () => {
    const model = smallVq();
    // position 0 always code 2; position 1: code 0 with 1/4, code 1 with 3/4
    model
      .networks()
      .vqState.getLayer('vqState_codePrior')
      .setWeights([tf.tensor2d([[0, 0, 1, 0.25, 0.75, 0]])]);
    const n = 4000;
    const codes = tf.tidy(() => model.sampleCodes(tf.randomNormal([n, 2], 0, 1, 'float32', 3) as tf.Tensor2D));
    const atPos = (p: number, c: number) => Array.from(codes).filter((v, i) => i % 2 === p && v === c).length / n;
    expect(atPos(0, 2)).toBe(1);
    expect(atPos(1, 2)).toBe(0);
    expect(Math.abs(atPos(1, 1) - 0.75)).toBeLessThan(0.03);
    const images = tf.tidy(() => model.generate(tf.randomNormal([3, 2], 0, 1, 'float32', 4) as tf.Tensor2D, 0).shape);
    expect(images).toEqual([3, 16]);
    model.dispose();
  });

  it('perplexity is exp of the entropy of code use', () => {
    expect(codeUsage([5, 5, 0, 0]).perplexity).toBeCloseTo(2, 12);
    expect(codeUsage([5, 5, 0, 0]).used).toBe(0.5);
    expect(codeUsage([1, 1, 1, 1]).perplexity).toBeCloseTo(4, 12);
  });

  it('bins the codes sorted by use into the codebook-usage histogram', () => {
    const counts = [0, 6, 1, 3, 0, 10];
    expect(Array.from(codesByUse(counts))).toEqual([5, 1, 3, 2, 0, 4]);
    expect(codeShares(counts, 1)).toEqual([0.5, 0.3, 0.15, 0.05, 0, 0]);
    // Width 4: ranks 0-3 (10 + 6 + 3 + 1 of 20), then ranks 4-5 (0 + 0).
    expect(codeShares(counts, 4)).toEqual([1, 0]);
    expect(codeShares([2, 2, 4, 0, 0], 2)).toEqual([0.75, 0.25, 0]);
    expect([codeShareBinWidth(32), codeShareBinWidth(64), codeShareBinWidth(512), codeShareBinWidth(100)]).toEqual([
      1, 1, 8, 2,
    ]);
  });

  it('code-swap grid: column 0 the own codes, then one position swapped for the most used other codes', () => {
    const own = Int32Array.from([2, 0, 1]);
    const order = Int32Array.from([0, 2, 3, 1]); // by use on the test set
    const grid = codeSwapCodes(own, 2, 4, order);
    const cell = (r: number, c: number) => Array.from(grid.subarray((r * 4 + c) * 3, (r * 4 + c + 1) * 3));
    expect(grid.length).toBe(2 * 4 * 3);
    expect([cell(0, 0), cell(0, 1), cell(0, 2), cell(0, 3)]).toEqual([
      [2, 0, 1],
      [0, 0, 1],
      [3, 0, 1],
      [1, 0, 1],
    ]);
    expect([cell(1, 0), cell(1, 1), cell(1, 2), cell(1, 3)]).toEqual([
      [2, 0, 1],
      [2, 2, 1],
      [2, 3, 1],
      [2, 1, 1],
    ]);
    // Fewer other codes than columns: they repeat in order.
    expect(Array.from(codeSwapCodes(Int32Array.from([1]), 1, 4, Int32Array.from([1, 0])))).toEqual([1, 0, 0, 0]);
    const model = smallVq();
    const x = tf.tidy(() => tf.randomUniform([2, 16], 0, 1, 'float32', 9) as tf.Tensor2D);
    const codes = model.codesOf(x);
    expect(codes.length).toBe(4);
    // Decoding a vector's own codes is its reconstruction.
    const diff = tf.tidy(
      () => tf.max(tf.abs(tf.sub(model.decodeIndices(codes, 2), model.reconstruct(x)))).dataSync()[0],
    );
    expect(diff).toBe(0);
    x.dispose();
    model.dispose();
  });

  it('refuses VQ fields on other kinds and the Gaussian-only settings on a VQ-VAE, naming the field', () => {
    expect(() => parseRunConfig({ model: { codebookSize: 64 } })).toThrow(
      /model\.codebookSize: applies only to model.kind 'vq-vae'/,
    );
    expect(() => parseRunConfig({ model: { kind: 'beta-vae', commitment: 1 } })).toThrow(/model\.commitment/);
    expect(() => parseRunConfig({ model: { kind: 'vq-vae', architecture: 'conv' } })).toThrow(/model\.architecture/);
    expect(() => parseRunConfig({ model: { kind: 'vq-vae', latentDim: 8 } })).toThrow(/model\.latentDim/);
    expect(() => parseRunConfig({ model: { kind: 'vq-vae' }, train: { klSchedule: 'linear' } })).toThrow(
      /train\.klSchedule/,
    );
    expect(() => parseRunConfig({ model: { kind: 'vq-vae', codebookUpdate: 'loss', emaDecay: 0.9 } })).toThrow(
      /model\.emaDecay/,
    );
    const ok = modelOfKind(parseRunConfig({ model: { kind: 'vq-vae' } }).model, 'vq-vae');
    expect([ok.codebookSize, ok.codeDim, ok.commitment, ok.codebookUpdate, ok.emaDecay]).toEqual([
      512,
      64,
      0.25,
      'ema',
      0.99,
    ]);
  });
});
