// Filtering, sorting and grouping of the runs table. Pure functions over RunSummary[].
import type { RunStatus, RunSummary } from '@api/contract';
import { flattenConfig } from './apiConstants';
import { progressFraction } from './chartData';
import { formatConfigValue, formatValue } from './format';
import { betaOf, latentSizesOf, latentText } from '@api/modelReads';

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
/** A fixed column, or any final metric ('final:test/kl') or config key ('config:model.beta'). */
export type SortKey = (typeof SORT_KEYS)[number] | `final:${string}` | `config:${string}`;
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

/** Latent size shown in the table: the ladder's per-layer sizes, a VQ-VAE's positions x code size, else latentDim. */
export function latentLabel(run: RunSummary): string {
  return latentText(run.config.model);
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
  beta: (r) => betaOf(r.config.model),
  latentDim: (r) => latentSizesOf(r.config.model)[0],
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

function valueOf(key: SortKey): (r: RunSummary) => string | number | null {
  if (key.startsWith('final:')) {
    const metric = key.slice('final:'.length);
    return (r) => finite(r.final[metric]);
  }
  if (key.startsWith('config:')) {
    const path = key.slice('config:'.length);
    return (r) => {
      const v = flattenConfig(r.config)[path];
      return typeof v === 'number' || typeof v === 'string' ? v : v === undefined ? null : JSON.stringify(v);
    };
  }
  return sortValue[key as (typeof SORT_KEYS)[number]];
}

/** Sorts by one column; missing values always last; ties broken by newest first, then id. */
export function sortRuns(runs: readonly RunSummary[], key: SortKey, dir: SortDir): RunSummary[] {
  const value = valueOf(key);
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

/** A column of the runs table after the run's name (which is always shown, in full). */
export interface ColumnDef {
  key: SortKey;
  label: string;
  title?: string;
  num?: boolean;
}

/** The fixed columns, in the order the chooser lists them. */
export const FIXED_COLUMNS: ColumnDef[] = [
  { key: 'status', label: 'Status' },
  { key: 'testElbo', label: 'Test ELBO', title: 'Test ELBO in nats per example (higher is better)', num: true },
  {
    key: 'testIwae',
    label: 'Test IWAE',
    title: 'Test log-likelihood estimate (IWAE bound, nats; higher is better)',
    num: true,
  },
  { key: 'progress', label: 'Progress' },
  { key: 'experiment', label: 'Experiment' },
  { key: 'model', label: 'Model' },
  { key: 'dataset', label: 'Dataset' },
  { key: 'beta', label: 'β', title: 'KL weight beta', num: true },
  { key: 'latentDim', label: 'z', title: 'Latent size', num: true },
  { key: 'lr', label: 'lr', title: 'Learning rate', num: true },
  { key: 'seed', label: 'Seed', num: true },
];

/**
 * Shown until the user chooses: the two test bounds come right after the status, so that a
 * narrow window (1,024 px) still shows the name and two metrics before anything scrolls.
 */
export const DEFAULT_COLUMNS: SortKey[] = FIXED_COLUMNS.map((c) => c.key);

export function columnDef(key: SortKey): ColumnDef {
  const fixed = FIXED_COLUMNS.find((c) => c.key === key);
  if (fixed) return fixed;
  if (key.startsWith('final:')) return { key, label: key.slice('final:'.length), num: true, title: 'Final value' };
  const path = key.slice('config:'.length);
  return { key, label: path, title: `Config ${path}` };
}

/** What the chooser offers beyond the fixed columns: every final metric and config key of these runs. */
export function columnChoices(runs: readonly RunSummary[]): { finals: SortKey[]; configs: SortKey[] } {
  const finals = new Set<string>();
  const configs = new Set<string>();
  for (const r of runs) {
    for (const m of Object.keys(r.final)) finals.add(m);
    for (const k of Object.keys(flattenConfig(r.config))) configs.add(k);
  }
  return {
    finals: [...finals].sort().map((m) => `final:${m}` as const),
    configs: [...configs].sort().map((k) => `config:${k}` as const),
  };
}

/** The cell text of a final-metric or config column. */
export function dynamicCell(run: RunSummary, key: SortKey): string {
  if (key.startsWith('final:')) {
    const v = run.final[key.slice('final:'.length)];
    return formatValue(v);
  }
  return formatConfigValue(flattenConfig(run.config)[key.slice('config:'.length)]);
}
