// Generation's tfjs half, run in the bundle worker: a model rebuilt from a checkpoint file (read
// and verified once, here) draws prior samples or decodes a latent interpolation, returned as a PNG grid. tfjs loads
// there on first use, never on the main thread.
import type { RunConfig } from '../../api/config';
import type { BackendPreference } from '../../training/backend';
import { decodeCheckpoint } from '../../training/checkpoint';
import { encodeGrid, type GridImage } from '../../training/imageGrid';
import { evalTestPixels, inputShapeFor, loadRunDataset, splitSeedOf } from '../../training/runData';
import type { Dataset } from '../../data';
import { encode as encodePng } from 'fast-png';
import { ExchangeError, readVerifiedCheckpoint, type CheckpointRef } from './bundle';

export interface RenderModel {
  config: RunConfig;
  /** Read and checked against its recorded sha256 here, once (readVerifiedCheckpoint). */
  checkpoint: CheckpointRef;
  backend: BackendPreference;
}

type Neural = typeof import('../../training/checkpointModel');

async function withModel<T>(
  { config, checkpoint, backend }: RenderModel,
  fn: (
    neural: Neural,
    model: import('../../training/checkpointModel').CheckpointVaeModel,
    shape: [number, number, number],
  ) => T,
): Promise<T & { backend: string }> {
  const content = decodeCheckpoint(readVerifiedCheckpoint(checkpoint), checkpoint.path);
  const shape = await inputShapeFor(config, content.model);
  const neural = await import('../../training/checkpointModel');
  const info = await neural.ensureBackend(backend);
  const model = neural.modelFromCheckpoint(config, shape, content);
  try {
    return { ...fn(neural, model, shape), backend: info.name };
  } finally {
    model.dispose();
  }
}

/** `count` prior samples (seeded) as a grid of `columns`. */
export function renderSamples(
  source: RenderModel,
  options: { count: number; seed: number; columns: number },
): Promise<GridImage & { backend: string }> {
  return withModel(source, (neural, model, [h, w]) =>
    encodeGrid(neural.priorSamples(model, options.count, options.seed), options.count, h, w, options.columns),
  );
}

/** The path between two test images (by index into the run's test split) in latent space, ends included. */
export async function renderInterpolation(
  source: RenderModel,
  options: { from: number; to: number; steps: number; datasetsDir?: string },
): Promise<GridImage & { backend: string }> {
  const { config } = source;
  const data = await loadRunDataset(config, options.datasetsDir).catch((error: Error) => {
    throw new ExchangeError(
      409,
      `Interpolation needs the run's test images, but data set ${config.data.dataset} cannot be loaded here: ${error.message}`,
    );
  });
  for (const [name, index] of [
    ['from', options.from],
    ['to', options.to],
  ] as const) {
    if (!Number.isInteger(index) || index < 0 || index >= data.test.count) {
      throw new ExchangeError(400, `${name} must be a test image index from 0 to ${data.test.count - 1}, got ${index}`);
    }
  }
  const test = evalTestPixels(config, data);
  const dim = data.height * data.width * data.channels;
  const image = (i: number) => test.slice(i * dim, (i + 1) * dim);
  const count = options.steps + 2;
  return withModel(source, (neural, model, [h, w]) =>
    encodeGrid(neural.interpolate(model, image(options.from), image(options.to), options.steps), count, h, w, count),
  );
}

/** The last data sets a hover asked for: moving along the scatter must not reload MNIST per point. */
const testSets = new Map<string, Promise<Dataset>>();
const TEST_SETS_KEPT = 2;

/**
 * Test example `index` of the run's test split as a PNG of its grey levels (before binarization),
 * with its label: what the latent scatter's hover shows for a point (issue #15).
 */
export async function renderTestImage(
  config: RunConfig,
  index: number,
  datasetsDir?: string,
): Promise<{ png: Uint8Array; width: number; height: number; label: number | null }> {
  const key = JSON.stringify([config.data, splitSeedOf(config), datasetsDir ?? null]);
  let loading = testSets.get(key);
  if (!loading) {
    loading = loadRunDataset(config, datasetsDir);
    testSets.set(key, loading);
    loading.catch(() => testSets.delete(key));
    while (testSets.size > TEST_SETS_KEPT) testSets.delete(testSets.keys().next().value!);
  }
  const data = await loading.catch((error: Error) => {
    throw new ExchangeError(
      409,
      `The run's test images are not available: data set ${config.data.dataset} cannot be loaded here: ${error.message}`,
    );
  });
  if (!Number.isInteger(index) || index < 0 || index >= data.test.count)
    throw new ExchangeError(400, `index must be a test image index from 0 to ${data.test.count - 1}, got ${index}`);
  const { height, width, channels } = data;
  const size = height * width * channels;
  const pixels = data.test.pixels.subarray(index * size, (index + 1) * size);
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = Math.round(Math.min(1, Math.max(0, pixels[i])) * 255);
  const png = encodePng({
    width,
    height,
    data: bytes,
    channels: channels === 3 || channels === 4 ? channels : 1,
    depth: 8,
  });
  return { png, width, height, label: data.test.labels ? data.test.labels[index] : null };
}

/** The sha256 of the data a run trains on, as the trainer records it (loads the data set). */
export async function datasetHash(config: RunConfig, datasetsDir?: string): Promise<string> {
  return (await loadRunDataset(config, datasetsDir)).hash;
}
