// Data sets by id, and the admission of a run config (issue #13). A file is imported once into the
// data folder (read bounded, decoded in full, hashed, recorded), and browser mode and the app's
// window refer to it as 'dataset:<id>', never by a path on the machine. Before a run row is created
// its data set must load (or, imported, be on record) and its config must fit the memory budget
// on the data's real input shape, so a bad data set leaves no failed run behind.
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { type RunConfig } from '../api/config';
import { ApiError } from '../api/contract';
import { BUILTIN_INPUT_SHAPES, costProblem } from '../api/cost';
import { importedDatasetRef, parseDatasetRef } from '../api/datasetRef';
import { DatasetError } from '../data';
import { fashionMnistFolder, isIdxFolder, idxDeclaredSize } from '../data/idx';
import { importedDatasetFile, loadImportedPool } from '../data/index';
import { MAX_DATA_FILE_BYTES, MAX_IMAGE_PIXELS, readBoundedFile } from '../data/files';
import type { DatasetFormat, StoredDataset } from '../store';
import type { RemoteStore } from './storeThread';
import { loadRunDataset } from '../training/runData';

/** An imported data set as the API shows it; `ref` is what a run config's data.dataset takes. */
export interface DatasetInfo extends StoredDataset {
  ref: string;
}

export function datasetInfo(stored: StoredDataset): DatasetInfo {
  return { ...stored, ref: importedDatasetRef(stored.id) };
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

function detectFormat(bytes: Uint8Array, file: string): DatasetFormat {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return 'idx.gz';
  if (NPY_MAGIC.every((b, i) => bytes[i] === b)) return 'npy';
  const declared = idxDeclaredSize(bytes.subarray(0, Math.min(bytes.length, 4 + 4 * 255)));
  if (typeof declared === 'number') return 'idx';
  throw new DatasetError(`${file}: not an IDX file (plain or .gz) nor a .npy file; only those can be imported`);
}

/** A display name from the file name: printable, at most 200 characters. */
function cleanName(name: string): string {
  const clean = name
    .replace(/[^\p{L}\p{N} ._()-]+/gu, '_')
    .trim()
    .slice(0, 200);
  return clean || 'data set';
}

/**
 * Copies a data file into `datasetsDir` as <id>.<format> and records it; the same bytes imported
 * twice give the same record. The copy is decoded in full before it is recorded: a file that does
 * not load leaves nothing behind.
 */
export async function importDatasetFile(
  store: RemoteStore,
  datasetsDir: string,
  path: string,
  name?: string,
): Promise<DatasetInfo> {
  let bytes: Buffer;
  try {
    bytes = readBoundedFile(path, MAX_DATA_FILE_BYTES, 'data set file');
  } catch (error) {
    throw new ApiError(400, (error as Error).message, 'path');
  }
  try {
    const format = detectFormat(bytes, path);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const existing = await store.datasets.bySha256(sha256);
    if (existing) return datasetInfo(existing);
    const id = `ds-${sha256.slice(0, 12)}`;
    mkdirSync(datasetsDir, { recursive: true });
    const final = join(datasetsDir, `${id}.${format}`);
    const temporary = join(datasetsDir, `.tmp-${process.pid}-${Date.now()}-${id}.${format}`);
    writeFileSync(temporary, bytes);
    try {
      const pool = await loadImportedPool(temporary);
      const pixels = pool.height * pool.width * pool.channels;
      if (pool.count < 1 || pixels < 1 || pixels > MAX_IMAGE_PIXELS)
        throw new DatasetError(
          `${path}: ${pool.count} images of ${pool.height}x${pool.width}; a data set needs at least one image of at most ${MAX_IMAGE_PIXELS} pixels`,
        );
      renameSync(temporary, final);
      const stored = await store.datasets.add({
        id,
        name: cleanName(name ?? basename(path)),
        format,
        size: bytes.length,
        sha256,
        count: pool.count,
        height: pool.height,
        width: pool.width,
        channels: pool.channels,
      });
      return datasetInfo(stored);
    } catch (error) {
      rmSync(temporary, { force: true });
      if (!(await store.datasets.get(id))) rmSync(final, { force: true });
      throw error;
    }
  } catch (error) {
    if (error instanceof DatasetError) throw new ApiError(400, error.message.split(path).join(name ?? path), 'path');
    throw error;
  }
}

/**
 * Checks, before a run row exists, that the config's data set is there and loads, and that the
 * config fits the memory budget on the data's real input shape. Built-ins are known; an imported
 * data set is on record (it was decoded in full when imported); a path (the CLI) is loaded in full,
 * bounded. Throws ApiError 400 naming config.data.dataset or the cost.
 */
export async function admitRunConfig(config: RunConfig, store: RemoteStore, datasetsDir: string): Promise<void> {
  await admitRunConfigs([config], store, datasetsDir);
}

/**
 * admitRunConfig for the members of a sweep: configs naming the same data set (and sizes) load it
 * once; each config is costed on its shape.
 */
export async function admitRunConfigs(configs: RunConfig[], store: RemoteStore, datasetsDir: string): Promise<void> {
  const shapes = new Map<string, [number, number, number]>();
  for (const config of configs) {
    const key = JSON.stringify([config.data, config.train.seed]);
    let inputShape = shapes.get(key);
    if (!inputShape) {
      inputShape = await admittedInputShape(config, store, datasetsDir);
      shapes.set(key, inputShape);
    }
    const cost = costProblem(config, inputShape);
    if (cost) throw new ApiError(400, `Invalid run config: train.batchSize: ${cost}`, 'config.train.batchSize');
  }
}

/** The input shape of the config's data set once it is known to load; ApiError 400 otherwise. */
async function admittedInputShape(
  config: RunConfig,
  store: RemoteStore,
  datasetsDir: string,
): Promise<[number, number, number]> {
  const ref = parseDatasetRef(config.data.dataset);
  const field = 'config.data.dataset';
  let inputShape: [number, number, number];
  try {
    if (ref.kind === 'builtin') {
      inputShape = BUILTIN_INPUT_SHAPES[ref.name];
      if (ref.name === 'fashion-mnist') {
        const folder = fashionMnistFolder();
        if (!existsSync(folder) || !isIdxFolder(folder))
          throw new DatasetError(
            `Fashion-MNIST not found in ${folder}: install Debian's dataset-fashion-mnist package or set VAE_WORKBENCH_FASHION_MNIST`,
          );
      }
    } else if (ref.kind === 'imported') {
      const stored = await store.datasets.get(ref.id);
      if (!stored)
        throw new DatasetError(
          `Data set '${config.data.dataset}' is not imported here; import its file first (importDataset)`,
        );
      importedDatasetFile(datasetsDir, ref.id); // the file is still there
      const wanted = config.data.trainSize + config.data.testSize;
      if (wanted > stored.count)
        throw new DatasetError(
          `Data set '${stored.name}' (${config.data.dataset}) has ${stored.count} examples but trainSize + testSize asks for ${wanted}`,
        );
      inputShape = [stored.height, stored.width, stored.channels];
    } else {
      // Loaded exactly as the trainer loads it (training/runData.ts).
      const data = await loadRunDataset(config, datasetsDir);
      inputShape = [data.height, data.width, data.channels];
    }
  } catch (error) {
    if (error instanceof DatasetError) throw new ApiError(400, error.message, field);
    throw error;
  }
  return inputShape;
}
