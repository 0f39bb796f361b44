// Export, import, replay and generation (issue #6). The layers: bundle.ts (container, hashes,
// verification; no tfjs, no store), csv.ts, common.ts (context, checkpoint choice), exportRun.ts /
// importBundle.ts / replay.ts / compare.ts / generate.ts on the main thread's side; and the worker
// halves: bundle.ts, networks.ts and render.ts (the only modules here that load tfjs, on first use)
// in the bundle worker (bundleWorker.ts, reached through bundleThread.ts), runFiles.ts and
// compare.ts in the store worker.
//
// Bundle layout (a folder, or the same tree in a .zip):
//   manifest.json            format 'vae-workbench-bundle' v1, app version, run, data set name + hash,
//                            backend, input shape, checkpoint, networks, files [{path, size, sha256}]
//   manifest.sha256          sha256 of manifest.json (sha256sum format)
//   config.json, run.json    the run config; status, name, experiment, tags, notes, times, image index
//   metrics.csv              name,step,epoch,value,wall_time: every point, raw
//   images/<kind>-step<N>.png
//   latents/step<N>-means.f32, -labels.i32   the latent scatter's means and labels per evaluation
//   checkpoint.safetensors   the exact checkpoint (weights + Adam state) to continue training
//   tfjs/<network>/model.json + group1-shard<k>of<n>.bin   TF.js Layers format
//   README.txt
// A zip's archive comment holds the sha256 of all its bytes before the comment.
export { BundleError, BUNDLE_FORMAT, BUNDLE_FORMAT_VERSION, type BundleManifest } from './bundle';
export { bundleThread } from './bundleThread';
export {
  ExchangeError,
  parseCheckpointChoice,
  selectCheckpoint,
  type CheckpointChoice,
  type ExchangeContext,
} from './common';
export { exportRun, type ExportOptions, type BundleRunRecord } from './exportRun';
export { importBundle, type ImportedBundle } from './importBundle';
export { compareRuns, expectedBackend, planReplay, TIMING_METRICS } from './replay';
export {
  generateSamples,
  interpolateLatent,
  type GeneratedImage,
  type InterpolateOptions,
  type SampleOptions,
} from './generate';
