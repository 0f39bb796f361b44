// Filtering, sorting and grouping of the runs table. Pure functions over RunSummary[].
import type { RunStatus, RunSummary } from '@api/contract';
import { progressFraction } from './chartData';

export const SORT_KEYS = [
  'name',
  'experiment',
  'status',
  'model',
  'dataset',
  'beta',
  'latentDim',
  'lr',
  'seed',
  'testElbo',
  'testIwae',
  'progress',
  'createdAt',
] as const;
export type SortKey = (typeof SORT_KEYS)[number];
export type SortDir = 1 | -1;

export interface RunFilters {
  /** Free text matched against name, id, experiment, model, dataset and tags. */
  text: string;
  status: RunStatus | '';
  model: string;
  dataset: string;
  /** An experiment name, NO_EXPERIMENT for runs without one, or '' for any. */
  experiment: string;
  tag: string;
}

export const NO_EXPERIMENT = '(none)';

export function emptyFilters(): RunFilters {
  return { text: '', status: '', model: '', dataset: '', experiment: '', tag: '' };
}

export function isFiltering(f: RunFilters): boolean {
  return (
    f.text.trim() !== '' || f.status !== '' || f.model !== '' || f.dataset !== '' || f.experiment !== '' || f.tag !== ''
  );
}

/** Latent size shown in the table: the ladder's per-layer sizes, else latentDim. */
export function latentLabel(run: RunSummary): string {
  return run.modelKind === 'ladder' ? run.config.model.ladderLatentDims.join(',') : String(run.config.model.latentDim);
}

export function filterRuns(runs: readonly RunSummary[], f: RunFilters): RunSummary[] {
  if (!isFiltering(f)) return runs.slice();
  const words = f.text.trim().toLowerCase().split(/\s+/).filter(Boolean);
  return runs.filter((r) => {
    if (f.status && r.status !== f.status) return false;
    if (f.model && r.modelKind !== f.model) return false;
    if (f.dataset && r.dataset !== f.dataset) return false;
    if (f.experiment && (r.experiment ?? NO_EXPERIMENT) !== f.experiment) return false;
    if (f.tag && !r.tags.includes(f.tag)) return false;
    if (words.length > 0) {
      const haystack = [r.name, r.id, r.experiment ?? '', r.modelKind, r.dataset, r.status, ...r.tags]
        .join(' ')
        .toLowerCase();
      if (!words.every((w) => haystack.includes(w))) return false;
    }
    return true;
  });
}

const sortValue: Record<SortKey, (r: RunSummary) => string | number | null> = {
  name: (r) => r.name.toLowerCase(),
  experiment: (r) => r.experiment?.toLowerCase() ?? null,
  status: (r) => r.status,
  model: (r) => r.modelKind,
  dataset: (r) => r.dataset.toLowerCase(),
  beta: (r) => r.config.model.beta,
  latentDim: (r) => (r.modelKind === 'ladder' ? r.config.model.ladderLatentDims[0] : r.config.model.latentDim),
  lr: (r) => r.config.train.lr,
  seed: (r) => r.seed,
  testElbo: (r) => finite(r.final['test/elbo']),
  testIwae: (r) => finite(r.final['test/iwae']),
  progress: (r) => progressFraction(r.step, r.totalSteps),
  createdAt: (r) => r.createdAt,
};

function finite(v: number | undefined): number | null {
  return v === undefined || !Number.isFinite(v) ? null : v;
}

/** Sorts by one column; missing values always last; ties broken by newest first, then id. */
export function sortRuns(runs: readonly RunSummary[], key: SortKey, dir: SortDir): RunSummary[] {
  const value = sortValue[key];
  const keyed = runs.map((run) => ({ run, v: value(run) }));
  keyed.sort((a, b) => {
    if (a.v === null || b.v === null) {
      if (a.v !== b.v) return a.v === null ? 1 : -1;
    } else if (a.v !== b.v) {
      return (a.v < b.v ? -1 : 1) * dir;
    }
    if (a.run.createdAt !== b.run.createdAt) return b.run.createdAt - a.run.createdAt;
    return a.run.id < b.run.id ? -1 : a.run.id > b.run.id ? 1 : 0;
  });
  return keyed.map((k) => k.run);
}

export interface RunGroup {
  experiment: string;
  runs: RunSummary[];
}

/** Groups sorted runs by experiment, keeping the order in which each experiment first appears. */
export function groupByExperiment(runs: readonly RunSummary[]): RunGroup[] {
  const groups = new Map<string, RunSummary[]>();
  for (const r of runs) {
    const key = r.experiment ?? NO_EXPERIMENT;
    const list = groups.get(key);
    if (list) list.push(r);
    else groups.set(key, [r]);
  }
  return [...groups].map(([experiment, list]) => ({ experiment, runs: list }));
}

/** Distinct values for the filter menus. */
export function filterOptions(runs: readonly RunSummary[]): {
  models: string[];
  datasets: string[];
  experiments: string[];
  tags: string[];
} {
  const models = new Set<string>();
  const datasets = new Set<string>();
  const experiments = new Set<string>();
  const tags = new Set<string>();
  for (const r of runs) {
    models.add(r.modelKind);
    datasets.add(r.dataset);
    experiments.add(r.experiment ?? NO_EXPERIMENT);
    for (const t of r.tags) tags.add(t);
  }
  const sorted = (s: Set<string>) => [...s].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { models: sorted(models), datasets: sorted(datasets), experiments: sorted(experiments), tags: sorted(tags) };
}

/** Line colours, in the order they are handed out to newly selected runs. */
export const PALETTE = [
  '#1f77b4',
  '#ff7f0e',
  '#2ca02c',
  '#d62728',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#bcbd22',
  '#7f7f7f',
  '#393b79',
  '#ad494a',
  '#637939',
  '#8c6d31',
  '#7b4173',
  '#3182bd',
];

/** The palette colour least used according to `uses` (colour -> count), first in palette order on ties. */
export function pickColor(uses: ReadonlyMap<string, number>): string {
  let best = PALETTE[0];
  let bestUses = uses.get(best) ?? 0;
  for (const c of PALETTE) {
    const n = uses.get(c) ?? 0;
    if (n < bestUses) {
      best = c;
      bestUses = n;
    }
  }
  return best;
}
