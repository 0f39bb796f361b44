// Import: verify every hash first, check the content, then write the run, its metrics, images and
// checkpoint in one transaction. Any failure writes nothing and leaves no file behind.
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILTIN_DATASETS, parseRunConfig, type RunConfig } from '../../api/config';
import { IMAGE_KINDS, RUN_STATUSES, type RunStatus } from '../../api/contract';
import { APP_VERSION } from '../../api/version';
import { BundleError, type BundleManifest } from './bundle';
import { bundleThread } from './bundleThread';
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

export async function importBundle(ctx: ExchangeContext, path: string): Promise<ImportedBundle> {
  // 1. Integrity, in the bundle worker: the bundle is unpacked into a staging folder beside the
  //    checkpoints (same file system, so the checkpoint is renamed, not copied) and every hash checked.
  const { staging, manifest } = await bundleThread.call('unpackBundle', path, ctx.checkpointsDir);
  try {
    const fileOf = (name: string): string => {
      if (!manifest.files.some((entry) => entry.path === name)) throw new BundleError(`The bundle has no ${name}.`);
      return join(staging, ...name.split('/'));
    };

    // 2. Content: everything parsed and checked before the first write.
    const parse = async <T>(file: string, what: string, fn: (text: string) => T): Promise<T> => {
      const text = await readFile(fileOf(file), 'utf8');
      try {
        return fn(text);
      } catch (error) {
        throw new BundleError(`${path}: ${file} is not a valid ${what}: ${(error as Error).message}`);
      }
    };
    const config: RunConfig = await parse('config.json', 'run config', (t) => parseRunConfig(JSON.parse(t)));
    const record = await parse('run.json', 'run record', (t) => JSON.parse(t) as BundleRunRecord);
    if (typeof record.name !== 'string' || !Array.isArray(record.images) || !Array.isArray(record.tags)) {
      throw new BundleError(`${path}: run.json lacks its name, tags or image index.`);
    }
    const points = await parse('metrics.csv', 'metrics file', csvToMetrics);
    const images: (BundleRunRecord['images'][number] & { png: Uint8Array })[] = [];
    for (const image of record.images) {
      if (!(IMAGE_KINDS as readonly string[]).includes(image.kind))
        throw new BundleError(`${path}: run.json names an unknown image kind '${String(image.kind)}'.`);
      const png = new Uint8Array(await readFile(fileOf(image.path)));
      if (!PNG_SIGNATURE.every((byte, i) => png[i] === byte))
        throw new BundleError(`${path}: ${image.path} is not a PNG.`);
      images.push({ ...image, png });
    }
    if (!manifest.checkpoint || !Number.isSafeInteger(manifest.checkpoint.step)) {
      throw new BundleError(`${path}: the manifest names no checkpoint (or no valid step for it).`);
    }
    const checkpointName = manifest.checkpoint.path ?? 'checkpoint.safetensors';
    const stagedCheckpoint = fileOf(checkpointName);
    const checkpointEntry = manifest.files.find((entry) => entry.path === checkpointName)!;
    const checkpointStep = await bundleThread.call('checkpointStep', stagedCheckpoint, `${path}: ${checkpointName}`);
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

    // 3. Write, all or nothing: one transaction in the store worker, which also moves the staged checkpoint.
    const provenance = `Imported ${new Date().toISOString()} from run ${record.id} (${path}).`;
    const { runId } = await ctx.store.ops.importRun(
      {
        config,
        name: record.name,
        experiment: record.experiment ?? undefined,
        tags: record.tags,
        totalSteps: record.totalSteps ?? undefined,
        backend: record.backend ?? manifest.backend ?? undefined,
        datasetHash: record.datasetHash ?? manifest.dataset?.hash ?? undefined,
        notes: record.notes ? `${record.notes}\n\n${provenance}` : provenance,
        points,
        images: images.map(({ step, epoch, kind, png, width, height }) => ({ step, epoch, kind, png, width, height })),
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
      { file: stagedCheckpoint, checkpointsDir: ctx.checkpointsDir },
    );
    return { runId, sourceRunId: record.id, manifest, warnings, metricPoints: points.length, images: images.length };
  } finally {
    await rm(staging, { recursive: true, force: true }); // the staging folder always goes
  }
}

/** A run exported while queued or running is imported as interrupted: resumable, never claimed by a queue. */
function importedStatus(status: string): RunStatus {
  if (!(RUN_STATUSES as readonly string[]).includes(status))
    throw new BundleError(`run.json has an unknown status '${status}'.`);
  return status === 'queued' || status === 'running' ? 'interrupted' : (status as RunStatus);
}
