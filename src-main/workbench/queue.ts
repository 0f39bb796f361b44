// The run queue: claims queued runs from the store (a persistent queue shared by every process on
// the data folder), starts each in a worker thread, records its end, and keeps a heartbeat through
// which a run stopped from another process is signalled here.
import { hostname } from 'node:os';
import type { RunStatus, RunSummary } from '../api/contract';
import type { Run } from '../store';
import type { BackendPreference } from '../training/backend';
import { startJob, type RunningJob } from '../training/pool';
import type { CheckpointFiles } from './checkpointFiles';
import type { TrainingIngest, ViewEvents } from './ingest';
import type { RemoteStore } from './storeThread';

interface ActiveRun {
  job: RunningJob;
  stopping: boolean;
  /** Why this run's results could not be stored (disk full, run deleted elsewhere); it ends 'failed'. */
  failure: string | null;
}

export interface QueueOptions {
  /** Take queued runs from the store; without it only runs started here (`start`) train. */
  claim: boolean;
  concurrency: number;
  backend?: BackendPreference;
  /** The data folder's datasets/: imported data sets ('dataset:<id>') the workers load. */
  datasetsDir?: string;
}

export class RunQueue {
  private readonly active = new Map<string, ActiveRun>();
  private readonly waiters = new Map<string, ((run: RunSummary) => void)[]>();
  /** Ends being recorded (finish), awaited by close. */
  private readonly finishing = new Set<Promise<void>>();
  private closed = false;
  private scheduling: Promise<void> = Promise.resolve();
  /** Runs between claim and worker start (their checkpoint is being looked up). */
  private starting = 0;
  private beating = false;
  /** How the store records this process as a run's owner ("host:pid"). */
  private readonly processToken = `${hostname()}:${process.pid}`;
  /** Set once the ingest exists (it reports store failures back here). */
  ingest!: TrainingIngest;

  constructor(
    private readonly store: RemoteStore,
    private readonly views: ViewEvents,
    private readonly checkpoints: CheckpointFiles,
    readonly options: QueueOptions,
  ) {}

  isLocal(runId: string): boolean {
    return this.active.has(runId);
  }

  /** Starts queued runs while fewer than `concurrency` run here (one claim at a time). */
  schedule(): Promise<void> {
    this.scheduling = this.scheduling
      .then(() => this.fill())
      .catch((error: unknown) => {
        console.error(`Could not take the next queued run: ${(error as Error).message}`);
      });
    return this.scheduling;
  }

  private async fill(): Promise<void> {
    if (!this.options.claim) return;
    while (!this.closed && this.active.size + this.starting < this.options.concurrency) {
      const run = await this.store.runs.claimNext();
      if (!run) return;
      this.views.broadcast({ type: 'run', run: await this.store.runs.summary(run.id) });
      await this.start(run);
    }
  }

  /** Trains a run this process holds as 'running' in a worker thread. */
  async start(run: Run): Promise<void> {
    this.starting++;
    let resumeFrom: { path: string; step: number } | null;
    try {
      resumeFrom = await this.checkpoints.resumePoint(run);
    } finally {
      this.starting--;
    }
    const job = startJob(
      {
        runId: run.id,
        config: run.config,
        resumeFrom,
        backend: this.options.backend,
        datasetsDir: this.options.datasetsDir,
      },
      (event) => this.ingest.handle(run.id, event),
    );
    this.ingest.follow(run.id, run);
    this.active.set(run.id, { job, stopping: false, failure: null });
    const finished = job.done.then((result) => this.finish(run.id, result.status, result.error));
    this.finishing.add(finished);
    void finished.finally(() => this.finishing.delete(finished));
  }

  /** Signals a run trained here to stop at its next batch; false when it is not trained here. */
  signal(runId: string, to: 'cancelled' | 'paused'): boolean {
    const local = this.active.get(runId);
    if (!local) return false;
    local.stopping = true;
    if (to === 'paused') local.job.pause();
    else local.job.cancel();
    return true;
  }

  /** Stops a run whose results cannot be stored; it is recorded as 'failed' with the reason. */
  fail(runId: string, error: unknown): void {
    const active = this.active.get(runId);
    if (!active) return;
    active.failure ??= error instanceof Error ? error.message : String(error);
    active.job.cancel();
  }

  private async finish(runId: string, status: string, error: string | null): Promise<void> {
    await this.ingest.settle(); // its points and last checkpoint are stored before its end
    const active = this.active.get(runId);
    this.active.delete(runId);
    const position = this.ingest.release(runId);
    const storeFailure = active?.failure ?? null;
    try {
      // Only the process that owns the run records its end, and only while it is still 'running'
      // (one transaction): a run paused here and already resumed by another process is theirs now.
      await this.store.runs.recordEnd(runId, {
        owner: this.processToken,
        status: storeFailure ? 'failed' : (status as RunStatus),
        error: storeFailure ? `Could not save the run's results: ${storeFailure}` : (error ?? undefined),
        step: position?.step,
        epoch: position?.epoch,
      });
      if (await this.store.runs.get(runId)) this.announce(await this.store.runs.summary(runId));
    } catch (failure) {
      console.error(`Could not record the end of run ${runId}: ${(failure as Error).message}`);
    }
    void this.schedule();
  }

  /** Tells the views about a run and resolves those waiting for it to end. */
  announce(run: RunSummary): void {
    this.views.broadcast({ type: 'run', run });
    if (run.status === 'queued' || run.status === 'running') return;
    const waiting = this.waiters.get(run.id) ?? [];
    this.waiters.delete(run.id);
    for (const resolve of waiting) resolve(run);
  }

  /** Resolves when the run is no longer queued or running. */
  waitFor(run: RunSummary): Promise<RunSummary> {
    if (run.status !== 'queued' && run.status !== 'running') return Promise.resolve(run);
    return new Promise((resolve) => this.waiters.set(run.id, [...(this.waiters.get(run.id) ?? []), resolve]));
  }

  /** Records liveness and progress; a run stopped from another process is signalled here. */
  async heartbeat(): Promise<void> {
    if (this.beating) return; // the last one is still waiting on the store
    this.beating = true;
    try {
      for (const [runId, active] of [...this.active]) {
        if (active.stopping) continue;
        try {
          const position = this.ingest.positionOf(runId);
          const alive = await this.store.runs.heartbeat(runId, { step: position?.step, epoch: position?.epoch });
          if (!alive)
            this.signal(runId, (await this.store.runs.get(runId))?.status === 'paused' ? 'paused' : 'cancelled');
        } catch {
          // A busy database skips one heartbeat; the next one retries.
        }
      }
    } finally {
      this.beating = false;
    }
  }

  /** Pauses every run trained here (each keeps a checkpoint) and waits for their ends to be recorded. */
  async close(): Promise<void> {
    this.closed = true;
    await this.scheduling;
    const running = [...this.active.keys()].map((runId) => {
      const { job } = this.active.get(runId)!;
      this.signal(runId, 'paused');
      return job.done;
    });
    await Promise.all(running);
    await Promise.all([...this.finishing]);
  }
}
