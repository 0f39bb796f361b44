// Export: one run with one checkpoint as a bundle folder or .zip (layout in index.ts).
import type { ExportResult, ImageKind, RunRecord } from '../../api/contract';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { APP_VERSION } from '../../api/version';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type PackEntry } from './bundle';
import { bundleThread } from './bundleThread';
import { selectCheckpoint, type CheckpointChoice, type ExchangeContext } from './common';

export interface ExportOptions {
  checkpoint?: CheckpointChoice;
  /** Folder to create (must not exist, or be empty), or a path ending in .zip. */
  out: string;
}

/**
 * What run.json holds: the run's record without its config (config.json), with its note and image
 * index. backendNotes is optional: bundles written before the notes were stored lack it.
 */
export type BundleRunRecord = Omit<RunRecord, 'config' | 'backendNotes'> & {
  backendNotes?: string[];
  /**
   * The latent scatter's posterior means per evaluation (store/latents.ts): count x dims float32 and
   * count int32 labels, little-endian, one file each. Absent in bundles written before they were carried.
   */
  latents?: BundleLatents[];
  notes: string;
  images: { path: string; kind: ImageKind; step: number; epoch: number; width: number; height: number }[];
};

export interface BundleLatents {
  step: number;
  epoch: number;
  count: number;
  dims: number;
  /** latents/step<N>-means.f32 */
  means: string;
  /** latents/step<N>-labels.i32, or null when the data set has no labels. */
  labels: string | null;
}

const README = `VAE Workbench run bundle

manifest.json      format, app version, run, data set hash, backend, checkpoint, and the size and
                   sha256 of every other file (manifest.sha256 holds the manifest's own sha256)
config.json        the run config (model, data, train, eval)
run.json           status, name, experiment, tags, notes, backend notes, timestamps, and the image index
metrics.csv        every logged point: name, step, epoch, value, wall_time (ms since 1970)
images/*.png       the image grids logged at each evaluation (samples, reconstructions, traversal)
latents/*.f32, *.i32   the posterior means of the test examples at each evaluation (float32,
                   count x dims, row-major) and their labels (int32), little-endian; run.json lists them
checkpoint.safetensors   weights and Adam state (safetensors), to continue training after import
tfjs/<network>/    each network in the TF.js Layers format (model.json + group1-shard*.bin):
                   tf.loadLayersModel('.../tfjs/decoder/model.json') in a browser, or
                   tensorflowjs_converter --input_format=tfjs_layers_model
Import it with: vae-workbench import <this folder or zip>
`;

export async function exportRun(ctx: ExchangeContext, runId: string, options: ExportOptions): Promise<ExportResult> {
  const { store } = ctx;
  const run = await store.runs.require(await store.runs.resolveId(runId));
  const checkpoint = await selectCheckpoint(store, run, options.checkpoint ?? 'latest');
  const config = run.config;

  // Small files travel to the bundle worker as bytes. The checkpoint goes as its path: the worker
  // reads it once, checks its sha256, rebuilds the networks in the TF.js Layers format from those
  // bytes (tfjs never loads on the main thread for an export) and packs the same bytes.
  const files: PackEntry[] = [];
  const add = (path: string, bytes: Uint8Array) => files.push({ path, bytes });
  const text = (path: string, value: string) => add(path, Buffer.from(value, 'utf8'));
  const json = (path: string, value: unknown) => text(path, `${JSON.stringify(value, null, 2)}\n`);

  // Metrics and image grids, written to files by the store worker and streamed from there by the
  // bundle worker: a run's points and PNGs never pass through the main thread.
  await mkdir(ctx.checkpointsDir, { recursive: true });
  const scratch = await mkdtemp(join(ctx.checkpointsDir, '.export-'));
  try {
    const { entries, images, latents, notes } = await store.writeRunFiles(run.id, scratch);
    files.push(...entries);

    json('config.json', config);
    const { config: _config, final: _final, ...summary } = await store.runs.summary(run.id);
    const record: BundleRunRecord = { ...summary, notes, images, latents };
    json('run.json', record);
    text('README.txt', README);

    const packed = await bundleThread.call('packRunBundle', {
      config,
      checkpoint,
      backend: ctx.backend ?? 'auto',
      entries: files,
      checkpointEntry: 'checkpoint.safetensors',
      manifest: {
        format: BUNDLE_FORMAT,
        formatVersion: BUNDLE_FORMAT_VERSION,
        appVersion: APP_VERSION,
        createdAt: new Date().toISOString(),
        run: { id: run.id, name: run.name, status: run.status },
        dataset: { name: run.dataset, hash: run.datasetHash },
        backend: run.backend,
        checkpoint: {
          step: checkpoint.step,
          epoch: checkpoint.epoch,
          kind: checkpoint.kind,
          sha256: checkpoint.sha256,
          path: 'checkpoint.safetensors',
        },
      },
      out: options.out,
    });
    return { ...packed, runId: run.id, checkpointStep: checkpoint.step };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
