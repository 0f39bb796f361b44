// The VQ-VAE's autoregressive code prior (deliverable 2 of issue #14): a first-order Markov chain
// over the P code positions, fitted by counting the training set's codes after (each evaluation
// of) training,
//   p(c_1 .. c_P) = p_1(c_1) prod_{p >= 2} p_p(c_p | c_{p-1}),
// with a table per position. p_1 is the counted frequency of each code at position 1; each row
// p_p(. | a) keeps the AR_SUCCESSORS most frequent next codes after code a with their counted
// frequencies, and spreads the rest of the row's mass (the successors not kept) over the codes not
// kept in proportion to their frequency at position p. With at most AR_SUCCESSORS distinct
// successors the row is exactly the counted conditional frequency; a code never seen at position
// p - 1 falls back to the position's marginal. Stored in (P - 1) K AR_SUCCESSORS x 2 + P K values.
// This is the "autoregressive prior over positions" of the paper in its simplest honest form (first
// order, not a PixelCNN): it captures which codes follow which, position by position.
import { CODE_PRIOR_SUCCESSORS } from '../../api/constants';

/** Successors kept per (position, previous code) row. */
export const AR_SUCCESSORS = CODE_PRIOR_SUCCESSORS;

export interface CodePriorTables {
  positions: number;
  codebookSize: number;
  /** Successors per row, T. */
  successors: number;
  /** Count of code k at position p over the training examples [P * K]. */
  marginal: Float64Array;
  /** The T most frequent next codes after code a at position p, most frequent first, -1 for none [(P - 1) * K * T]. */
  nextCode: Float64Array;
  /** Their counts [(P - 1) * K * T]. */
  nextCount: Float64Array;
}

/** Counts the codes of n training examples (codes [n * P], row-major) into the prior's tables. */
export function fitCodePrior(
  codes: ArrayLike<number>,
  n: number,
  positions: number,
  codebookSize: number,
  successors = AR_SUCCESSORS,
): CodePriorTables {
  const [p, k, t] = [positions, codebookSize, successors];
  if (codes.length !== n * p) throw new Error(`code prior: ${codes.length} codes are not ${n} x ${p} positions`);
  const marginal = new Float64Array(p * k);
  // Transition counts per row (position, previous code): sparse, the rows are mostly empty.
  const rows = new Map<number, Map<number, number>>();
  for (let i = 0; i < n; i++) {
    for (let pos = 0; pos < p; pos++) {
      const c = codes[i * p + pos];
      marginal[pos * k + c] += 1;
      if (pos === 0) continue;
      const row = (pos - 1) * k + codes[i * p + pos - 1];
      let next = rows.get(row);
      if (!next) rows.set(row, (next = new Map()));
      next.set(c, (next.get(c) ?? 0) + 1);
    }
  }
  const cells = Math.max(0, p - 1) * k * t;
  const nextCode = new Float64Array(cells).fill(-1);
  const nextCount = new Float64Array(cells);
  for (const [row, next] of rows) {
    // Most frequent first; ties: the lower code.
    const kept = [...next].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, t);
    kept.forEach(([c, count], j) => {
      nextCode[row * t + j] = c;
      nextCount[row * t + j] = count;
    });
  }
  return { positions: p, codebookSize: k, successors: t, marginal, nextCode, nextCount };
}

/** Whether the tables hold a fit (a model built before any evaluation, or restored from an older checkpoint, has none). */
export function isFitted(tables: CodePriorTables): boolean {
  for (let c = 0; c < tables.codebookSize; c++) if (tables.marginal[c] > 0) return true;
  return false;
}

/** p_1(c): the frequency of each code at the first position [K]. */
export function firstPositionProbabilities(tables: CodePriorTables): Float64Array {
  return normalized(tables.marginal.subarray(0, tables.codebookSize));
}

/** p_pos(c | previous): the distribution of the code at position pos >= 1 given the code before it [K]. */
export function conditionalProbabilities(tables: CodePriorTables, pos: number, previous: number): Float64Array {
  const { codebookSize: k, successors: t, marginal } = tables;
  if (pos < 1 || pos >= tables.positions) throw new Error(`code prior: no conditional at position ${pos}`);
  const rowTotal = marginal[(pos - 1) * k + previous];
  const here = marginal.subarray(pos * k, (pos + 1) * k);
  if (rowTotal === 0) return normalized(here);
  const out = new Float64Array(k);
  const base = ((pos - 1) * k + previous) * t;
  let keptMass = 0;
  for (let j = 0; j < t; j++) {
    const c = tables.nextCode[base + j];
    if (c < 0) break;
    out[c] = tables.nextCount[base + j] / rowTotal;
    keptMass += out[c];
  }
  const rest = 1 - keptMass;
  if (rest > 1e-12) {
    // The successors not kept: the row's remaining mass, in proportion to the position's marginal.
    let restMarginal = 0;
    for (let c = 0; c < k; c++) if (out[c] === 0) restMarginal += here[c];
    if (restMarginal > 0) for (let c = 0; c < k; c++) if (out[c] === 0) out[c] = (rest * here[c]) / restMarginal;
  }
  return out;
}

function normalized(counts: ArrayLike<number>): Float64Array {
  let total = 0;
  for (let c = 0; c < counts.length; c++) total += counts[c];
  return Float64Array.from(counts, (v) => (total > 0 ? v / total : 1 / counts.length));
}

/** The code where the distribution's CDF first passes u in [0, 1) (the last code for u at the top). */
export function inverseCdf(probabilities: ArrayLike<number>, u: number): number {
  let acc = 0;
  for (let c = 0; c < probabilities.length - 1; c++) {
    acc += probabilities[c];
    if (acc > u) return c;
  }
  return probabilities.length - 1;
}

/** The conditionals p_pos(. | previous), each computed once and shared by every code vector that asks for it. */
function cachedRows(tables: CodePriorTables): (pos: number, previous: number) => Float64Array {
  const cache = new Map<number, Float64Array>();
  return (pos, previous) => {
    const key = pos * tables.codebookSize + previous;
    let row = cache.get(key);
    if (!row) cache.set(key, (row = conditionalProbabilities(tables, pos, previous)));
    return row;
  };
}

/**
 * Ancestral sampling: codes [n * P] for the uniforms u [n * P] (one per position), position 1 from
 * p_1, each later one from its conditional given the code drawn before it.
 */
export function sampleFromPrior(tables: CodePriorTables, u: ArrayLike<number>, n: number): Int32Array {
  const p = tables.positions;
  const codes = new Int32Array(n * p);
  const first = firstPositionProbabilities(tables);
  const row = cachedRows(tables);
  for (let i = 0; i < n; i++) {
    codes[i * p] = inverseCdf(first, u[i * p]);
    for (let pos = 1; pos < p; pos++) codes[i * p + pos] = inverseCdf(row(pos, codes[i * p + pos - 1]), u[i * p + pos]);
  }
  return codes;
}

/**
 * Weight of the uniform distribution mixed into the prior for the bound test/elbo_code_prior: a
 * transition never seen in training gets probability >= CODE_PRIOR_UNIFORM_WEIGHT / K, not 0.
 */
export const CODE_PRIOR_UNIFORM_WEIGHT = 0.01;

/**
 * log p(c) of each of n code vectors (codes [n * P]) under the mixture
 * (1 - w) p_AR + w uniform(K) at every position; the bound log p(x) >= log p(x | z_q) + log p(z_q)
 * holds for any prior, the one-hot posterior making the KL exactly -log p(z_q).
 */
export function codeLogProb(
  tables: CodePriorTables,
  codes: ArrayLike<number>,
  n: number,
  weight = CODE_PRIOR_UNIFORM_WEIGHT,
): Float64Array {
  const [p, k] = [tables.positions, tables.codebookSize];
  const out = new Float64Array(n);
  const first = firstPositionProbabilities(tables);
  const row = cachedRows(tables);
  const mixed = (q: number) => Math.log((1 - weight) * q + weight / k);
  for (let i = 0; i < n; i++) {
    let sum = mixed(first[codes[i * p]]);
    for (let pos = 1; pos < p; pos++) sum += mixed(row(pos, codes[i * p + pos - 1])[codes[i * p + pos]]);
    out[i] = sum;
  }
  return out;
}
