// KL per latent dimension over training, from the stored `test/kl_dim/NN` points (and the
// dimensions' activity `test/latent_cov/NN`, A_u = Cov_x(E_q[z_u])): the dimension x evaluation
// matrix of a heatmap, the sorted final spectrum with active and collapsed dimensions, and the
// colour scale. Plain functions, no DOM.
import type { SeriesBucket } from '@api/contract';

/** Burda et al. 2015: a unit is active when A_u > 0.01. */
export const ACTIVE_THRESHOLD = 0.01;

const DIM_METRIC = /^test\/kl_dim\/(\d+)$/;
const COV_METRIC = /^test\/latent_cov\/(\d+)$/;

/** The per-dimension test KL metrics among `names`, in dimension order. */
export function klDimMetrics(names: readonly string[]): string[] {
  return names.filter((n) => DIM_METRIC.test(n)).sort((a, b) => dimOf(a) - dimOf(b));
}

export function covMetric(dim: number): string {
  return `test/latent_cov/${String(dim).padStart(2, '0')}`;
}

export function dimOf(metric: string): number {
  const match = DIM_METRIC.exec(metric) ?? COV_METRIC.exec(metric);
  return match ? Number(match[1]) : -1;
}

export interface KlMatrix {
  /** Latent dimension index of each row. */
  dims: number[];
  /** The evaluation steps (columns), ascending: the union of the rows' steps. */
  steps: number[];
  /** values[row][col]: the KL of dims[row] at steps[col], null where not logged. */
  values: (number | null)[][];
  max: number;
}

/** Rows: one series of buckets per dimension (as stored: `last` is the value at `step`). */
export function buildKlMatrix(dims: readonly number[], rows: readonly (readonly SeriesBucket[])[]): KlMatrix {
  const stepSet = new Set<number>();
  for (const row of rows) for (const b of row) stepSet.add(b.step);
  const steps = [...stepSet].sort((a, b) => a - b);
  const col = new Map(steps.map((s, i) => [s, i]));
  let max = 0;
  const values = rows.map((row) => {
    const out = new Array<number | null>(steps.length).fill(null);
    for (const b of row) {
      out[col.get(b.step)!] = b.last;
      if (Number.isFinite(b.last) && b.last > max) max = b.last;
    }
    return out;
  });
  return { dims: [...dims], steps, values, max };
}

export interface SpectrumEntry {
  dim: number;
  /** KL of the dimension at the last evaluation. */
  kl: number;
  /** A_u at the last evaluation; null for runs stored before it was logged. */
  cov: number | null;
  active: boolean;
}

/**
 * The final KL per dimension, largest first. A dimension is active by its A_u > 0.01 when that
 * was logged, else (older runs) by its KL > 0.01 nats, and `byCov` says which rule applied.
 */
export function finalSpectrum(
  matrix: KlMatrix,
  finalCov: ReadonlyMap<number, number>,
): { entries: SpectrumEntry[]; byCov: boolean } {
  const byCov = matrix.dims.length > 0 && matrix.dims.every((d) => finalCov.has(d));
  const entries: SpectrumEntry[] = [];
  matrix.dims.forEach((dim, r) => {
    const row = matrix.values[r];
    let kl: number | null = null;
    for (let c = row.length - 1; c >= 0 && kl === null; c--) kl = row[c];
    if (kl === null) return;
    const cov = finalCov.get(dim) ?? null;
    entries.push({ dim, kl, cov, active: byCov ? cov! > ACTIVE_THRESHOLD : kl > ACTIVE_THRESHOLD });
  });
  entries.sort((a, b) => b.kl - a.kl || a.dim - b.dim);
  return { entries, byCov };
}

/** The KL of each dimension at one evaluation step (for labelling the traversal of that step). */
export function klAtStep(matrix: KlMatrix, step: number): Map<number, number> {
  const out = new Map<number, number>();
  if (matrix.steps.length === 0) return out;
  // The evaluation at or before `step` (images and metrics of one evaluation share its step).
  let col = -1;
  for (let c = 0; c < matrix.steps.length; c++) if (matrix.steps[c] <= step) col = c;
  if (col === -1) col = 0;
  matrix.dims.forEach((d, r) => {
    const v = matrix.values[r][col];
    if (v !== null) out.set(d, v);
  });
  return out;
}

const VIRIDIS = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** Viridis at t in [0, 1] (five stops, linear between them). */
export function viridis(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [VIRIDIS[i], VIRIDIS[i + 1]];
  const c = a.map((v, k) => Math.round(v + (b[k] - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

/** Colour position of a KL value: sqrt scale, so small but non-zero KLs stand out from collapsed ones. */
export function klShade(value: number, max: number): number {
  return max > 0 ? Math.sqrt(Math.max(0, value) / max) : 0;
}
