// Views across runs: what distinguishes runs (the config keys whose values differ, e.g. the swept
// ones), the rate-distortion points (final test KL against final test reconstruction, one per
// run), and the axes of parallel coordinates (differing hyperparameters, then final metrics).
import type { RunSummary } from '@api/contract';
import { configDiff, flatRunConfig } from './configDiff';
import { formatConfigValue, formatValue } from './format';

/** Keys that differ between almost any two runs without saying what was compared. */
const NOISE_KEYS = new Set(['train.backend']);

/** Config keys (sorted) whose values are not the same in every run. */
export function differingKeys(runs: readonly Pick<RunSummary, 'config'>[]): string[] {
  if (runs.length < 2) return [];
  const differing = configDiff(runs.map((r) => r.config))
    .rows.map((row) => row.key)
    .filter((k) => !NOISE_KEYS.has(k));
  // A plain VAE is a beta-VAE with beta = 1 (a beta sweep makes the others 'beta-vae'): the kind
  // says nothing the beta does not.
  const impliedKind =
    differing.includes('model.beta') &&
    runs.every((r) => r.config.model.kind === 'vae' || r.config.model.kind === 'beta-vae');
  return impliedKind ? differing.filter((k) => k !== 'model.kind') : differing;
}

/** 'model.beta=16 train.seed=2': the run's values of the distinguishing keys, in full. */
export function distinguishingLabel(run: Pick<RunSummary, 'config'>, keys: readonly string[]): string {
  const flat = flatRunConfig(run.config);
  return keys.map((k) => `${k}=${formatConfigValue(flat[k])}`).join(' ');
}

/**
 * A run's name with the distinguishing values it does not already spell out: a sweep run named
 * 'betas model.beta=4' stays as it is; 'vae seed 1' among runs differing by beta becomes
 * 'vae seed 1 · model.beta=4'.
 */
export function displayName(run: Pick<RunSummary, 'name' | 'config'>, keys: readonly string[]): string {
  const flat = flatRunConfig(run.config);
  const missing = keys.filter((k) => !run.name.includes(`${k}=${formatConfigValue(flat[k])}`));
  return missing.length === 0 ? run.name : `${run.name} · ${distinguishingLabel(run, missing)}`;
}

export interface RdPoint {
  runId: string;
  /** Rate: the final test KL (nats). */
  rate: number;
  /** Distortion: the final test reconstruction term, -E_q[log p(x|z)] (nats). */
  distortion: number;
  label: string;
}

/** One point per run that has both final values (Alemi et al. 2018, "Fixing a broken ELBO"). */
export function rateDistortion(runs: readonly RunSummary[], keys: readonly string[]): RdPoint[] {
  const out: RdPoint[] = [];
  for (const r of runs) {
    const rate = r.final['test/kl'];
    const distortion = r.final['test/recon'];
    if (!Number.isFinite(rate) || !Number.isFinite(distortion)) continue;
    out.push({ runId: r.id, rate, distortion, label: keys.length > 0 ? distinguishingLabel(r, keys) : r.name });
  }
  return out;
}

/** Final metrics shown as parallel-coordinate axes, when the runs have them. */
export const PARALLEL_METRICS = ['test/elbo', 'test/iwae', 'test/recon', 'test/kl', 'test/active_units'];

export interface ParallelAxis {
  key: string;
  kind: 'number' | 'category';
  /** Per run (in the order given): the axis position in [0, 1] (0 bottom), null when missing. */
  positions: (number | null)[];
  /** Per run: the value as shown. */
  labels: string[];
  ticks: { position: number; label: string }[];
}

export function parallelAxes(runs: readonly RunSummary[], keys: readonly string[]): ParallelAxis[] {
  const axes: ParallelAxis[] = [];
  const flat = runs.map((r) => flatRunConfig(r.config));
  const columns: { key: string; values: unknown[] }[] = [
    ...keys.map((k) => ({ key: k, values: flat.map((f) => f[k]) })),
    ...PARALLEL_METRICS.filter((m) => runs.some((r) => Number.isFinite(r.final[m]))).map((m) => ({
      key: m,
      values: runs.map((r) => r.final[m]),
    })),
  ];
  for (const { key, values } of columns) {
    const numeric = values.every((v) => v === undefined || (typeof v === 'number' && Number.isFinite(v)));
    if (numeric) {
      const nums = values.filter((v): v is number => typeof v === 'number');
      const lo = Math.min(...nums);
      const hi = Math.max(...nums);
      const pos = (v: number) => (hi === lo ? 0.5 : (v - lo) / (hi - lo));
      axes.push({
        key,
        kind: 'number',
        positions: values.map((v) => (typeof v === 'number' ? pos(v) : null)),
        labels: values.map((v) => (typeof v === 'number' ? formatValue(v) : '–')),
        ticks:
          nums.length === 0 ? [] : [...new Set([lo, hi])].map((v) => ({ position: pos(v), label: formatValue(v) })),
      });
    } else {
      const labels = values.map((v) => formatConfigValue(v));
      const categories = [...new Set(labels)].sort();
      const pos = (l: string) => (categories.length === 1 ? 0.5 : categories.indexOf(l) / (categories.length - 1));
      axes.push({
        key,
        kind: 'category',
        positions: labels.map(pos),
        labels,
        ticks: categories.map((c) => ({ position: pos(c), label: c })),
      });
    }
  }
  return axes;
}
