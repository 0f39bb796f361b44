// Generation from any checkpoint of a run, in this process's tfjs (loaded on first use): prior
// samples as a PNG grid, and a latent interpolation between two test images as a PNG strip.
import { PRIOR_GRID_SEED } from '../../training/seeds';
import { encodeGrid, type GridImage } from '../../training/imageGrid';
import {
  loadNeural,
  readCheckpoint,
  selectCheckpoint,
  ExchangeError,
  type CheckpointChoice,
  type ExchangeContext,
} from './common';
import { evalTestPixels, inputShapeFor, loadRunDataset } from '../../training/runData';

export interface GeneratedImage extends GridImage {
  runId: string;
  checkpointStep: number;
  /** Images in the grid. */
  count: number;
  columns: number;
  backend: string;
}

export interface SampleOptions {
  checkpoint?: CheckpointChoice;
  /** Number of prior samples (default 64). */
  count?: number;
  /** Seed of the prior draws (default: the trainer's fixed grid seed, so 64 samples match its samples grid cell by cell). */
  seed?: number;
  /** Grid columns (default ceil(sqrt(count))). */
  columns?: number;
}

export interface InterpolateOptions {
  checkpoint?: CheckpointChoice;
  /** Indices into the run's test split (as the trainer evaluates it). */
  from: number;
  to: number;
  /** Decoded points on the path, ends included (default 10). */
  steps?: number;
}

async function withModel<T>(
  ctx: ExchangeContext,
  runId: string,
  choice: CheckpointChoice | undefined,
  fn: (
    neural: Awaited<ReturnType<typeof loadNeural>>,
    model: import('../../training/checkpointModel').CheckpointVaeModel,
    info: { runId: string; step: number; shape: [number, number, number]; backend: string },
  ) => T | Promise<T>,
): Promise<T> {
  const { store } = ctx;
  const run = await store.runs.require(await store.runs.resolveId(runId));
  const checkpoint = await selectCheckpoint(store, run, choice ?? 'latest');
  const { content } = await readCheckpoint(checkpoint);
  const shape = await inputShapeFor(run.config, content.model);
  const neural = await loadNeural();
  const backend = await neural.ensureBackend(ctx.backend ?? 'auto');
  const model = neural.modelFromCheckpoint(run.config, shape, content);
  try {
    return await fn(neural, model, { runId: run.id, step: checkpoint.step, shape, backend: backend.name });
  } finally {
    model.dispose();
  }
}

export function generateSamples(
  ctx: ExchangeContext,
  runId: string,
  options: SampleOptions = {},
): Promise<GeneratedImage> {
  const count = options.count ?? 64;
  if (!Number.isInteger(count) || count < 1 || count > 1024)
    throw new ExchangeError(400, `count must be a whole number from 1 to 1024, got ${count}`);
  const columns = options.columns ?? Math.ceil(Math.sqrt(count));
  return withModel(ctx, runId, options.checkpoint, (neural, model, info) => {
    const pixels = neural.priorSamples(model, count, options.seed ?? PRIOR_GRID_SEED);
    const grid = encodeGrid(pixels, count, info.shape[0], info.shape[1], columns);
    return { ...grid, runId: info.runId, checkpointStep: info.step, count, columns, backend: info.backend };
  });
}

export async function interpolateLatent(
  ctx: ExchangeContext,
  runId: string,
  options: InterpolateOptions,
): Promise<GeneratedImage> {
  const steps = options.steps ?? 10;
  if (!Number.isInteger(steps) || steps < 2 || steps > 64)
    throw new ExchangeError(400, `steps must be a whole number from 2 to 64, got ${steps}`);
  const run = await ctx.store.runs.require(await ctx.store.runs.resolveId(runId));
  const data = await loadRunDataset(run.config).catch((error: Error) => {
    throw new ExchangeError(
      409,
      `Interpolation needs the run's test images, but data set ${run.config.data.dataset} cannot be loaded here: ${error.message}`,
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
  const test = evalTestPixels(run.config, data);
  const dim = data.height * data.width * data.channels;
  const image = (i: number) => test.slice(i * dim, (i + 1) * dim);
  return withModel(ctx, run.id, options.checkpoint, (neural, model, info) => {
    const pixels = neural.interpolate(model, image(options.from), image(options.to), steps);
    const count = steps + 2;
    const grid = encodeGrid(pixels, count, info.shape[0], info.shape[1], count);
    return { ...grid, runId: info.runId, checkpointStep: info.step, count, columns: count, backend: info.backend };
  });
}
