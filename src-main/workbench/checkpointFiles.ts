// Checkpoint files: the trainer's checkpoints written to <data>/checkpoints/<runId>/, recorded in
// the store with their sha256, pruned to the newest few, and deleted with their run. The store
// keeps the rows; this module owns the files.
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Run } from '../store';
import type { TrainerEvent } from '../training/events';
import { bundleThread } from './exchange/bundleThread';
import type { RemoteStore } from './storeThread';

/** Epoch checkpoints kept per run besides the latest; older ones are deleted with their files. */
export const KEEP_EPOCH_CHECKPOINTS = 3;

export type CheckpointEvent = Extract<TrainerEvent, { type: 'checkpoint' }>;

/** The kind a trainer's checkpoint is stored as: an epoch's own, else the run's latest. */
export function storedCheckpointKind(kind: string): 'epoch' | 'latest' {
  return kind === 'epoch' ? 'epoch' : 'latest';
}

export class CheckpointFiles {
  constructor(
    private readonly store: RemoteStore,
    readonly dir: string,
  ) {}

  /** Where a resumed run continues from: its latest checkpoint, when the file is still there. */
  async resumePoint(run: Run): Promise<{ path: string; step: number } | null> {
    const checkpoint = run.resumedCount > 0 ? await this.store.checkpoints.latest(run.id) : null;
    return checkpoint && checkpoint.step > 0 && existsSync(checkpoint.path)
      ? { path: checkpoint.path, step: checkpoint.step }
      : null;
  }

  /**
   * Writes a checkpoint to a temporary name and renames it, so a crash never leaves half a file;
   * the write goes through libuv and the sha256 is taken in the bundle worker, off the main thread.
   */
  async write(runId: string, event: CheckpointEvent): Promise<void> {
    const folder = join(this.dir, runId);
    await mkdir(folder, { recursive: true });
    const file = join(folder, `step-${String(event.step).padStart(8, '0')}-${event.kind}.safetensors`);
    const temporary = `${file}.tmp-${process.pid}`;
    await writeFile(temporary, event.bytes);
    const { sha256 } = await bundleThread.call('hashFile', temporary);
    await rename(temporary, file);
    const orphaned = await this.store.ops.addCheckpoint(
      {
        runId,
        step: event.step,
        epoch: event.epoch,
        kind: storedCheckpointKind(event.kind),
        path: file,
        size: event.bytes.length,
        sha256,
      },
      KEEP_EPOCH_CHECKPOINTS,
    );
    // The newest few epoch checkpoints and only the newest pause/final one stay.
    await Promise.all(orphaned.map((path) => rm(path, { force: true })));
  }

  /** Deletes a deleted run's files: those its rows named, and its folder. */
  async deleteRun(runId: string, files: readonly string[]): Promise<void> {
    await Promise.all(files.map((file) => rm(file, { force: true })));
    await rm(join(this.dir, runId), { recursive: true, force: true });
  }
}
