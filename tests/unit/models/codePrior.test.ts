// The VQ-VAE's first-order autoregressive code prior (models/vqvae/codePrior.ts): its fitted
// conditionals are the counted frequencies, the rows it cannot keep whole spread their rest by the
// marginal, sampling follows the conditionals, and an older checkpoint without it still loads.
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { parseRunConfig } from '../../../src-main/api/config';
import { createModel, getNamedWeights, setNamedWeights, type VqVae } from '../../../src-main/models';
import {
  AR_SUCCESSORS,
  CODE_PRIOR_UNIFORM_WEIGHT,
  codeLogProb,
  conditionalProbabilities,
  firstPositionProbabilities,
  fitCodePrior,
  isFitted,
  sampleFromPrior,
} from '../../../src-main/models/vqvae';

// 8 examples, 3 positions, K = 4 codes.
const CODES = [
  [0, 1, 2],
  [0, 1, 3],
  [0, 2, 2],
  [1, 1, 2],
  [1, 3, 0],
  [0, 1, 2],
  [2, 3, 3],
  [0, 2, 2],
].flat();

describe('autoregressive code prior', () => {
  it('fits conditionals equal to the counted frequencies of a small example', () => {
    const t = fitCodePrior(CODES, 8, 3, 4);
    expect(isFitted(t)).toBe(true);
    // Position 1: code 0 five times, code 1 twice, code 2 once.
    expect(Array.from(firstPositionProbabilities(t))).toEqual([5 / 8, 2 / 8, 1 / 8, 0]);
    // After code 0 at position 1: 1 three times, 2 twice.
    expect(Array.from(conditionalProbabilities(t, 1, 0))).toEqual([0, 3 / 5, 2 / 5, 0]);
    // After code 1 at position 1: 1 once, 3 once.
    expect(Array.from(conditionalProbabilities(t, 1, 1))).toEqual([0, 1 / 2, 0, 1 / 2]);
    expect(Array.from(conditionalProbabilities(t, 1, 2))).toEqual([0, 0, 0, 1]);
    // After code 1 at position 2 (4 times): 2 three times, 3 once.
    expect(Array.from(conditionalProbabilities(t, 2, 1))).toEqual([0, 0, 3 / 4, 1 / 4]);
    // After code 3 at position 2 (twice): 0 once, 3 once.
    expect(Array.from(conditionalProbabilities(t, 2, 3))).toEqual([1 / 2, 0, 0, 1 / 2]);
    // Code 0 never appears at position 2: the row falls back to position 3's marginal (2: 5, 3: 2, 0: 1).
    expect(Array.from(conditionalProbabilities(t, 2, 0))).toEqual([1 / 8, 0, 5 / 8, 2 / 8]);
  });

  it('keeps the most frequent successors exactly and spreads the rest of a row by the marginal', () => {
    // One successor kept per row: after 0 at position 1, code 1 (3 of 5) is kept; the other 2/5
    // go to the codes not kept in proportion to position 2's marginal (1: 4, 2: 2, 3: 2 -> 2 and 3).
    const t = fitCodePrior(CODES, 8, 3, 4, 1);
    const row = conditionalProbabilities(t, 1, 0);
    expect(row[1]).toBeCloseTo(3 / 5, 12);
    expect(row[0]).toBe(0);
    expect(row[2]).toBeCloseTo(((2 / 5) * 2) / 4, 12);
    expect(row[3]).toBeCloseTo(((2 / 5) * 2) / 4, 12);
    expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('scores code vectors under the prior mixed with 1% uniform, never at -infinity', () => {
    const t = fitCodePrior(CODES, 8, 3, 4);
    const w = CODE_PRIOR_UNIFORM_WEIGHT;
    const mix = (q: number) => Math.log((1 - w) * q + w / 4);
    // [0, 1, 2]: p_1(0) = 5/8, p_2(1 | 0) = 3/5, p_3(2 | 1) = 3/4. [3, 0, 0]: never seen at all.
    const logp = codeLogProb(t, [0, 1, 2, 3, 0, 0], 2);
    expect(logp[0]).toBeCloseTo(mix(5 / 8) + mix(3 / 5) + mix(3 / 4), 12);
    // p_1(3) = 0; code 3 never at position 1, so row (2, 3) falls back to position 2's marginal (code 0: 0);
    // row (3, 0) never seen either: position 3's marginal, code 0 once in 8.
    expect(logp[1]).toBeCloseTo(mix(0) + mix(0) + mix(1 / 8), 12);
    expect(Number.isFinite(logp[1])).toBe(true);
  });

  it('ancestral samples follow the fitted conditionals', () => {
    const t = fitCodePrior(CODES, 8, 3, 4);
    const n = 20_000;
    let seed = 12345;
    const u = Float64Array.from({ length: n * 3 }, () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    });
    const codes = sampleFromPrior(t, u, n);
    const count = (pred: (i: number) => boolean) => [...Array(n).keys()].filter(pred).length;
    const first0 = count((i) => codes[i * 3] === 0);
    expect(first0 / n).toBeCloseTo(5 / 8, 1);
    const then1 = count((i) => codes[i * 3] === 0 && codes[i * 3 + 1] === 1);
    expect(Math.abs(then1 / first0 - 3 / 5)).toBeLessThan(0.02);
    // Transitions never counted are never drawn: 0 -> 0 and 0 -> 3 at position 2.
    expect(count((i) => codes[i * 3] === 0 && (codes[i * 3 + 1] === 0 || codes[i * 3 + 1] === 3))).toBe(0);
  });

  it('a VQ-VAE samples from the prior once fitted, and loads a checkpoint written before it existed', () => {
    const cfg = parseRunConfig({
      model: { kind: 'vq-vae', hidden: [8], codebookSize: 4, codeDim: 2, codePositions: 3 },
    });
    const model = createModel(cfg.model, [4, 4, 1], 0) as VqVae;
    expect(isFitted(model.codePriorTables())).toBe(false);
    const older = getNamedWeights(model).filter((w) => !w.name.startsWith('codePriorAr/'));
    model.writePrior(fitCodePrior(CODES, 8, 3, 4));
    const stored = model.codePriorTables();
    expect(Array.from(conditionalProbabilities(stored, 1, 0))).toEqual([0, 3 / 5, 2 / 5, 0]);
    expect(stored.nextCode.length).toBe(2 * 4 * AR_SUCCESSORS);
    const z = tf.tidy(() => tf.randomNormal([4000, 3], 0, 1, 'float32', 7) as tf.Tensor2D);
    const codes = model.sampleCodes(z);
    z.dispose();
    for (let i = 0; i < 4000; i++) {
      // Only counted transitions: 2 -> 3 at position 2, and position 1 never draws code 3.
      expect(codes[i * 3]).not.toBe(3);
      if (codes[i * 3] === 2) expect(codes[i * 3 + 1]).toBe(3);
    }
    // An older checkpoint (no codePriorAr/* weights) restores, with the prior unfitted again.
    const restored = createModel(cfg.model, [4, 4, 1], 1) as VqVae;
    restored.writePrior(fitCodePrior(CODES, 8, 3, 4));
    setNamedWeights(restored, older);
    expect(isFitted(restored.codePriorTables())).toBe(true);
    // Its own prior stays as it was (not part of the older checkpoint); a fresh model has none.
    const fresh = createModel(cfg.model, [4, 4, 1], 1) as VqVae;
    setNamedWeights(fresh, older);
    expect(isFitted(fresh.codePriorTables())).toBe(false);
    // A checkpoint with only part of the prior is refused, naming what is missing.
    const partial = [...older, ...getNamedWeights(model).filter((w) => w.name.includes('marginal'))];
    expect(() => setNamedWeights(fresh, partial)).toThrow(/missing \[codePriorAr\//);
    model.dispose();
    restored.dispose();
    fresh.dispose();
  });
});
