// The training ingest: a worker's events -> the one metrics writer (batched transactions) -> every
// open view. Views hear of a point only after it is stored, so what they show can be read back.
import type { MetricPoint, WorkbenchEvent } from '../api/contract';
import type { RunMetricPoint, Store } from '../store';
import type { TrainerEvent } from '../training/events';
import type { CheckpointFiles } from './checkpointFiles';

/** Listeners of the views, told after each write; one broken view never stops the others. */
export class ViewEvents {
  private readonly listeners = new Set<(event: WorkbenchEvent) => void>();

  subscribe(listener: (event: WorkbenchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  broadcast(event: WorkbenchEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // One broken view must not stop the others or the trainer.
      }
    }
  }
}

/** Where a training run is, as its worker last said (the store learns it at heartbeat and at the end). */
export interface RunProgress {
  step: number;
  epoch: number;
  lastBroadcast: number;
}

export class TrainingIngest {
  private pending: RunMetricPoint[] = [];
  private readonly progress = new Map<string, RunProgress>();
  /** Each run's checkpoint writes in flight, chained so they land in order. */
  private readonly writes = new Map<string, Promise<void>>();

  constructor(
    private readonly store: Store,
    private readonly views: ViewEvents,
    private readonly checkpoints: CheckpointFiles,
    /** A run whose results cannot be stored is stopped and ends 'failed' (the queue's job). */
    private readonly onStoreFailure: (runId: string, error: unknown) => void,
  ) {}

  /** Starts following a run from its stored position. */
  follow(runId: string, from: { step: number; epoch: number }): void {
    this.progress.set(runId, { step: from.step, epoch: from.epoch, lastBroadcast: 0 });
  }

  /** Resolves once every checkpoint the run has sent is on disk and in the store. */
  async settle(runId: string): Promise<void> {
    for (let write = this.writes.get(runId); write; write = this.writes.get(runId)) {
      await write;
      if (this.writes.get(runId) === write) this.writes.delete(runId);
    }
  }

  /** Stops following a run; returns where it got to. */
  release(runId: string): RunProgress | undefined {
    const last = this.progress.get(runId);
    this.progress.delete(runId);
    return last;
  }

  positionOf(runId: string): RunProgress | undefined {
    return this.progress.get(runId);
  }

  handle(runId: string, event: TrainerEvent): void {
    const progress = this.progress.get(runId);
    try {
      switch (event.type) {
        case 'started': {
          this.store.runs.setInfo(runId, {
            backend: event.backend,
            datasetHash: event.datasetHash,
            totalSteps: event.totalSteps,
          });
          this.views.broadcast({ type: 'run', run: this.store.runs.summary(runId) });
          break;
        }
        case 'metrics':
          for (const point of event.points) this.pending.push({ runId, ...point });
          break;
        case 'progress':
        case 'finished':
          // The pool's `done` carries a run's outcome (also when a worker dies without 'finished').
          if (progress) {
            progress.step = event.step;
            progress.epoch = event.epoch;
          }
          break;
        case 'image': {
          this.flush();
          const image = this.store.images.add({
            runId,
            step: event.step,
            epoch: event.epoch,
            kind: event.kind,
            png: event.png,
            width: event.width,
            height: event.height,
          });
          this.views.broadcast({ type: 'image', image });
          break;
        }
        case 'checkpoint': {
          const previous = this.writes.get(runId) ?? Promise.resolve();
          const next = previous
            .then(() => this.checkpoints.write(runId, event))
            .catch((error: unknown) => this.onStoreFailure(runId, error));
          this.writes.set(runId, next);
          break;
        }
      }
    } catch (error) {
      // A store failure (disk full, read-only) stops the run rather than losing data silently.
      this.onStoreFailure(runId, error);
    }
  }

  /** Commits buffered metric points in one transaction (the one metrics writer), then tells the views. */
  flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const byRun = new Map<string, RunMetricPoint[]>();
    for (const point of batch) {
      const list = byRun.get(point.runId) ?? [];
      list.push(point);
      byRun.set(point.runId, list);
    }
    try {
      this.store.metricsWriter.append(batch);
    } catch {
      // One transaction failed: store run by run, so one bad run (deleted from another process,
      // say) fails alone and the others keep their points.
      for (const [runId, points] of [...byRun]) {
        try {
          this.store.metricsWriter.append(points);
        } catch (error) {
          byRun.delete(runId);
          this.onStoreFailure(runId, error);
        }
      }
    }
    const now = Date.now();
    for (const [runId, stored] of byRun) {
      const points: MetricPoint[] = stored.map(({ runId: _, ...point }) => point);
      this.views.broadcast({ type: 'metrics', runId, points });
      const progress = this.progress.get(runId);
      if (progress && now - progress.lastBroadcast > 500) {
        progress.lastBroadcast = now;
        const run = this.store.runs.get(runId) ? this.store.runs.summary(runId) : null; // deleted meanwhile: no event
        if (run) this.views.broadcast({ type: 'run', run: { ...run, step: progress.step, epoch: progress.epoch } });
      }
    }
  }
}
