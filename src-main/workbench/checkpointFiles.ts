// Checkpoint files: the trainer's checkpoints written to <data>/checkpoints/<runId>/, recorded in
// the store with their sha256, pruned to the newest few, and deleted with their run. The store
// keeps the rows; this module owns the files.
import { existsSync, rmSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Run, Store } from '../store';
import type { TrainerEvent } from '../training/events';
import { bundleThread } from './exchange/bundleThread';

/** Epoch checkpoints kept per run besides the latest; older ones are deleted with their files. */
export const KEEP_EPOCH_CHECKPOINTS = 3;

export type CheckpointEvent = Extract<TrainerEvent, { type: 'checkpoint' }>;

export class CheckpointFiles {
  constructor(
    private readonly store: Store,
    readonly dir: string,
  ) {}

  /** Where a resumed run continues from: its latest checkpoint, when the file is still there. */
  resumePoint(run: Run): { path: string; step: number } | null {
    const checkpoint = run.resumedCount > 0 ? this.store.checkpoints.latest(run.id) : null;
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
    this.store.checkpoints.add({
      runId,
      step: event.step,
      epoch: event.epoch,
      kind: event.kind === 'epoch' ? 'epoch' : 'latest',
      path: file,
      size: event.bytes.length,
      sha256,
    });
    this.prune(runId);
  }

  /** Keeps the newest few epoch checkpoints and only the newest pause/final one. */
  prune(runId: string): void {
    const epochs = this.store.checkpoints.list(runId, 'epoch');
    const latest = this.store.checkpoints.list(runId, 'latest');
    const stale = [
      ...epochs.slice(0, Math.max(0, epochs.length - KEEP_EPOCH_CHECKPOINTS)),
      ...latest.slice(0, Math.max(0, latest.length - 1)),
    ];
    for (const old of stale) {
      const path = this.store.checkpoints.delete(old.id);
      if (path && !this.store.checkpoints.list(runId).some((c) => c.path === path)) rmSync(path, { force: true });
    }
  }

  /** Deletes a deleted run's files: those its rows named, and its folder. */
  deleteRun(runId: string, files: readonly string[]): void {
    for (const file of files) rmSync(file, { force: true });
    rmSync(join(this.dir, runId), { recursive: true, force: true });
  }
}
