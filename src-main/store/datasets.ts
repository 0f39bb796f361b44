// Imported data sets: the record of each file copied into the data folder (its id, sha256 and
// shape). The files themselves belong to the caller (workbench/datasets.ts).
import type { StoreContext } from './context';
import { requireText } from './context';
import { InvalidInputError } from './errors';

export const DATASET_FORMATS = ['idx', 'idx.gz', 'npy'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export interface StoredDataset {
  id: string;
  name: string;
  format: DatasetFormat;
  size: number;
  sha256: string;
  count: number;
  height: number;
  width: number;
  channels: number;
  createdAt: number;
}

export type NewDataset = Omit<StoredDataset, 'createdAt'>;

const COLUMNS = 'id, name, format, size, sha256, count, height, width, channels, created_at AS createdAt';

export class Datasets {
  constructor(private readonly ctx: StoreContext) {}

  add(dataset: NewDataset): StoredDataset {
    const name = requireText(dataset.name, 'Data set name');
    if (!/^ds-[0-9a-f]{12}$/.test(dataset.id))
      throw new InvalidInputError(`Data set id must be ds- and 12 hex digits, got '${dataset.id}'.`);
    if (!(DATASET_FORMATS as readonly string[]).includes(dataset.format))
      throw new InvalidInputError(`Data set format must be one of ${DATASET_FORMATS.join(', ')}.`);
    return this.ctx.write(() => {
      this.ctx
        .sql(
          'INSERT INTO datasets (id, name, format, size, sha256, count, height, width, channels, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          dataset.id,
          name,
          dataset.format,
          dataset.size,
          dataset.sha256,
          dataset.count,
          dataset.height,
          dataset.width,
          dataset.channels,
          Date.now(),
        );
      return this.get(dataset.id)!;
    });
  }

  get(id: string): StoredDataset | null {
    return (this.ctx.sql(`SELECT ${COLUMNS} FROM datasets WHERE id = ?`).get(id) as StoredDataset) ?? null;
  }

  bySha256(sha256: string): StoredDataset | null {
    return (this.ctx.sql(`SELECT ${COLUMNS} FROM datasets WHERE sha256 = ?`).get(sha256) as StoredDataset) ?? null;
  }

  list(): StoredDataset[] {
    return this.ctx.sql(`SELECT ${COLUMNS} FROM datasets ORDER BY created_at, id`).all() as StoredDataset[];
  }
}
