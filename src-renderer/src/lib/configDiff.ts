// Which config keys differ between runs: flattened dot paths, values compared structurally. The
// model's keys follow its kind's schema (MODEL_FIELDS): a key another kind has, or one that does not
// apply (flow steps with a Gaussian posterior), reads as absent ('–'), and a kind's fixed values
// count (a plain VAE's beta is 1 beside beta-VAEs).
import type { RunConfig } from '@api/config';
import { flattenConfig } from './apiConstants';
import { configKeyApplies } from './configApplies';
import { MODEL_FIELDS } from './modelFields.generated';

export interface DiffRow {
  key: string;
  values: unknown[];
}

/** Each config's flattening: a run's config object never changes, and run labels read it on every live update. */
const flattened = new WeakMap<object, Readonly<Record<string, unknown>>>();

/**
 * A config as the diff and the run labels read it: dot paths of the keys that apply, with the
 * kind's fixed values. Computed once per config object; the result must not be changed.
 */
export function flatRunConfig(config: unknown): Readonly<Record<string, unknown>> {
  if (config === null || typeof config !== 'object') return flattenConfig(config);
  let flat = flattened.get(config);
  if (!flat) {
    flat = flattenApplicable(config);
    flattened.set(config, flat);
  }
  return flat;
}

function flattenApplicable(config: object): Record<string, unknown> {
  const flat = flattenConfig(config);
  const run = config as RunConfig | null;
  const kind = MODEL_FIELDS[run?.model?.kind as RunConfig['model']['kind']];
  if (!kind) return flat;
  for (const [key, value] of Object.entries(kind.fixed)) flat[`model.${key}`] ??= value;
  for (const path of Object.keys(flat)) {
    const [section, key] = path.split('.');
    if (key !== undefined && key in (run![section as keyof RunConfig] ?? {}) && !configKeyApplies(run!, section, key))
      delete flat[path];
  }
  return flat;
}

/** The keys (sorted) whose values are not the same in every config, with each config's value. */
export function configDiff(configs: readonly unknown[]): { rows: DiffRow[]; sameCount: number } {
  const flat = configs.map((c) => flatRunConfig(c));
  const keys = new Set<string>();
  for (const f of flat) for (const k of Object.keys(f)) keys.add(k);
  const rows: DiffRow[] = [];
  let sameCount = 0;
  for (const key of [...keys].sort()) {
    const values = flat.map((f) => f[key]);
    // Absent and null read the same ('–': a plain VAE has no capacity, a beta-VAE's is off).
    const first = JSON.stringify(values[0] ?? null);
    if (values.every((v) => JSON.stringify(v ?? null) === first)) sameCount++;
    else rows.push({ key, values });
  }
  return { rows, sameCount };
}
