// A run's files on the store worker's side of an export or import: the store's rows become files
// (metrics.csv, images/*.png) in a folder the bundle worker packs, and a verified, unpacked bundle
// becomes rows in one transaction. These run in the store worker (storeWorker.ts), next to SQLite,
// so neither a run's points nor its images ever cross the main thread.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasPngSignature } from 'fast-png';
import { parseRecordedRunConfig, type RunConfig } from '../../api/config';
import { parseDatasetRef } from '../../api/datasetRef';
import { IMAGE_KINDS, RUN_STATUSES, type RunStatus } from '../../api/contract';
import { APP_VERSION } from '../../api/version';
import type { Store } from '../../store';
import { storeOperations } from '../../store/operations';
import { BundleError, checkpointStep as readCheckpointStep, type BundleManifest, type PackEntry } from './bundle';
import { csvToMetrics, metricsToCsv } from './csv';
import type { BundleLatents, BundleRunRecord } from './exportRun';
import { checkBundleListing, parseManifest, parseRunRecord } from './validate';

/** Writes the run's metrics.csv (every point, raw) and every image grid into `dir`; returns them as pack entries. */
export function writeRunFiles(
  store: Store,
  runId: string,
  dir: string,
): { entries: PackEntry[]; images: BundleRunRecord['images']; latents: BundleLatents[]; notes: string } {
  mkdirSync(join(dir, 'images'), { recursive: true });
  const entries: PackEntry[] = [];
  const points = [];
  for (const name of store.metrics.listMetricNames(runId))
    for (const p of store.metrics.readSeriesRaw(runId, name)) points.push({ name, ...p });
  writeFileSync(join(dir, 'metrics.csv'), metricsToCsv(points));
  entries.push({ path: 'metrics.csv', file: join(dir, 'metrics.csv') });
  // Every image grid, so an imported run plays back like the original.
  const images: BundleRunRecord['images'] = [];
  const used = new Set<string>();
  for (const meta of store.images.list(runId)) {
    const image = store.images.get(meta.id);
    if (!image) continue;
    const base = `images/${meta.kind.replace(/[^A-Za-z0-9_-]/g, '_')}-step${String(meta.step).padStart(8, '0')}`;
    let path = `${base}.png`;
    for (let n = 2; used.has(path); n++) path = `${base}-${n}.png`;
    used.add(path);
    const file = join(dir, ...path.split('/'));
    writeFileSync(file, image.png);
    entries.push({ path, file });
    images.push({ path, kind: meta.kind, step: meta.step, epoch: meta.epoch, width: meta.width, height: meta.height });
  }
  // The latent scatter's means at every evaluation, so the imported run's scatter is the original's.
  const latents: BundleLatents[] = [];
  const latentSteps = store.latents.steps(runId);
  if (latentSteps.length > 0) mkdirSync(join(dir, 'latents'), { recursive: true });
  for (const { step } of latentSteps) {
    const stored = store.latents.get(runId, step);
    if (!stored) continue;
    const base = `latents/step${String(step).padStart(8, '0')}`;
    const means = `${base}-means.f32`;
    writeFileSync(join(dir, ...means.split('/')), littleEndian(stored.means));
    entries.push({ path: means, file: join(dir, ...means.split('/')) });
    let labels: string | null = null;
    if (stored.labels) {
      labels = `${base}-labels.i32`;
      writeFileSync(join(dir, ...labels.split('/')), littleEndian(stored.labels));
      entries.push({ path: labels, file: join(dir, ...labels.split('/')) });
    }
    latents.push({ step, epoch: stored.epoch, count: stored.count, dims: stored.dims, means, labels });
  }
  return { entries, images, latents, notes: store.notes.get(runId)?.text ?? '' };
}

/** The bytes of a typed array as stored: little-endian (every platform Node runs on here is). */
function littleEndian(values: Float32Array | Int32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** A typed array from a file's bytes, copied so it is aligned. */
function readValues<T extends Float32Array | Int32Array>(file: string, make: (buffer: ArrayBuffer) => T): T {
  const bytes = readFileSync(file);
  return make(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}

export interface StagedImport {
  /** The bundle as the person named it, for messages. */
  path: string;
  /** The verified, unpacked bundle (bundle.ts unpackBundle). */
  staging: string;
  manifest: BundleManifest;
  checkpointsDir: string;
}

/**
 * Checks an unpacked bundle's content (config, run record, metrics, images, checkpoint header)
 * before the first write, then writes the run, its metrics, images and checkpoint in one
 * transaction; the staged checkpoint file is moved into the run's checkpoint folder.
 */
export function importStagedRun(
  store: Store,
  { path, staging, manifest, checkpointsDir }: StagedImport,
): { runId: string; sourceRunId: string; warnings: string[]; metricPoints: number; images: number } {
  const fileOf = (name: string): string => {
    if (!manifest.files.some((entry) => entry.path === name)) throw new BundleError(`The bundle has no ${name}.`);
    return join(staging, ...name.split('/'));
  };

  // 2. Content: everything parsed and checked before the first write.
  const parse = <T>(file: string, what: string, fn: (text: string) => T): T => {
    const text = readFileSync(fileOf(file), 'utf8');
    try {
      return fn(text);
    } catch (error) {
      throw new BundleError(`${path}: ${file} is not a valid ${what}: ${(error as Error).message}`);
    }
  };
  const config: RunConfig = parse('config.json', 'run config', (t) => parseRecordedRunConfig(JSON.parse(t)));
  // Types, ranges and enums of run.json and manifest.json, and their file lists agreeing
  // (validate.ts, issue #13): the first field that fails is named.
  const valid = parseRunRecord(
    parse('run.json', 'run record', (t) => JSON.parse(t) as unknown),
    path,
  );
  checkBundleListing(parseManifest(manifest, path), valid, path);
  const record = valid as unknown as BundleRunRecord;
  const points = parse('metrics.csv', 'metrics file', csvToMetrics);
  const images: (BundleRunRecord['images'][number] & { png: Uint8Array })[] = [];
  for (const image of record.images) {
    if (!(IMAGE_KINDS as readonly string[]).includes(image.kind))
      throw new BundleError(`${path}: run.json names an unknown image kind '${String(image.kind)}'.`);
    const png = new Uint8Array(readFileSync(fileOf(image.path)));
    if (!hasPngSignature(png)) throw new BundleError(`${path}: ${image.path} is not a PNG.`);
    images.push({ ...image, png });
  }
  if (!manifest.checkpoint || !Number.isSafeInteger(manifest.checkpoint.step)) {
    throw new BundleError(`${path}: the manifest names no checkpoint (or no valid step for it).`);
  }
  const checkpointName = manifest.checkpoint.path ?? 'checkpoint.safetensors';
  const stagedCheckpoint = fileOf(checkpointName);
  const checkpointEntry = manifest.files.find((entry) => entry.path === checkpointName)!;
  const checkpointStep = readCheckpointStep(stagedCheckpoint, `${path}: ${checkpointName}`);
  if (checkpointStep !== manifest.checkpoint.step) {
    throw new BundleError(
      `${path}: the checkpoint is from step ${checkpointStep}, the manifest says ${manifest.checkpoint.step}.`,
    );
  }
  // Sizes were matched to count x dims against the manifest (checkBundleListing).
  const latents = (record.latents ?? []).map((entry) => ({
    step: entry.step,
    epoch: entry.epoch,
    count: entry.count,
    dims: entry.dims,
    means: readValues(fileOf(entry.means), (b) => new Float32Array(b)),
    labels: entry.labels ? readValues(fileOf(entry.labels), (b) => new Int32Array(b)) : null,
  }));
  const status = importedStatus(record.status);

  const warnings: string[] = [];
  if (manifest.appVersion !== APP_VERSION)
    warnings.push(`The bundle was written by VAE Workbench ${manifest.appVersion}; this is ${APP_VERSION}.`);
  // Never stat a path a bundle names: the answer would tell an uploader whether it exists (issue #13).
  const datasetRef = parseDatasetRef(config.data.dataset);
  if (datasetRef.kind === 'path' || (datasetRef.kind === 'imported' && !store.datasets.get(datasetRef.id))) {
    const isPath = datasetRef.kind === 'path';
    warnings.push(
      `Data set ${config.data.dataset} ${isPath ? 'is a path on the machine the run was trained on' : 'is not imported here'}: curves, images and prior samples work, but continuing training and interpolating test images need it${isPath ? ' (the CLI can train on a path; browser mode and the app take built-ins and imported data sets)' : ''}.`,
    );
  }
  if (status !== record.status)
    warnings.push(
      `The run was ${record.status} when exported; it is imported as ${status} (resume it to continue from its checkpoint).`,
    );

  // 3. Write, all or nothing: one transaction in the store worker, which also moves the staged checkpoint.
  const provenance = `Imported ${new Date().toISOString()} from run ${record.id} (${path}).`;
  const { runId } = storeOperations.importRun(
    store,
    {
      config,
      name: record.name,
      experiment: record.experiment ?? undefined,
      tags: record.tags,
      totalSteps: record.totalSteps ?? undefined,
      backend: record.backend ?? manifest.backend ?? undefined,
      backendNotes: record.backendNotes ?? [],
      datasetHash: record.datasetHash ?? manifest.dataset?.hash ?? undefined,
      testSetHash: record.testSetHash ?? undefined,
      notes: record.notes ? `${record.notes}\n\n${provenance}` : provenance,
      points,
      images: images.map(({ step, epoch, kind, png, width, height }) => ({ step, epoch, kind, png, width, height })),
      latents,
      checkpoint: {
        step: checkpointStep,
        epoch: manifest.checkpoint.epoch,
        kind: manifest.checkpoint.kind === 'best' ? 'best' : 'latest',
        size: checkpointEntry.size,
        sha256: checkpointEntry.sha256,
      },
      status,
      error: record.error ?? undefined,
      step: record.step,
      epoch: record.epoch,
    },
    { file: stagedCheckpoint, checkpointsDir },
  );
  return { runId, sourceRunId: record.id, warnings, metricPoints: points.length, images: images.length };
}

/** A run exported while queued or running is imported as interrupted: resumable, never claimed by a queue. */
function importedStatus(status: string): RunStatus {
  if (!(RUN_STATUSES as readonly string[]).includes(status))
    throw new BundleError(`run.json has an unknown status '${status}'.`);
  return status === 'queued' || status === 'running' ? 'interrupted' : (status as RunStatus);
}
