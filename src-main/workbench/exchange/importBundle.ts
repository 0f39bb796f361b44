// Import: verify every hash first, check the content, then write the run, its metrics, images and
// checkpoint in one transaction. Any failure writes nothing and leaves no file behind.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_DATASETS, parseRunConfig, type RunConfig } from '../../api/config';
import { IMAGE_KINDS, RUN_STATUSES, type MetricPoint, type RunStatus } from '../../api/contract';
import { APP_VERSION } from '../../api/version';
import { decodeCheckpoint } from '../../training/checkpoint';
import { BundleError, readBundle, requireFile, sha256, type BundleManifest } from './bundle';
import type { ExchangeContext } from './common';
import { csvToMetrics } from './csv';
import type { BundleRunRecord } from './exportRun';

/** What an import wrote: the new run's id, and what the API's ImportResult reports besides the run. */
export interface ImportedBundle {
  runId: string;
  sourceRunId: string;
  manifest: BundleManifest;
  warnings: string[];
  metricPoints: number;
  images: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

export function importBundle(ctx: ExchangeContext, path: string): ImportedBundle {
  // 1. Integrity: manifest hash, every file's size and sha256, no unlisted files.
  const { files, manifest } = readBundle(path);

  // 2. Content: everything parsed and checked before the first write.
  const parse = <T>(file: string, what: string, fn: (text: string) => T): T => {
    try {
      return fn(Buffer.from(requireFile(files, file)).toString('utf8'));
    } catch (error) {
      throw new BundleError(`${path}: ${file} is not a valid ${what}: ${(error as Error).message}`);
    }
  };
  const config: RunConfig = parse('config.json', 'run config', (t) => parseRunConfig(JSON.parse(t)));
  const record = parse('run.json', 'run record', (t) => JSON.parse(t) as BundleRunRecord);
  if (typeof record.name !== 'string' || !Array.isArray(record.images) || !Array.isArray(record.tags)) {
    throw new BundleError(`${path}: run.json lacks its name, tags or image index.`);
  }
  const points = parse('metrics.csv', 'metrics file', csvToMetrics);
  const images = record.images.map((image) => {
    if (!(IMAGE_KINDS as readonly string[]).includes(image.kind))
      throw new BundleError(`${path}: run.json names an unknown image kind '${String(image.kind)}'.`);
    const png = requireFile(files, image.path);
    if (!PNG_SIGNATURE.every((byte, i) => png[i] === byte))
      throw new BundleError(`${path}: ${image.path} is not a PNG.`);
    return { ...image, png };
  });
  if (!manifest.checkpoint || !Number.isSafeInteger(manifest.checkpoint.step)) {
    throw new BundleError(`${path}: the manifest names no checkpoint (or no valid step for it).`);
  }
  const checkpointBytes = requireFile(files, manifest.checkpoint.path ?? 'checkpoint.safetensors');
  let checkpointStep: number;
  try {
    const content = decodeCheckpoint(checkpointBytes, 'checkpoint.safetensors');
    checkpointStep = Number(content.metadata.step);
  } catch (error) {
    throw new BundleError(`${path}: ${(error as Error).message}`);
  }
  if (checkpointStep !== manifest.checkpoint.step) {
    throw new BundleError(
      `${path}: the checkpoint is from step ${checkpointStep}, the manifest says ${manifest.checkpoint.step}.`,
    );
  }
  const status = importedStatus(record.status);

  const warnings: string[] = [];
  if (manifest.appVersion !== APP_VERSION)
    warnings.push(`The bundle was written by VAE Workbench ${manifest.appVersion}; this is ${APP_VERSION}.`);
  if (!(BUILTIN_DATASETS as readonly string[]).includes(config.data.dataset) && !existsSync(config.data.dataset)) {
    warnings.push(
      `Data set ${config.data.dataset} is not on this machine: curves, images and prior samples work, but continuing training and interpolating test images need it.`,
    );
  }
  if (status !== record.status)
    warnings.push(
      `The run was ${record.status} when exported; it is imported as ${status} (resume it to continue from its checkpoint).`,
    );

  // 3. Write, all or nothing.
  const { store } = ctx;
  let folder: string | null = null;
  try {
    const runId = store.transaction(() => {
      const run = store.runs.create({
        config,
        name: record.name,
        experimentName: record.experiment ?? undefined,
        tags: record.tags,
        totalSteps: record.totalSteps ?? undefined,
      });
      store.runs.setInfo(run.id, {
        backend: record.backend ?? manifest.backend ?? undefined,
        datasetHash: record.datasetHash ?? manifest.dataset?.hash ?? undefined,
      });
      const provenance = `Imported ${new Date().toISOString()} from run ${record.id} (${path}).`;
      store.notes.set(run.id, record.notes ? `${record.notes}\n\n${provenance}` : provenance);
      store.metricsWriter.append(points.map((p: MetricPoint) => ({ runId: run.id, ...p })));
      for (const image of images) {
        store.images.add({
          runId: run.id,
          step: image.step,
          epoch: image.epoch,
          kind: image.kind,
          png: image.png,
          width: image.width,
          height: image.height,
        });
      }
      folder = join(ctx.checkpointsDir, run.id);
      mkdirSync(folder, { recursive: true });
      const file = join(folder, `step-${String(checkpointStep).padStart(8, '0')}-imported.safetensors`);
      writeFileSync(file, checkpointBytes);
      store.checkpoints.add({
        runId: run.id,
        step: checkpointStep,
        epoch: manifest.checkpoint.epoch,
        kind: manifest.checkpoint.kind === 'best' ? 'best' : 'latest',
        path: file,
        size: checkpointBytes.length,
        sha256: sha256(checkpointBytes),
      });
      store.runs.updateStatus(run.id, 'running');
      store.runs.updateStatus(run.id, status, {
        error: record.error ?? undefined,
        step: record.step,
        epoch: record.epoch,
      });
      return run.id;
    });
    return { runId, sourceRunId: record.id, manifest, warnings, metricPoints: points.length, images: images.length };
  } catch (error) {
    if (folder) rmSync(folder, { recursive: true, force: true });
    throw error;
  }
}

/** A run exported while queued or running is imported as interrupted: resumable, never claimed by a queue. */
function importedStatus(status: string): RunStatus {
  if (!(RUN_STATUSES as readonly string[]).includes(status))
    throw new BundleError(`run.json has an unknown status '${status}'.`);
  return status === 'queued' || status === 'running' ? 'interrupted' : (status as RunStatus);
}
