// The store's composite operations: the few things the workbench does as one transaction, or as
// many reads whose results are large, so each is one request to the store worker (no transaction
// ever spans a thread boundary). Each takes the Store first; the rest of its arguments and its
// result are plain data (structured-clone safe).
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RunConfig } from '../api/config';
import type { CheckpointKind, MetricPoint, RunStatus } from '../api/contract';
import type { Store } from './db';
import type { Checkpoint } from './checkpoints';
import type { RunMetricPoint } from './metrics';
import type { NewImage } from './images';
import type { LatentsRecord } from './latents';
import type { NewRun, Run } from './runs';

/** Creates runs in one transaction; with `claim`, each is moved to 'running' for this process at once. */
function createRuns(store: Store, inputs: NewRun[], claim: boolean): Run[] {
  return store.transaction(() =>
    inputs.map((input) => {
      const created = store.runs.create(input);
      return claim ? store.runs.updateStatus(created.id, 'running') : created;
    }),
  );
}

/** Back to 'queued' from its latest checkpoint (later points dropped); with `claim`, 'running' here at once. */
function resumeRun(store: Store, runId: string, claim: boolean): Run {
  return store.transaction(() => {
    const checkpoint = store.checkpoints.latest(runId);
    const queued = store.runs.resume(runId, { fromStep: checkpoint?.step ?? 0 });
    return claim ? store.runs.updateStatus(queued.id, 'running') : queued;
  });
}

function setTags(store: Store, runId: string, tags: string[]): void {
  store.transaction(() => {
    for (const tag of store.runs.require(runId).tags) if (!tags.includes(tag)) store.tags.remove(runId, tag);
    store.tags.add(runId, tags);
  });
}

/**
 * Appends a batch of metric points in one transaction; when that fails, run by run, so one bad
 * run (deleted from another process, say) fails alone. Returns the runs whose points were refused.
 */
function appendMetrics(store: Store, points: RunMetricPoint[]): { runId: string; message: string }[] {
  try {
    store.metricsWriter.append(points);
    return [];
  } catch {
    const byRun = new Map<string, RunMetricPoint[]>();
    for (const point of points) {
      const batch = byRun.get(point.runId);
      if (batch) batch.push(point);
      else byRun.set(point.runId, [point]);
    }
    const failed: { runId: string; message: string }[] = [];
    for (const [runId, batch] of byRun) {
      try {
        store.metricsWriter.append(batch);
      } catch (error) {
        failed.push({ runId, message: error instanceof Error ? error.message : String(error) });
      }
    }
    return failed;
  }
}

/**
 * Records a checkpoint and prunes the run's older ones: the newest `keepEpochs` epoch checkpoints
 * and the newest pause/final one stay. Returns the files no row names any more (the caller deletes them).
 */
function addCheckpoint(store: Store, checkpoint: Omit<Checkpoint, 'id' | 'createdAt'>, keepEpochs: number): string[] {
  store.checkpoints.add(checkpoint);
  const { runId } = checkpoint;
  const epochs = store.checkpoints.list(runId, 'epoch');
  const latest = store.checkpoints.list(runId, 'latest');
  const stale = [
    ...epochs.slice(0, Math.max(0, epochs.length - keepEpochs)),
    ...latest.slice(0, Math.max(0, latest.length - 1)),
  ];
  const orphaned: string[] = [];
  for (const old of stale) {
    const path = store.checkpoints.delete(old.id);
    if (path && !store.checkpoints.list(runId).some((c) => c.path === path)) orphaned.push(path);
  }
  return orphaned;
}

export interface ImportedRun {
  config: RunConfig;
  name: string;
  experiment?: string;
  tags: string[];
  totalSteps?: number;
  backend?: string;
  backendNotes?: string[];
  datasetHash?: string;
  testSetHash?: string;
  notes: string;
  points: MetricPoint[];
  images: Omit<NewImage, 'runId'>[];
  /** The latent scatter's means per evaluation (absent in bundles from before they were carried). */
  latents?: Omit<LatentsRecord, 'runId'>[];
  checkpoint: { step: number; epoch: number; kind: CheckpointKind; size: number; sha256: string };
  status: RunStatus;
  error?: string;
  step: number;
  epoch: number;
}

/**
 * Writes an imported run in one transaction, moving its staged checkpoint file into
 * <checkpointsDir>/<runId>/ on the way; a failure anywhere leaves neither rows nor files.
 */
function importRun(
  store: Store,
  run: ImportedRun,
  staged: { file: string; checkpointsDir: string },
): { runId: string; checkpointPath: string } {
  let folder: string | null = null;
  try {
    return store.transaction(() => {
      const created = store.runs.create({
        config: run.config,
        name: run.name,
        experimentName: run.experiment,
        tags: run.tags,
        totalSteps: run.totalSteps,
      });
      store.runs.setInfo(created.id, {
        backend: run.backend,
        backendNotes: run.backendNotes,
        datasetHash: run.datasetHash,
        testSetHash: run.testSetHash,
      });
      store.notes.set(created.id, run.notes);
      store.metricsWriter.append(run.points.map((p) => ({ runId: created.id, ...p })));
      for (const image of run.images) store.images.add({ runId: created.id, ...image });
      for (const latents of run.latents ?? []) store.latents.put({ runId: created.id, ...latents });
      folder = join(staged.checkpointsDir, created.id);
      mkdirSync(folder, { recursive: true });
      const checkpointPath = join(folder, `step-${String(run.checkpoint.step).padStart(8, '0')}-imported.safetensors`);
      renameSync(staged.file, checkpointPath);
      store.checkpoints.add({ runId: created.id, ...run.checkpoint, path: checkpointPath });
      store.runs.updateStatus(created.id, 'running');
      store.runs.updateStatus(created.id, run.status, { error: run.error, step: run.step, epoch: run.epoch });
      return { runId: created.id, checkpointPath };
    });
  } catch (error) {
    if (folder) rmSync(folder, { recursive: true, force: true });
    throw error;
  }
}

export const storeOperations = { createRuns, resumeRun, setTags, appendMetrics, addCheckpoint, importRun };
