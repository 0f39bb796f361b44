// The latent-space scatter's projection: principal components of the posterior means (PCA by
// the eigenvectors of their covariance, found by power iteration with deflation), or the raw
// axes when the latent space is already 1- or 2-dimensional. Plain functions, no DOM.

export interface Projection {
  x: Float64Array;
  y: Float64Array;
  xLabel: string;
  yLabel: string;
  /** Fraction of the total variance along x and y (PCA); null for raw axes. */
  explained: [number, number] | null;
}

/** Top-k eigenvectors of a symmetric d x d matrix (row-major) with their eigenvalues. */
export function topEigenvectors(
  matrix: Float64Array,
  d: number,
  k: number,
  iterations = 200,
): { vectors: Float64Array[]; values: number[] } {
  const a = Float64Array.from(matrix);
  let scale = 0;
  for (const x of matrix) scale = Math.max(scale, Math.abs(x));
  // Below this, what is left after deflation is rounding noise (which points along the vectors
  // already found): the remaining eigenvalues are 0 and any orthonormal direction will do.
  const tiny = scale * 1e-10;
  const vectors: Float64Array[] = [];
  const values: number[] = [];
  for (let c = 0; c < Math.min(k, d); c++) {
    // A fixed, non-symmetric start so the result is deterministic and rarely orthogonal to the answer.
    const orthonormal = (w: Float64Array): number => {
      // Orthogonal to the vectors found so far (deflation leaves rounding noise along them).
      for (const u of vectors) {
        let dot = 0;
        for (let i = 0; i < d; i++) dot += w[i] * u[i];
        for (let i = 0; i < d; i++) w[i] -= dot * u[i];
      }
      const norm = Math.hypot(...w);
      if (norm > 0) for (let i = 0; i < d; i++) w[i] /= norm;
      return norm;
    };
    let v = Float64Array.from({ length: d }, (_, i) => 1 + ((i * 7 + c * 3) % 5) / 10);
    orthonormal(v);
    let lambda = 0;
    for (let it = 0; it < iterations; it++) {
      const w = new Float64Array(d);
      for (let i = 0; i < d; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += a[i * d + j] * v[j];
        w[i] = s;
      }
      const norm = orthonormal(w);
      if (norm <= tiny) {
        lambda = 0;
        break;
      }
      lambda = norm;
      v = w;
    }
    // Sign: the largest component positive, so the picture does not flip between epochs.
    let big = 0;
    for (let i = 1; i < d; i++) if (Math.abs(v[i]) > Math.abs(v[big])) big = i;
    if (v[big] < 0) for (let i = 0; i < d; i++) v[i] = -v[i];
    vectors.push(v);
    values.push(lambda);
    // Deflate: A <- A - lambda v v^T.
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] -= lambda * v[i] * v[j];
  }
  return { vectors, values };
}

/** Projects count x dims means (row-major) onto two axes. */
export function project(means: ArrayLike<number>, count: number, dims: number): Projection {
  const x = new Float64Array(count);
  const y = new Float64Array(count);
  if (dims <= 2) {
    for (let i = 0; i < count; i++) {
      x[i] = means[i * dims];
      y[i] = dims === 2 ? means[i * dims + 1] : 0;
    }
    return { x, y, xLabel: 'z0', yLabel: dims === 2 ? 'z1' : '', explained: null };
  }
  const mean = new Float64Array(dims);
  for (let i = 0; i < count; i++) for (let j = 0; j < dims; j++) mean[j] += means[i * dims + j] / count;
  const cov = new Float64Array(dims * dims);
  for (let i = 0; i < count; i++)
    for (let a = 0; a < dims; a++) {
      const da = means[i * dims + a] - mean[a];
      for (let b = a; b < dims; b++) cov[a * dims + b] += (da * (means[i * dims + b] - mean[b])) / count;
    }
  for (let a = 0; a < dims; a++) for (let b = 0; b < a; b++) cov[a * dims + b] = cov[b * dims + a];
  let total = 0;
  for (let a = 0; a < dims; a++) total += cov[a * dims + a];
  const { vectors, values } = topEigenvectors(cov, dims, 2);
  for (let i = 0; i < count; i++) {
    let px = 0;
    let py = 0;
    for (let j = 0; j < dims; j++) {
      const c = means[i * dims + j] - mean[j];
      px += c * vectors[0][j];
      py += c * (vectors[1]?.[j] ?? 0);
    }
    x[i] = px;
    y[i] = py;
  }
  const explained: [number, number] = total > 0 ? [values[0] / total, (values[1] ?? 0) / total] : [0, 0];
  const pct = (f: number) => `${Math.round(f * 100)}% of variance`;
  return { x, y, xLabel: `PC1 (${pct(explained[0])})`, yLabel: `PC2 (${pct(explained[1])})`, explained };
}

/** Ten categorical colours (Tableau 10) for class labels. */
export const LABEL_COLORS = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#76b7b2',
  '#59a14f',
  '#edc948',
  '#b07aa1',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
];

export function labelColor(label: number | null): string {
  return label === null || label < 0 ? '#6b7280' : LABEL_COLORS[label % LABEL_COLORS.length];
}
