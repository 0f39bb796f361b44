// `vae-workbench worker --queue URL`: takes run jobs from the BullMQ queue, trains each in a worker
// thread with the same trainer as a local run, and streams its events back through Redis (see
// protocol.ts). It never opens a store: only the coordinator writes SQLite.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { parseRunConfig } from '../api/config';
import type { BackendPreference } from '../training/backend';
import type { FinishStatus, TrainerEvent } from '../training/events';
import { startJob, type RunningJob } from '../training/pool';
import type { QueueAddress } from './address';
import {
  ATTEMPTS_PER_RESUME,
  encodeEntry,
  getCheckpointBytes,
  JobDataSchema,
  latestCheckpoint,
  putCheckpointChunks,
  queueKeys,
  SEQ_PER_ATTEMPT,
  type QueueKeys,
  type Sender,
  type WireEvent,
  withTimeout,
} from './protocol';

export interface RemoteWorkerOptions {
  concurrency: number;
  backend?: BackendPreference;
  /** This machine's data folder's datasets/: configs naming an imported data set ('dataset:<id>') load from it. */
  datasetsDir?: string;
  /** How often a running job looks for pause/cancel (default 250 ms). */
  controlPollMs?: number;
  /** How often buffered metrics go out as one stream entry (default 200 ms). */
  flushMs?: number;
  /** BullMQ: how long a job's lock lasts without renewal, and how often stalled jobs are looked for. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  log?: (line: string) => void;
}

/** The events of one attempt, in order, as stream entries; metrics are batched between other events. */
class EventStream {
  private n = 0;
  private metrics: Extract<TrainerEvent, { type: 'metrics' }>['points'] = [];
  private progress: Extract<TrainerEvent, { type: 'progress' }> | null = null;
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly keys: QueueKeys,
    private readonly runId: string,
    readonly attempt: number,
    private readonly sender: Sender,
    private readonly totalSteps: () => number | null,
    flushMs: number,
  ) {
    this.timer = setInterval(() => this.flushMetrics(), flushMs);
  }

  /** Queues an event; the trainer's order is kept (each XADD waits for the one before). */
  push(event: TrainerEvent): void {
    if (event.type === 'metrics') {
      for (const point of event.points) this.metrics.push(point);
      return;
    }
    if (event.type === 'progress') {
      this.progress = event; // only the latest one matters
      return;
    }
    this.flushMetrics();
    if (event.type === 'checkpoint') {
      const { bytes: _bytes, ...rest } = event; // the bytes travel as chunks, the rest in the entry
      const tag = `${this.attempt}-${event.step}-${event.kind}`;
      this.then(async () => {
        const meta = await putCheckpointChunks(this.redis, this.keys, this.runId, tag, event);
        // The pointer and its announcement together: a new attempt resumes from what the coordinator is told of.
        const seq = this.nextSeq();
        const fields = encodeEntry(this.runId, this.attempt, seq, this.sender, { ...rest, meta });
        const result = await this.redis
          .multi()
          .set(this.keys.checkpoint(this.runId), JSON.stringify(meta))
          .xadd(this.keys.events, '*', ...fields)
          .exec();
        for (const [error] of result ?? []) if (error) throw error;
      });
      return;
    }
    this.add(event);
  }

  private nextSeq(): number {
    this.n += 1;
    return this.attempt * SEQ_PER_ATTEMPT + this.n;
  }

  private add(event: WireEvent): void {
    this.then(async () => {
      await this.redis.xadd(
        this.keys.events,
        '*',
        ...encodeEntry(this.runId, this.attempt, this.nextSeq(), this.sender, event),
      );
    });
  }

  private flushMetrics(): void {
    if (this.metrics.length > 0) {
      const points = this.metrics;
      this.metrics = [];
      this.add({ type: 'metrics', points });
    }
    if (this.progress) {
      const progress = this.progress;
      this.progress = null;
      this.add(progress);
      const total = this.totalSteps();
      void this.redis
        .set(this.keys.progress(this.runId), `${progress.step}/${total ?? '?'} ${this.sender.worker}`)
        .catch(() => undefined);
    }
  }

  private then(write: () => Promise<void>): void {
    this.chain = this.chain.then(async () => {
      if (this.failure) return;
      try {
        await write();
      } catch (error) {
        this.failure = error as Error;
      }
    });
  }

  /** Sends what is buffered and waits until every entry is in Redis; throws if one could not be sent. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.flushMetrics();
    await this.chain;
    if (this.failure) throw this.failure;
  }
}

export class RemoteWorker {
  private readonly worker: Worker;
  private readonly redis: Redis;
  /** BullMQ leaves a connection it was given open: closed here. */
  private readonly workerConnection: Redis;
  private readonly keys: QueueKeys;
  private readonly sender: Sender = { worker: `${hostname()}:${process.pid}`, host: hostname() };
  private readonly running = new Map<string, RunningJob>();
  /** Runs paused because this worker stops: handed back to the queue, not ended. */
  private readonly handingBack = new Set<string>();
  /** Jobs taken by this worker (for its log and the tests). */
  taken = 0;

  /** The runs training here now. */
  get active(): string[] {
    return [...this.running.keys()];
  }

  constructor(
    private readonly address: QueueAddress,
    private readonly options: RemoteWorkerOptions,
  ) {
    this.keys = queueKeys(address.name);
    this.redis = new Redis(address.redis);
    this.redis.on('error', () => undefined); // reconnects on its own; errors surface on the calls
    this.workerConnection = new Redis(address.redis);
    this.workerConnection.on('error', () => undefined);
    this.worker = new Worker(address.name, (job, token) => this.process(job, token), {
      connection: this.workerConnection,
      prefix: 'bull',
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      maxStalledCount: 20,
      autorun: true,
    });
    this.worker.on('error', (error) => this.log(`Queue error: ${error.message}`));
  }

  private log(line: string): void {
    (this.options.log ?? ((text: string) => console.log(text)))(line);
  }

  /** Resolves once the worker is connected and waiting for jobs. */
  async ready(timeoutMs = 15_000): Promise<void> {
    try {
      await withTimeout(Promise.all([this.redis.ping(), this.worker.waitUntilReady()]), timeoutMs);
    } catch (error) {
      await this.close();
      throw new Error(`Cannot reach the queue at ${this.address.redacted}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }

  private async process(job: Job, _token?: string): Promise<FinishStatus> {
    const parsed = JobDataSchema.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`Job ${job.id} is not a run job: ${parsed.error.message}`);
    const data = parsed.data;
    // The same validation as a local run: a config that does not pass is refused, never trained.
    let config;
    try {
      config = parseRunConfig(data.config);
    } catch (error) {
      throw new UnrecoverableError(`Job ${job.id} (run ${data.runId}): ${(error as Error).message}`);
    }
    const attempt = data.resumedCount * ATTEMPTS_PER_RESUME + job.attemptsStarted;
    this.taken += 1;
    const { runId } = data;
    const scratch = await mkdtemp(join(tmpdir(), `vae-workbench-${runId}-`));
    let totalSteps: number | null = null;
    const stream = new EventStream(
      this.redis,
      this.keys,
      runId,
      attempt,
      this.sender,
      () => totalSteps,
      this.options.flushMs ?? 200,
    );
    try {
      if ((await this.redis.get(this.keys.control(runId))) === 'cancel') {
        // Cancelled while it waited in the queue: nothing to train.
        stream.push({ type: 'finished', status: 'cancelled', step: 0, epoch: 0, error: null });
        await stream.close();
        return 'cancelled';
      }
      const expectedHash = data.datasetHash ?? (await this.redis.get(this.keys.dataset(runId)));
      // Resume from the last checkpoint any attempt announced (or the coordinator put there for a resume).
      const meta = await latestCheckpoint(this.redis, this.keys, runId);
      let resumeFrom: { path: string; step: number } | null = null;
      if (meta && meta.step > 0) {
        const file = join(scratch, 'resume.safetensors');
        await writeFile(file, await getCheckpointBytes(this.redis, this.keys, runId, meta));
        resumeFrom = { path: file, step: meta.step };
      }
      this.log(`Run ${runId} (${data.name}): attempt ${attempt}${resumeFrom ? `, from step ${resumeFrom.step}` : ''}`);
      let refused: string | null = null;
      let finished = false;
      let last = { step: resumeFrom?.step ?? 0, epoch: 0 };
      const running = startJob(
        { runId, config, resumeFrom, backend: this.options.backend, datasetsDir: this.options.datasetsDir },
        (event) => {
          if (event.type === 'started') {
            totalSteps = event.totalSteps;
            if (expectedHash && event.datasetHash !== expectedHash) {
              refused = `Refused: this worker's ${config.data.dataset} has sha256 ${event.datasetHash}, the run's is ${expectedHash}`;
              running.cancel();
            } else void this.redis.set(this.keys.dataset(runId), event.datasetHash, 'NX').catch(() => undefined);
          }
          if (event.type === 'progress') last = { step: event.step, epoch: event.epoch };
          if (event.type === 'finished') {
            finished = true;
            if (event.status === 'paused' && this.handingBack.has(runId)) return; // not the run's end: see close()
            if (refused) {
              stream.push({ ...event, status: 'failed', error: refused });
              return;
            }
          }
          stream.push(event);
        },
      );
      this.running.set(runId, running);
      const poll = setInterval(() => {
        void this.redis
          .get(this.keys.control(runId))
          .then((signal) => {
            if (signal === 'pause') running.pause();
            else if (signal === 'cancel') running.cancel();
          })
          .catch(() => undefined);
      }, this.options.controlPollMs ?? 250);
      let result: { status: FinishStatus; error: string | null };
      try {
        result = await running.done;
      } finally {
        clearInterval(poll);
        this.running.delete(runId);
      }
      if (result.status === 'paused' && this.handingBack.delete(runId)) {
        // This worker is stopping: the job fails this attempt and BullMQ hands it on at once; the
        // next worker resumes from the pause checkpoint just sent.
        await stream.close();
        this.log(`Run ${runId}: handed back to the queue at step ${last.step}`);
        throw new Error(`Worker ${this.sender.worker} stopped; the run continues on another worker`);
      }
      if (!finished) stream.push({ type: 'finished', status: result.status, ...last, error: result.error });
      await stream.close();
      this.log(`Run ${runId}: ${refused ? 'failed' : result.status}`);
      return refused ? 'failed' : result.status;
    } finally {
      await stream.close().catch(() => undefined);
      await rm(scratch, { recursive: true, force: true });
    }
  }

  /**
   * Stops taking jobs. Running ones pause (each sends its checkpoint) and go back to the queue,
   * where another worker continues them: stopping a worker never stops a run.
   */
  async close(): Promise<void> {
    for (const [runId, job] of this.running) {
      this.handingBack.add(runId);
      job.pause();
    }
    await this.worker.close();
    this.workerConnection.disconnect();
    this.redis.disconnect();
  }
}
