// Mutual Information Gap (Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs"), as
// computed by disentanglement_lib's mig.py: each latent dimension is discretized into 20
// equal-width bins over its own range (`_histogram_discretize`: np.digitize against
// np.histogram's edges), I(z_k; v_j) and H(v_j) are plug-in estimates from counts in nats
// (sklearn's mutual_info_score), and MIG = mean over factors of
// (largest - second largest I(z_k; v_j)) / H(v_j). Pure TypeScript so it runs anywhere.

export const MIG_BINS = 20;

export interface MigResult {
  /** Mean of perFactor over the factors that vary (H(v_j) > 0). */
  mig: number;
  /** (top - second) / H(v_j) per factor; NaN for a factor that is constant in the sample. */
  perFactor: number[];
  /** I(z_k; v_j) in nats, indexed [latent][factor]. */
  mutualInfo: number[][];
  /** H(v_j) in nats. */
  factorEntropy: number[];
}

/**
 * Bin index 0..bins-1 of each of `count` values of latent `dim` (row-major count x latentDim).
 * Like np.digitize(x, np.histogram(x, bins)[1][:-1]) - 1: edges min + i * (max - min) / bins,
 * the maximum falls in the last bin, and a constant column falls in a single bin.
 */
export function histogramDiscretize(
  codes: ArrayLike<number>,
  count: number,
  latentDim: number,
  dim: number,
  bins = MIG_BINS,
): Int32Array {
  let min = Infinity;
  let max = -Infinity;
  for (let n = 0; n < count; n++) {
    const v = codes[n * latentDim + dim];
    if (!Number.isFinite(v)) throw new RangeError(`MIG: latent ${dim} of example ${n} is ${v}`);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const out = new Int32Array(count);
  if (!(max > min)) return out;
  const step = (max - min) / bins;
  const edge = (i: number) => i * step + min; // np.linspace's formula, so ties land as numpy's do
  for (let n = 0; n < count; n++) {
    const v = codes[n * latentDim + dim];
    let b = Math.min(bins - 1, Math.max(0, Math.floor((v - min) / step)));
    // Correct the division's rounding against the exact edges: bin b holds edge(b) <= v < edge(b+1).
    while (b + 1 < bins && v >= edge(b + 1)) b++;
    while (b > 0 && v < edge(b)) b--;
    out[n] = b;
  }
  return out;
}

/** Plug-in mutual information in nats between two discrete variables (sklearn's mutual_info_score). */
function mutualInfo(a: Int32Array, aSize: number, b: Int32Array, bSize: number): number {
  const count = a.length;
  const joint = new Float64Array(aSize * bSize);
  const pa = new Float64Array(aSize);
  const pb = new Float64Array(bSize);
  for (let n = 0; n < count; n++) {
    joint[a[n] * bSize + b[n]]++;
    pa[a[n]]++;
    pb[b[n]]++;
  }
  let mi = 0;
  for (let i = 0; i < aSize; i++) {
    for (let j = 0; j < bSize; j++) {
      const nij = joint[i * bSize + j];
      if (nij > 0) mi += (nij / count) * Math.log((nij * count) / (pa[i] * pb[j]));
    }
  }
  return Math.max(0, mi); // rounding can leave a tiny negative value for independent variables
}

function entropy(values: Int32Array, size: number): number {
  const counts = new Float64Array(size);
  for (const v of values) counts[v]++;
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / values.length) * Math.log(c / values.length);
  return h;
}

/**
 * MIG of `count` latent codes (row-major count x latentDim, e.g. posterior means) against their
 * ground-truth factors (row-major count x factorSizes.length, each an index 0..factorSizes[j]-1).
 */
export function mutualInformationGap(
  codes: ArrayLike<number>,
  count: number,
  latentDim: number,
  factors: ArrayLike<number>,
  factorSizes: number[],
  bins = MIG_BINS,
): MigResult {
  const factorCount = factorSizes.length;
  if (codes.length !== count * latentDim)
    throw new RangeError(`MIG: expected ${count} x ${latentDim} codes, got ${codes.length} values`);
  if (factors.length !== count * factorCount)
    throw new RangeError(`MIG: expected ${count} x ${factorCount} factors, got ${factors.length} values`);
  if (count === 0 || latentDim === 0) throw new RangeError('MIG needs at least one example and one latent dimension');

  const latentBins = Array.from({ length: latentDim }, (_, k) => histogramDiscretize(codes, count, latentDim, k, bins));
  const factorColumns = factorSizes.map((size, j) => {
    const column = new Int32Array(count);
    for (let n = 0; n < count; n++) {
      const v = factors[n * factorCount + j];
      if (!Number.isInteger(v) || v < 0 || v >= size)
        throw new RangeError(`MIG: factor ${j} of example ${n} is ${v}, outside 0..${size - 1}`);
      column[n] = v;
    }
    return column;
  });

  const mutual = latentBins.map((z) => factorColumns.map((v, j) => mutualInfo(z, bins, v, factorSizes[j])));
  const factorEntropy = factorColumns.map((v, j) => entropy(v, factorSizes[j]));
  const perFactor = factorEntropy.map((h, j) => {
    const sorted = mutual.map((row) => row[j]).sort((x, y) => y - x);
    // With a single latent there is no runner-up: the gap is the top information itself.
    return h > 0 ? (sorted[0] - (sorted[1] ?? 0)) / h : NaN;
  });
  const varying = perFactor.filter((g) => !Number.isNaN(g));
  const mig = varying.length > 0 ? varying.reduce((a, b) => a + b, 0) / varying.length : NaN;
  return { mig, perFactor, mutualInfo: mutual, factorEntropy };
}
