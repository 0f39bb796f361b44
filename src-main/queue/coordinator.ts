// The coordinator: hands a workbench's runs to a BullMQ queue as jobs, reads the workers' events
// from the Redis Stream in order and feeds them to the SAME training ingest as local runs, so every
// view, export and replay works the same for remote runs. Only this process writes the store.
//
// Nothing lost: the stream entry id last stored is kept in SQLite (remote_streams) and written only
// after the events before it are stored, so a restarted coordinator reads on from there. Nothing
// doubled: each run's (attempt, seq) cursor skips what was stored already, and what an attempt's
// crash left behind is checked against the store (IngestedState) before it is written again.
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { RunStatus } from '../api/contract';
import type { IngestedState, Run } from '../store';
import type { RemoteIngestPort, Workbench } from '../workbench/service';
import { storedCheckpointKind } from '../workbench/checkpointFiles';
import type { QueueAddress } from './address';
import {
  decodeEntry,
  deleteCheckpointChunks,
  deleteRunKeys,
  getCheckpointBytes,
  putCheckpointChunks,
  queueKeys,
  type CheckpointMeta,
  type JobData,
  type QueueKeys,
  type StreamEntry,
  withTimeout,
} from './protocol';

export interface CoordinatorOptions {
  /** How often followed runs record a heartbeat and pass on pause/cancel from the store (default 1000 ms). */
  heartbeatMs?: number;
  /** How long one XREAD waits for entries (default 500 ms). */
  blockMs?: number;
  /** BullMQ attempts per job: re-takes after a worker died count (default 50). */
  attempts?: number;
  log?: (line: string) => void;
  /**
   * false: only hand runs to the queue (`sweep --no-wait`), while another coordinator (serve --queue,
   * coordinate) follows them; it picks them up from their first event. Default true.
   */
  follow?: boolean;
  /** How long open waits for Redis before it gives up (default 15 s). */
  connectTimeoutMs?: number;
}

interface Followed {
  runId: string;
  attempt: number;
  seq: number;
  /** What the store holds, kept up to date as events are written (see IngestedState). */
  held: IngestedState;
  /** The last checkpoint announced and stored; its chunks go once a newer one is stored. */
  lastCheckpoint: CheckpointMeta | null;
}

/** How long the coordinator's lock on a queue lasts without renewal. */
const LOCK_TTL_MS = 5000;

const FINISHED: readonly RunStatus[] = ['completed', 'failed', 'cancelled', 'diverged'];

export class QueueCoordinator {
  private readonly port: RemoteIngestPort;
  private readonly keys: QueueKeys;
  private readonly redis: Redis;
  /** XREAD BLOCK holds its connection: it gets its own. */
  private readonly reader: Redis;
  private readonly queue: Queue;
  /** BullMQ leaves a connection it was given open: closed here. */
  private readonly queueConnection: Redis;
  private readonly followed = new Map<string, Followed>();
  /** Cursors to store with the next stream position. */
  private readonly touched = new Map<string, { runId: string; attempt: number; seq: number }>();
  private lastId = '0';
  private closed = false;
  private loop: Promise<void> = Promise.resolve();
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private beating = false;
  private readonly warned = new Set<string>();
  /** Whether this coordinator reads the stream (false: it only submits runs). */
  private following = false;
  private readonly lockToken = `${hostname()}:${process.pid}`;
  /** The run owner recorded in the store: the queue, not this process, so a restart keeps the runs. */
  readonly owner: string;

  private constructor(
    workbench: Workbench,
    readonly address: QueueAddress,
    private readonly options: CoordinatorOptions,
  ) {
    this.port = workbench.remoteIngest();
    this.keys = queueKeys(address.name);
    this.redis = new Redis(address.redis);
    this.reader = new Redis(address.redis);
    this.queueConnection = new Redis(address.redis);
    for (const client of [this.redis, this.reader, this.queueConnection]) client.on('error', () => undefined);
    this.queue = new Queue(address.name, { connection: this.queueConnection, prefix: 'bull' });
    this.queue.on('error', () => undefined);
    this.owner = `queue ${address.redacted}`;
  }

  /** Connects, takes up the queue's runs still in flight in the store, and starts reading events. */
  static async open(
    workbench: Workbench,
    address: QueueAddress,
    options: CoordinatorOptions = {},
  ): Promise<QueueCoordinator> {
    const coordinator = new QueueCoordinator(workbench, address, options);
    try {
      await withTimeout(
        Promise.all([coordinator.redis.ping(), coordinator.queue.waitUntilReady()]),
        options.connectTimeoutMs ?? 15_000,
      );
    } catch (error) {
      await coordinator.disconnect();
      throw new Error(`Cannot reach the queue at ${address.redacted}: ${(error as Error).message}`, { cause: error });
    }
    if (options.follow === false) return coordinator; // submit only: another coordinator follows the runs
    try {
      await coordinator.takeLock();
    } catch (error) {
      await coordinator.disconnect();
      throw error;
    }
    const { store } = coordinator.port;
    coordinator.lastId = await store.remote.streamPosition(address.redacted);
    for (const remote of await store.remote.inFlight(address.redacted)) {
      const run = await store.runs.get(remote.runId);
      if (run) await coordinator.follow(run, remote.attempt, remote.seq);
    }
    coordinator.following = true;
    coordinator.loop = coordinator.consume();
    coordinator.heartbeatTimer = setInterval(() => void coordinator.heartbeat(), options.heartbeatMs ?? 1000);
    return coordinator;
  }

  private log(line: string): void {
    (this.options.log ?? ((text: string) => console.log(text)))(line);
  }

  /** The runs this coordinator follows (in flight on the queue). */
  get inFlight(): string[] {
    return [...this.followed.keys()];
  }

  /**
   * One coordinator follows a queue at a time (two would each store the stream position, and each
   * would skip the other's runs): a key with a short expiry, renewed by the heartbeat. A coordinator
   * that died lets go when it expires; open waits that long before refusing.
   */
  private async takeLock(): Promise<void> {
    const key = this.keys.coordinator;
    const deadline = Date.now() + LOCK_TTL_MS + 1000;
    for (;;) {
      if ((await this.redis.set(key, this.lockToken, 'PX', LOCK_TTL_MS, 'NX')) === 'OK') return;
      if (Date.now() > deadline) {
        const holder = await this.redis.get(key);
        throw new Error(
          `Another coordinator (${holder ?? 'just gone'}) follows the queue ${this.address.redacted}; stop it, ` +
            'or hand it runs with `sweep --queue URL --no-wait`, or use another ?queue=name',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  private async renewLock(): Promise<void> {
    const held = await this.redis.get(this.keys.coordinator);
    if (held === this.lockToken) await this.redis.set(this.keys.coordinator, this.lockToken, 'PX', LOCK_TTL_MS);
    else if (held === null) await this.redis.set(this.keys.coordinator, this.lockToken, 'PX', LOCK_TTL_MS, 'NX');
    else this.log(`Another coordinator (${held}) took the queue ${this.address.redacted}; this one should stop`);
  }

  private async follow(run: Run, attempt: number, seq: number): Promise<void> {
    this.port.ingest.follow(run.id, run);
    this.followed.set(run.id, {
      runId: run.id,
      attempt,
      seq,
      held: await this.port.store.remote.ingested(run.id),
      lastCheckpoint: null,
    });
  }

  /**
   * Hands queued runs to the queue: each becomes 'running' under the queue and one job. A resumed
   * run's latest checkpoint goes with it, so a worker continues from there.
   */
  async submit(runIds: readonly string[]): Promise<void> {
    const { store } = this.port;
    for (const runId of runIds) {
      const queued = await store.runs.require(runId);
      const jobId = `${runId}-r${queued.resumedCount}`;
      await this.redis.del(this.keys.control(runId), this.keys.checkpoint(runId));
      if (queued.resumedCount > 0) {
        const latest = await store.checkpoints.latest(runId);
        if (latest && latest.step > 0) {
          const bytes = new Uint8Array(await readFile(latest.path));
          const kind = latest.kind === 'epoch' ? 'epoch' : 'pause';
          const meta = await putCheckpointChunks(
            this.redis,
            this.keys,
            runId,
            `c${queued.resumedCount}-${latest.step}`,
            {
              step: latest.step,
              epoch: latest.epoch,
              kind,
              bytes,
            },
          );
          await this.redis.set(this.keys.checkpoint(runId), JSON.stringify(meta));
        }
      }
      const remote = await store.remote.claim(runId, { queue: this.address.redacted, jobId, owner: this.owner });
      const run = await store.runs.require(runId);
      await this.follow(run, remote.attempt, remote.seq);
      const data: JobData = {
        runId,
        name: run.name,
        config: run.config,
        resumedCount: run.resumedCount,
        datasetHash: run.datasetHash,
      };
      await this.queue.add('train', data, {
        jobId,
        attempts: this.options.attempts ?? 50,
        removeOnComplete: 1000,
        removeOnFail: 1000,
      });
      this.port.announce(await store.runs.summary(runId));
    }
  }

  /** Continues a stopped remote run (paused, interrupted, ...) on the queue from its latest checkpoint. */
  async resume(runId: string): Promise<void> {
    if (this.followed.has(runId))
      throw new Error(`Run ${runId} is still stopping on its worker; resume it once it has paused (a second or two)`);
    await this.port.store.ops.resumeRun(runId, false);
    await this.submit([runId]);
  }

  /** Reads the stream in order until closed; stores each batch, then the position after it. */
  private async consume(): Promise<void> {
    while (!this.closed) {
      let reply: [Buffer, [Buffer, Buffer[]][]][] | null;
      try {
        reply = (await this.reader.xreadBuffer(
          'COUNT',
          500,
          'BLOCK',
          this.options.blockMs ?? 500,
          'STREAMS',
          this.keys.events,
          this.lastId,
        )) as [Buffer, [Buffer, Buffer[]][]][] | null;
      } catch (error) {
        if (this.closed) break;
        this.log(`Reading the queue's events failed (${(error as Error).message}); retrying`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        continue;
      }
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) continue;
      for (const [rawId, fields] of entries) {
        const id = rawId.toString();
        let entry: StreamEntry | null = null;
        try {
          entry = decodeEntry(id, fields);
        } catch (error) {
          this.log(`Skipped a malformed event ${id}: ${(error as Error).message}`);
        }
        if (entry) {
          try {
            await this.handle(entry);
          } catch (error) {
            // A store or Redis failure on one event must not stop the others (the ingest logs store failures).
            this.log(`Event ${id} of run ${entry.runId} not stored: ${(error as Error).message}`);
          }
        }
        this.lastId = id;
      }
      await this.commit();
    }
  }

  /** Stores the stream position (and run cursors) once everything before it is in the store; trims the stream. */
  private async commit(): Promise<void> {
    await this.port.ingest.settle();
    const runs = [...this.touched.values()];
    this.touched.clear();
    await this.port.store.remote.saveProgress(this.address.redacted, this.lastId, runs);
    await this.redis.xtrim(this.keys.events, 'MINID', this.lastId).catch(() => undefined);
  }

  private async handle(entry: StreamEntry): Promise<void> {
    const { runId, event } = entry;
    const run = this.followed.get(runId) ?? (await this.adopt(runId));
    if (!run) return;
    if (entry.attempt < run.attempt || entry.seq <= run.seq) return; // an older attempt, or stored already
    const { ingest, store } = this.port;
    if (entry.attempt > run.attempt) {
      // A new attempt (a worker re-took the job): what the old one logged after the new start goes.
      await ingest.settle();
      await store.remote.beginAttempt(runId, {
        attempt: entry.attempt,
        seq: entry.seq,
        worker: entry.worker,
        host: entry.host,
        backend: event.type === 'started' ? event.backend : '',
        startStep: event.type === 'started' ? event.startStep : null,
      });
      run.attempt = entry.attempt;
      run.held = await store.remote.ingested(runId);
      if (event.type === 'started')
        this.log(`Run ${runId}: attempt ${entry.attempt} on ${entry.worker} from step ${event.startStep}`);
    }
    run.seq = entry.seq;
    this.touched.set(runId, { runId, attempt: run.attempt, seq: run.seq });
    switch (event.type) {
      case 'metrics': {
        const points = event.points.filter((point) => point.step > (run.held.series[point.name] ?? -1));
        for (const point of points) run.held.series[point.name] = point.step;
        if (points.length > 0) ingest.handle(runId, { type: 'metrics', points });
        break;
      }
      case 'image':
        if (event.step <= (run.held.images[event.kind] ?? -1)) break;
        run.held.images[event.kind] = event.step;
        ingest.handle(runId, event);
        break;
      case 'checkpoint': {
        const held = `${event.step}:${storedCheckpointKind(event.kind)}`;
        if (run.held.checkpoints.includes(held)) break;
        let bytes: Uint8Array;
        try {
          bytes = await getCheckpointBytes(this.redis, this.keys, runId, event.meta);
        } catch (error) {
          this.log(`Run ${runId}: checkpoint at step ${event.step} not stored: ${(error as Error).message}`);
          break;
        }
        run.held.checkpoints.push(held);
        ingest.handle(runId, { type: 'checkpoint', step: event.step, epoch: event.epoch, kind: event.kind, bytes });
        const previous = run.lastCheckpoint;
        run.lastCheckpoint = event.meta;
        if (previous && previous.tag !== event.meta.tag)
          await deleteCheckpointChunks(this.redis, this.keys, runId, previous);
        break;
      }
      case 'finished':
        ingest.handle(runId, event);
        await this.finish(runId, event.status, event.error, event);
        break;
      default:
        ingest.handle(runId, event);
    }
  }

  /** A run handed to this queue by another process (`sweep --no-wait`) is followed from its first event. */
  private async adopt(runId: string): Promise<Followed | null> {
    if (this.warned.has(runId)) return null;
    const { store } = this.port;
    const remote = await store.remote.get(runId);
    const run = remote?.queue === this.address.redacted ? await store.runs.get(runId) : null;
    if (run?.status === 'running' && run.owner === this.owner) {
      await this.follow(run, remote!.attempt, remote!.seq);
      return this.followed.get(runId)!;
    }
    this.warned.add(runId);
    this.log(`Events of run ${runId}, which this store does not follow on this queue, are skipped`);
    return null;
  }

  /** Records a run's end as its worker said, unless it was stopped here (paused, cancelled) first. */
  private async finish(
    runId: string,
    status: RunStatus,
    error: string | null,
    position: { step: number; epoch: number },
  ): Promise<void> {
    const { ingest, store } = this.port;
    await ingest.settle();
    // One transaction, from the state this queue holds the run in (a resume or cancel from any
    // process in between wins): 'running' -> the worker's status; paused here while the worker
    // took its last step -> completed (the pause never took effect and every step is stored, so
    // the run is complete, not paused at a stale step); stopped here -> the position it reached.
    await store.runs.recordEnd(runId, {
      owner: this.owner,
      status,
      error: error ?? undefined,
      step: position.step,
      epoch: position.epoch,
      completeIfPaused: true,
      keepPosition: true,
    });
    ingest.release(runId);
    this.followed.delete(runId);
    await this.redis.del(this.keys.control(runId), this.keys.progress(runId)).catch(() => undefined);
    const now = await store.runs.get(runId);
    if (!now || FINISHED.includes(now.status)) await this.forget(runId);
    if (now) this.port.announce(await store.runs.summary(runId));
    this.log(`Run ${runId}: ${now?.status ?? 'deleted'}`);
  }

  /** Deletes what Redis holds for a run that will not continue: its keys and checkpoint chunks. */
  private async forget(runId: string): Promise<void> {
    await deleteRunKeys(this.redis, this.keys, runId).catch(() => undefined);
  }

  /** Heartbeats for followed runs; one paused or cancelled in the store (any process) is signalled to its worker. */
  private async heartbeat(): Promise<void> {
    if (this.beating || this.closed) return;
    this.beating = true;
    try {
      await this.renewLock().catch(() => undefined);
      const { store, ingest } = this.port;
      for (const runId of [...this.followed.keys()]) {
        try {
          const position = ingest.positionOf(runId);
          if (await store.runs.heartbeat(runId, { step: position?.step, epoch: position?.epoch })) continue;
          const run = await store.runs.get(runId);
          const signal = run?.status === 'paused' ? 'pause' : 'cancel';
          await this.redis.set(this.keys.control(runId), signal, 'EX', 24 * 3600);
        } catch {
          // A busy store or a Redis hiccup skips one heartbeat; the next one retries.
        }
      }
    } finally {
      this.beating = false;
    }
  }

  /** Stops reading; what was read is stored with its position. Runs go on on the workers; a restart follows them again. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    await this.loop;
    if (this.following) {
      await this.commit().catch((error: unknown) =>
        this.log(`Could not store the queue position: ${(error as Error).message}`),
      );
      if ((await this.redis.get(this.keys.coordinator).catch(() => null)) === this.lockToken)
        await this.redis.del(this.keys.coordinator).catch(() => undefined);
    }
    for (const runId of this.followed.keys()) this.port.ingest.release(runId);
    await this.disconnect();
  }

  private async disconnect(): Promise<void> {
    await this.queue.close().catch(() => undefined);
    this.queueConnection.disconnect();
    this.redis.disconnect();
    this.reader.disconnect();
  }
}
