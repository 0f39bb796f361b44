// Generation from any checkpoint of a run: prior samples as a PNG grid, and a latent interpolation
// between two test images as a PNG strip. The checkpoint is chosen here; it is read and verified
// once, and the model rebuilt and run, in the bundle worker (render.ts): tfjs never loads on the main thread.
import { PRIOR_GRID_SEED } from '../../training/seeds';
import type { GridImage } from '../../training/imageGrid';
import { bundleThread } from './bundleThread';
import { selectCheckpoint, ExchangeError, type CheckpointChoice, type ExchangeContext } from './common';

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

/** The run and its chosen checkpoint, as the bundle worker's renderer takes them (it verifies the file). */
async function source(ctx: ExchangeContext, runId: string, choice: CheckpointChoice | undefined) {
  const { store } = ctx;
  const run = await store.runs.require(await store.runs.resolveId(runId));
  const checkpoint = await selectCheckpoint(store, run, choice ?? 'latest');
  return {
    run,
    checkpoint,
    model: { config: run.config, checkpoint, backend: ctx.backend ?? 'auto' } as const,
  };
}

export async function generateSamples(
  ctx: ExchangeContext,
  runId: string,
  options: SampleOptions = {},
): Promise<GeneratedImage> {
  const count = options.count ?? 64;
  if (!Number.isInteger(count) || count < 1 || count > 1024)
    throw new ExchangeError(400, `count must be a whole number from 1 to 1024, got ${count}`);
  const columns = options.columns ?? Math.ceil(Math.sqrt(count));
  const { run, checkpoint, model } = await source(ctx, runId, options.checkpoint);
  const grid = await bundleThread.call('renderSamples', model, {
    count,
    seed: options.seed ?? PRIOR_GRID_SEED,
    columns,
  });
  return { ...grid, runId: run.id, checkpointStep: checkpoint.step, count, columns };
}

export async function interpolateLatent(
  ctx: ExchangeContext,
  runId: string,
  options: InterpolateOptions,
): Promise<GeneratedImage> {
  const steps = options.steps ?? 10;
  if (!Number.isInteger(steps) || steps < 2 || steps > 64)
    throw new ExchangeError(400, `steps must be a whole number from 2 to 64, got ${steps}`);
  const { run, checkpoint, model } = await source(ctx, runId, options.checkpoint);
  const grid = await bundleThread.call('renderInterpolation', model, {
    from: options.from,
    to: options.to,
    steps,
    datasetsDir: ctx.datasetsDir,
  });
  const count = steps + 2;
  return { ...grid, runId: run.id, checkpointStep: checkpoint.step, count, columns: count };
}
