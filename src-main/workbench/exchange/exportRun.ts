// Export: one run with one checkpoint as a bundle folder or .zip (layout in index.ts).
import type { ExportResult, ImageKind, RunRecord } from '../../api/contract';
import { APP_VERSION } from '../../api/version';
import { BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleManifest, type PackEntry } from './bundle';
import { bundleThread } from './bundleThread';
import { loadNeural, readCheckpoint, selectCheckpoint, type CheckpointChoice, type ExchangeContext } from './common';
import { metricsToCsv } from './csv';
import { inputShapeFor } from '../../training/runData';

export interface ExportOptions {
  checkpoint?: CheckpointChoice;
  /** Folder to create (must not exist, or be empty), or a path ending in .zip. */
  out: string;
}

/** What run.json holds: the run's record without its config (config.json), with its note and image index. */
export type BundleRunRecord = Omit<RunRecord, 'config'> & {
  notes: string;
  images: { path: string; kind: ImageKind; step: number; epoch: number; width: number; height: number }[];
};

const README = `VAE Workbench run bundle

manifest.json      format, app version, run, data set hash, backend, checkpoint, and the size and
                   sha256 of every other file (manifest.sha256 holds the manifest's own sha256)
config.json        the run config (model, data, train, eval)
run.json           status, name, experiment, tags, notes, timestamps, and the image index
metrics.csv        every logged point: name, step, epoch, value, wall_time (ms since 1970)
images/*.png       the image grids logged at each evaluation (samples, reconstructions, traversal)
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
  const { content } = await readCheckpoint(checkpoint);
  const config = run.config;
  const inputShape = await inputShapeFor(config, content.model);

  // Small files travel to the bundle worker as bytes; the checkpoint as its path, streamed from disk.
  const files: PackEntry[] = [];
  const add = (path: string, bytes: Uint8Array) => files.push({ path, bytes });
  const text = (path: string, value: string) => add(path, Buffer.from(value, 'utf8'));
  const json = (path: string, value: unknown) => text(path, `${JSON.stringify(value, null, 2)}\n`);

  // The networks in the TF.js Layers format, rebuilt from the checkpoint's weights.
  const neural = await loadNeural();
  await neural.ensureBackend(ctx.backend ?? 'auto');
  const model = neural.modelFromCheckpoint(config, inputShape, content);
  const networks: BundleManifest['networks'] = {};
  try {
    for (const [name, network] of Object.entries(model.networks())) {
      const { files: netFiles } = await neural.layersModelFiles(network);
      for (const [file, bytes] of netFiles) add(`tfjs/${name}/${file}`, bytes);
      networks[name] = {
        path: `tfjs/${name}/model.json`,
        ...describeNetwork(name, config.model.likelihood, inputShape),
      };
    }
  } finally {
    model.dispose();
  }

  // Metrics, raw.
  text('metrics.csv', metricsToCsv(await store.ops.allPoints(run.id)));

  // Every image grid, so an imported run plays back like the original.
  const images: BundleRunRecord['images'] = [];
  const used = new Set<string>();
  for (const meta of await store.images.list(run.id)) {
    const image = await store.images.get(meta.id);
    if (!image) continue;
    const base = `images/${meta.kind.replace(/[^A-Za-z0-9_-]/g, '_')}-step${String(meta.step).padStart(8, '0')}`;
    let path = `${base}.png`;
    for (let n = 2; used.has(path); n++) path = `${base}-${n}.png`;
    used.add(path);
    add(path, new Uint8Array(image.png));
    images.push({ path, kind: meta.kind, step: meta.step, epoch: meta.epoch, width: meta.width, height: meta.height });
  }

  json('config.json', config);
  const { config: _config, final: _final, ...summary } = await store.runs.summary(run.id);
  const record: BundleRunRecord = { ...summary, notes: (await store.notes.get(run.id))?.text ?? '', images };
  json('run.json', record);
  files.push({ path: 'checkpoint.safetensors', file: checkpoint.path });
  text('README.txt', README);

  const packed = await bundleThread.call(
    'packBundle',
    files,
    {
      format: BUNDLE_FORMAT,
      formatVersion: BUNDLE_FORMAT_VERSION,
      appVersion: APP_VERSION,
      createdAt: new Date().toISOString(),
      run: { id: run.id, name: run.name, status: run.status },
      dataset: { name: run.dataset, hash: run.datasetHash },
      backend: run.backend,
      inputShape,
      checkpoint: {
        step: checkpoint.step,
        epoch: checkpoint.epoch,
        kind: checkpoint.kind,
        sha256: checkpoint.sha256,
        path: 'checkpoint.safetensors',
      },
      networks,
    },
    options.out,
  );
  return { ...packed, runId: run.id, checkpointStep: checkpoint.step };
}

function describeNetwork(
  name: string,
  likelihood: string,
  [h, w, c]: [number, number, number],
): { input: string; output: string } {
  const pixels = `${h * w * c} values (${h}x${w}x${c} image, flattened row-major, in [0, 1])`;
  if (name === 'encoder')
    return {
      input: pixels,
      output: '[mu | logVar] of q(z|x): the first half is the posterior mean, the second its log-variance',
    };
  if (name === 'decoder') {
    return {
      input: 'a latent z',
      output:
        likelihood === 'bernoulli'
          ? `logits of p(x|z) over ${pixels}; apply a sigmoid for pixel probabilities`
          : `means of p(x|z) over ${pixels}`,
    };
  }
  if (name === 'pixelLogVariance')
    return { input: 'the constant [[1]]', output: 'per-pixel log sigma^2 of the Gaussian likelihood' };
  return { input: 'see the ladder VAE (models/ladder.ts)', output: `network '${name}' of the model` };
}
