// The training ingest: a worker's events -> the one metrics writer (batched transactions) -> every
// open view. Views hear of a point only after it is stored, so what they show can be read back.
import type { MetricPoint, WorkbenchEvent } from '../api/contract';
import type { RunMetricPoint } from '../store';
import type { TrainerEvent } from '../training/events';
import type { CheckpointFiles } from './checkpointFiles';
import type { RemoteStore } from './storeThread';

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
  /**
   * Every store write of the ingest, in the order the events came: one chain, so a run's image
   * is stored after the points before it, and its end after its last checkpoint.
   */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: RemoteStore,
    private readonly views: ViewEvents,
    private readonly checkpoints: CheckpointFiles,
    /** A run whose results cannot be stored is stopped and ends 'failed' (the queue's job). */
    private readonly onStoreFailure: (runId: string, error: unknown) => void,
  ) {}

  /** Starts following a run from its stored position. */
  follow(runId: string, from: { step: number; epoch: number }): void {
    this.progress.set(runId, { step: from.step, epoch: from.epoch, lastBroadcast: 0 });
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

  /** Queues a store write behind the others; a failure stops that run (disk full, run deleted elsewhere). */
  private enqueue(runId: string | null, write: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(write).catch((error: unknown) => {
      if (runId) this.onStoreFailure(runId, error);
      else console.error(`Could not store training results: ${(error as Error).message}`);
    });
    return this.chain;
  }

  handle(runId: string, event: TrainerEvent): void {
    const progress = this.progress.get(runId);
    switch (event.type) {
      case 'started':
        void this.enqueue(runId, async () => {
          await this.store.runs.setInfo(runId, {
            backend: event.backend,
            backendNotes: event.backendNotes,
            datasetHash: event.datasetHash,
            testSetHash: event.testSetHash,
            totalSteps: event.totalSteps,
          });
          this.views.broadcast({ type: 'run', run: await this.store.runs.summary(runId) });
        });
        break;
      case 'metrics':
        for (const point of event.points) this.pending.push({ runId, ...point });
        break;
      case 'latents': // the latent scatter's posterior means (issue #15)
        void this.enqueue(runId, () => this.store.latents.put({ runId, ...event }));
        break;
      case 'progress':
      case 'finished':
        // The pool's `done` carries a run's outcome (also when a worker dies without 'finished').
        if (progress) {
          progress.step = event.step;
          progress.epoch = event.epoch;
        }
        break;
      case 'image':
        void this.flush();
        void this.enqueue(runId, async () => {
          const image = await this.store.images.add({
            runId,
            step: event.step,
            epoch: event.epoch,
            kind: event.kind,
            png: event.png,
            width: event.width,
            height: event.height,
          });
          this.views.broadcast({ type: 'image', image });
        });
        break;
      case 'checkpoint':
        void this.enqueue(runId, () => this.checkpoints.write(runId, event));
        break;
    }
  }

  /** Resolves once every write queued so far (points, images, checkpoints) is in the store. */
  settle(): Promise<void> {
    return this.flush();
  }

  /** Commits buffered metric points in one transaction (the one metrics writer), then tells the views. */
  flush(): Promise<void> {
    if (this.pending.length === 0) return this.enqueue(null, async () => {});
    const batch = this.pending;
    this.pending = [];
    return this.enqueue(null, async () => {
      const failed = await this.store.ops.appendMetrics(batch);
      for (const { runId, message } of failed) this.onStoreFailure(runId, new Error(message));
      const refused = new Set(failed.map((f) => f.runId));
      const byRun = new Map<string, MetricPoint[]>();
      for (const { runId, ...point } of batch) {
        if (refused.has(runId)) continue;
        const list = byRun.get(runId) ?? [];
        list.push(point);
        byRun.set(runId, list);
      }
      const now = Date.now();
      for (const [runId, points] of byRun) {
        this.views.broadcast({ type: 'metrics', runId, points });
        const progress = this.progress.get(runId);
        if (progress && now - progress.lastBroadcast > 500) {
          progress.lastBroadcast = now;
          const run = (await this.store.runs.get(runId)) ? await this.store.runs.summary(runId) : null;
          if (run) this.views.broadcast({ type: 'run', run: { ...run, step: progress.step, epoch: progress.epoch } });
        }
      }
    });
  }
}
