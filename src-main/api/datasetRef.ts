// How a run config names its data set: a built-in ('mnist', 'fashion-mnist', 'shapes'), a data set
// imported into the data folder ('dataset:ds-0123456789ab'), or a path (the CLI only: it runs as
// its user). Browser mode and the app's window take the first two, never a path on the machine.
import { BUILTIN_DATASETS } from './constants';

export const IMPORTED_DATASET_PREFIX = 'dataset:';
const IMPORTED_ID = /^ds-[0-9a-f]{12}$/;

export type DatasetRef =
  | { kind: 'builtin'; name: (typeof BUILTIN_DATASETS)[number] }
  | { kind: 'imported'; id: string }
  | { kind: 'path'; path: string };

export function parseDatasetRef(dataset: string): DatasetRef {
  if ((BUILTIN_DATASETS as readonly string[]).includes(dataset))
    return { kind: 'builtin', name: dataset as (typeof BUILTIN_DATASETS)[number] };
  if (dataset.startsWith(IMPORTED_DATASET_PREFIX)) {
    const id = dataset.slice(IMPORTED_DATASET_PREFIX.length);
    if (IMPORTED_ID.test(id)) return { kind: 'imported', id };
  }
  return { kind: 'path', path: dataset };
}

/** The config value that refers to an imported data set. */
export function importedDatasetRef(id: string): string {
  return `${IMPORTED_DATASET_PREFIX}${id}`;
}

/** True for a reference a remote shell may use (a built-in or an imported data set). */
export function isConfinedDatasetRef(dataset: string): boolean {
  return parseDatasetRef(dataset).kind !== 'path';
}
