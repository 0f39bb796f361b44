// Which config keys differ between runs: flattened dot paths, values compared structurally.
import { flattenConfig } from './apiConstants';

export interface DiffRow {
  key: string;
  values: unknown[];
}

/** The keys (sorted) whose values are not the same in every config, with each config's value. */
export function configDiff(configs: readonly unknown[]): { rows: DiffRow[]; sameCount: number } {
  const flat = configs.map((c) => flattenConfig(c));
  const keys = new Set<string>();
  for (const f of flat) for (const k of Object.keys(f)) keys.add(k);
  const rows: DiffRow[] = [];
  let sameCount = 0;
  for (const key of [...keys].sort()) {
    const values = flat.map((f) => f[key]);
    const first = JSON.stringify(values[0]);
    if (values.every((v) => JSON.stringify(v) === first)) sameCount++;
    else rows.push({ key, values });
  }
  return { rows, sameCount };
}
