import { describe, expect, it } from 'vitest';
import { createRandom } from '../../../src-main/data/random';
import { histogramDiscretize, mutualInformationGap } from '../../../src-main/training/mig';

const N = 10_000;

/** N examples of independent uniform factors with the given sizes, row-major N x F. */
function sampleFactors(sizes: number[], seed: number): Int32Array {
  const random = createRandom(seed);
  return Int32Array.from({ length: N * sizes.length }, (_, i) => Math.floor(random() * sizes[i % sizes.length]));
}

/** Latent codes built column by column: code[n][k] = columns[k](n). */
function codes(columns: ((n: number) => number)[]): Float32Array {
  const out = new Float32Array(N * columns.length);
  for (let n = 0; n < N; n++) columns.forEach((column, k) => (out[n * columns.length + k] = column(n)));
  return out;
}

describe('histogramDiscretize', () => {
  it('bins into 20 equal-width bins over the range, the maximum in the last bin', () => {
    // Range [0, 1]: bins 0.05 wide; two values in the middle of each half-bin, plus both ends.
    const values = [0, 1, ...Array.from({ length: 40 }, (_, i) => (i + 0.5) / 40)];
    const bins = histogramDiscretize(values, values.length, 1, 0);
    expect(Array.from(bins)).toEqual([0, 19, ...Array.from({ length: 40 }, (_, i) => Math.floor(i / 2))]);
    // A value exactly on an edge goes to the bin above it, as with np.digitize.
    expect(Array.from(histogramDiscretize([0, 0.25, 1], 3, 1, 0))).toEqual([0, 5, 19]);
    expect(Array.from(histogramDiscretize([3, 3, 3], 3, 1, 0))).toEqual([0, 0, 0]);
    expect(() => histogramDiscretize([0, NaN], 2, 1, 0)).toThrow(/latent 0 of example 1 is NaN/);
  });
});

describe('mutualInformationGap', () => {
  const sizes = [3, 6, 10];
  const factors = sampleFactors(sizes, 1);
  const factor = (j: number) => (n: number) => factors[n * sizes.length + j];

  it('is close to 1 for latents equal to the factors (a perfectly disentangled code)', () => {
    const result = mutualInformationGap(codes([factor(0), factor(1), factor(2)]), N, 3, factors, sizes);
    expect(result.mig).toBeGreaterThan(0.97);
    result.perFactor.forEach((g) => expect(g).toBeGreaterThan(0.97));
    result.factorEntropy.forEach((h, j) => expect(h).toBeCloseTo(Math.log(sizes[j]), 2));
    // Affine rescaling and the order of the latents do not matter (bins span each latent's range).
    const rescaled = mutualInformationGap(
      codes([(n) => 0.1 * factor(2)(n) + 3, (n) => -5 * factor(0)(n), factor(1)]),
      N,
      3,
      factors,
      sizes,
    );
    expect(rescaled.mig).toBeCloseTo(result.mig, 6);
  });

  it('is 0 for a factor copied into two latent dimensions', () => {
    const result = mutualInformationGap(codes([factor(0), factor(0), factor(1), factor(2)]), N, 4, factors, sizes);
    expect(result.perFactor[0]).toBeCloseTo(0, 10);
    expect(result.perFactor[1]).toBeGreaterThan(0.97);
    expect(result.perFactor[2]).toBeGreaterThan(0.97);
    expect(result.mig).toBeCloseTo((result.perFactor[1] + result.perFactor[2]) / 3, 10);
  });

  it('is near 0 for random latents', () => {
    const random = createRandom(2);
    const noise = () => random() * 2 - 1;
    const result = mutualInformationGap(codes([noise, noise, noise, noise, noise]), N, 5, factors, sizes);
    expect(result.mig).toBeLessThan(0.02);
    expect(result.mig).toBeGreaterThanOrEqual(0);
  });

  it('reflects that 20 bins cannot resolve a 32-valued factor such as posX', () => {
    const posX = sampleFactors([32], 3);
    const result = mutualInformationGap(codes([(n) => posX[n], () => 0]), N, 2, posX, [32]);
    // 32 equally spaced values fall 1 or 2 to a bin: I = H(bin) ~ ln 20 of H = ln 32 nats.
    expect(result.mig).toBeGreaterThan(0.8);
    expect(result.mig).toBeLessThan(0.9);
  });

  it('checks its inputs and skips a constant factor', () => {
    expect(() => mutualInformationGap(new Float32Array(5), 3, 2, new Int32Array(3), [2])).toThrow(/3 x 2 codes/);
    expect(() => mutualInformationGap(new Float32Array(2), 2, 1, Int32Array.from([0, 4]), [3])).toThrow(
      /outside 0\.\.2/,
    );
    const result = mutualInformationGap(
      Float32Array.from([0, 1, 0, 1]),
      4,
      1,
      Int32Array.from([0, 0, 1, 0, 0, 0, 1, 0]),
      [2, 2],
    );
    expect(result.perFactor[1]).toBeNaN();
    expect(result.mig).toBeCloseTo(1, 10);
  });
});
