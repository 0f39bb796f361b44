// Runs trained by remote workers over a queue (issue #18): which job trains each, how far the
// coordinator has ingested its events, the attempts (worker, host, backend) and each queue's
// stream position. The coordinator alone writes these; the events themselves go through the same
// ingest as local runs.
import type { StoreContext } from './context';
import { requireRun, requireText } from './context';
import { InvalidInputError } from './errors';
import type { MetricsWriter } from './metrics';
import { dropLoggedAfter, type Runs } from './runs';

export interface RemoteRun {
  runId: string;
  /** The queue's URL without its password. */
  queue: string;
  jobId: string;
  /** The attempt whose events are ingested (later attempts replace it; earlier ones are ignored). */
  attempt: number;
  /** The last sequence number ingested. */
  seq: number;
  updatedAt: number;
}

export interface RemoteAttempt {
  runId: string;
  attempt: number;
  /** "host:pid" of the worker process. */
  worker: string;
  host: string;
  backend: string;
  startStep: number;
  startedAt: number;
}

/** What a run already holds, so an event delivered twice (a coordinator restarted mid-write) is stored once. */
export interface IngestedState {
  /** Highest step stored per metric name. */
  series: Record<string, number>;
  /** Highest step stored per image kind. */
  images: Record<string, number>;
  /** Checkpoints stored, as `${step}:${kind}`. */
  checkpoints: string[];
}

/** remote_runs' columns as RemoteRun fields, each qualified by `table` where a join needs it. */
const remoteColumns = (table = '') =>
  `${table}run_id AS runId, ${table}queue, ${table}job_id AS jobId, ${table}attempt, ${table}seq, ${table}updated_at AS updatedAt`;
const ATTEMPT = 'run_id AS runId, attempt, worker, host, backend, start_step AS startStep, started_at AS startedAt';

export class RemoteRuns {
  constructor(
    private readonly ctx: StoreContext,
    private readonly runs: Runs,
    private readonly metricsWriter: MetricsWriter,
  ) {}

  /**
   * Hands a queued run (or a paused one being resumed, already queued again; or one this process
   * has just created as 'running', not yet started) to a queue: moves it to 'running' with `owner` (the queue, not this process, so a restarted coordinator keeps it)
   * and records the job. The cursor of a run handed over before is kept: attempts only grow.
   */
  claim(runId: string, input: { queue: string; jobId: string; owner: string }): RemoteRun {
    const queue = requireText(input.queue, 'Queue');
    if (/:\/\/[^/@]*:(?!\*\*\*@)[^/@]+@/.test(queue))
      throw new InvalidInputError('The queue URL must be stored without its password.');
    return this.ctx.write(() => {
      // A run this process created already claimed (so its own run queue never took it) is handed over as it is.
      const run = this.runs.require(runId);
      if (!(run.status === 'running' && run.owner === this.ctx.processToken && run.step === 0))
        this.runs.updateStatus(runId, 'running');
      const now = Date.now();
      this.ctx.sql('UPDATE runs SET owner = ? WHERE id = ?').run(requireText(input.owner, 'Owner'), runId);
      this.ctx
        .sql(
          `INSERT INTO remote_runs (run_id, queue, job_id, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (run_id) DO UPDATE SET queue = excluded.queue, job_id = excluded.job_id, updated_at = excluded.updated_at`,
        )
        .run(runId, queue, input.jobId, now);
      return this.get(runId)!;
    });
  }

  get(runId: string): RemoteRun | null {
    return (
      (this.ctx.sql(`SELECT ${remoteColumns()} FROM remote_runs WHERE run_id = ?`).get(runId) as RemoteRun) ?? null
    );
  }

  /** The queue's runs still 'running' in the store: those a (restarted) coordinator follows. */
  inFlight(queue: string): RemoteRun[] {
    return this.ctx
      .sql(
        `SELECT ${remoteColumns('rr.')} FROM remote_runs rr
         JOIN runs r ON r.id = rr.run_id WHERE rr.queue = ? AND r.status = 'running' ORDER BY r.created_at, r.id`,
      )
      .all(queue) as RemoteRun[];
  }

  /**
   * A new attempt's first event: once per attempt (a repeated call returns false), drops what an
   * earlier attempt logged after `startStep` (the checkpoint the new one resumed from, as a local
   * resume does) and records who trains it. An attempt older than the stored one returns false.
   */
  beginAttempt(
    runId: string,
    attempt: Omit<RemoteAttempt, 'runId' | 'startedAt' | 'startStep'> & { seq: number; startStep: number | null },
  ): boolean {
    return this.ctx.write(() => {
      requireRun(this.ctx, runId);
      const current = this.get(runId);
      if (!current) throw new InvalidInputError(`Run ${runId} was not handed to a queue.`);
      if (attempt.attempt <= current.attempt) return false;
      // An attempt that never started training (its worker could not load the data, say) drops nothing.
      if (attempt.startStep !== null) dropLoggedAfter(this.ctx, this.metricsWriter, runId, attempt.startStep);
      const now = Date.now();
      this.ctx
        .sql('UPDATE remote_runs SET attempt = ?, seq = ?, updated_at = ? WHERE run_id = ?')
        .run(attempt.attempt, attempt.seq, now, runId);
      this.ctx
        .sql(
          `INSERT OR REPLACE INTO remote_attempts (run_id, attempt, worker, host, backend, start_step, started_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(runId, attempt.attempt, attempt.worker, attempt.host, attempt.backend, attempt.startStep ?? -1, now);
      return true;
    });
  }

  attempts(runId: string): RemoteAttempt[] {
    return this.ctx
      .sql(`SELECT ${ATTEMPT} FROM remote_attempts WHERE run_id = ? ORDER BY attempt`)
      .all(runId) as RemoteAttempt[];
  }

  /** The stream entry id last ingested from a queue ('0' before the first). */
  streamPosition(queue: string): string {
    return (this.ctx.sql('SELECT last_id FROM remote_streams WHERE queue = ?').pluck().get(queue) as string) ?? '0';
  }

  /**
   * Records, in one transaction, how far the stream has been ingested: its last entry id and each
   * run's last sequence number (only forward). Called once the events before it are stored.
   */
  saveProgress(queue: string, lastId: string, runs: { runId: string; attempt: number; seq: number }[]): void {
    this.ctx.write(() => {
      const now = Date.now();
      this.ctx
        .sql(
          `INSERT INTO remote_streams (queue, last_id, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (queue) DO UPDATE SET last_id = excluded.last_id, updated_at = excluded.updated_at`,
        )
        .run(queue, lastId, now);
      const update = this.ctx.sql(
        'UPDATE remote_runs SET seq = max(seq, ?), updated_at = ? WHERE run_id = ? AND attempt = ?',
      );
      for (const run of runs) update.run(run.seq, now, run.runId, run.attempt);
    });
  }

  /** What the run holds already (see IngestedState). */
  ingested(runId: string): IngestedState {
    const series = this.ctx
      .sql('SELECT name, max_step FROM metric_series WHERE run_id = ? AND max_step IS NOT NULL')
      .raw()
      .all(runId) as [string, number][];
    const images = this.ctx
      .sql('SELECT kind, max(step) FROM images WHERE run_id = ? GROUP BY kind')
      .raw()
      .all(runId) as [string, number][];
    const checkpoints = this.ctx
      .sql("SELECT step || ':' || kind FROM checkpoints WHERE run_id = ?")
      .pluck()
      .all(runId) as string[];
    return { series: Object.fromEntries(series), images: Object.fromEntries(images), checkpoints };
  }
}
