// Runs and their lifecycle.
//
//   queued ──> running ──> completed | failed | cancelled | diverged | interrupted
//     │          │  ^
//     │          v  │
//     │        paused ──> cancelled | failed
//     └──> cancelled | failed
//
// Finished runs stay as they are. Continuing one is an explicit resume (to 'queued', resumed_count
// + 1), allowed from paused | interrupted | failed | cancelled: those stopped for a reason outside
// the model, and a checkpoint carries them on. Not from 'completed' (duplicate it to train longer)
// nor from 'diverged' (the same config from the same checkpoint diverges again; duplicate it with
// another config).
//
// Queued runs survive a restart as they are: the queue is persistent and the pool takes them up
// again. Only 'running' runs whose process is gone become 'interrupted' (markInterrupted).
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { RunConfig } from '../api/config';
import { HEADLINE_METRICS, RUN_STATUSES, type RunRecord, type RunStatus, type RunSummary } from '../api/contract';
import type { StoreContext } from './context';
import { requireRun, requireStep, requireText } from './context';
import type { Experiments } from './experiments';
import { InvalidInputError, InvalidTransitionError, NotFoundError } from './errors';
import type { MetricsWriter } from './metrics';

// The statuses themselves are the API's (one list, also checked by the schema's CHECK constraint).
export { RUN_STATUSES, type RunStatus };

/** The changes updateStatus allows; leaving a finished state is resume's job. */
export const STATUS_TRANSITIONS: Readonly<Record<RunStatus, readonly RunStatus[]>> = {
  queued: ['running', 'cancelled', 'failed'],
  running: ['paused', 'completed', 'failed', 'cancelled', 'diverged', 'interrupted'],
  paused: ['running', 'cancelled', 'failed'],
  completed: [],
  failed: [],
  cancelled: [],
  diverged: [],
  interrupted: [],
};
export const RESUMABLE_STATUSES: readonly RunStatus[] = ['paused', 'interrupted', 'failed', 'cancelled'];
export const FINISHED_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'cancelled', 'diverged', 'interrupted'];

/** A run as stored: the API's record plus the bookkeeping columns only the store and the queue use. */
export interface Run extends RunRecord {
  experimentId: number | null;
  updatedAt: number;
  heartbeatAt: number | null;
  /** "host:pid" of the process that last moved the run to 'running'. */
  owner: string | null;
  resumedCount: number;
}

export interface NewRun {
  /** Validated at the boundary (parseRunConfig); stored as JSON. */
  config: RunConfig;
  name?: string;
  experimentName?: string;
  tags?: string[];
  /** The run this one replays (same config and seed). */
  replayOf?: string;
  datasetHash?: string;
  /** Defaults to ceil(trainSize / batchSize) * epochs. */
  totalSteps?: number;
}

export interface ListRunsOptions {
  /** Experiment id or name. */
  experiment?: number | string;
  status?: RunStatus | readonly RunStatus[];
  tag?: string;
  /** Metrics whose last value each summary carries in `final` (default HEADLINE_METRICS). */
  metrics?: readonly string[];
  limit?: number;
  offset?: number;
}

export interface StatusOptions {
  error?: string;
  step?: number;
  epoch?: number;
}

export interface MarkInterruptedOptions {
  /** A run whose owner cannot be checked (another host, a live pid) counts as dead after this long without a heartbeat (default 10 min). */
  staleAfterMs?: number;
  now?: number;
  isProcessAlive?: (pid: number) => boolean;
}

/** Runs this process moved to 'running' (by file and id), so start-up checks never take them for a dead process's. */
const claimedHere = new Set<string>();

const RUN_COLUMNS = `
  r.id, r.experiment_id AS experimentId, e.name AS experiment, r.name, r.config_json AS configJson, r.seed,
  r.model_kind AS modelKind, r.dataset, r.dataset_hash AS datasetHash,
  r.test_set_hash AS testSetHash, r.dataset_note AS datasetNote, r.backend, r.app_version AS appVersion, r.status,
  r.created_at AS createdAt, r.started_at AS startedAt, r.finished_at AS finishedAt, r.updated_at AS updatedAt,
  r.heartbeat_at AS heartbeatAt, r.owner, r.error, r.step, r.epoch, r.total_steps AS totalSteps, r.replay_of AS replayOf,
  r.resumed_count AS resumedCount, r.backend_notes AS backendNotesJson,
  (SELECT json_group_array(tag) FROM (SELECT tag FROM tags t WHERE t.run_id = r.id ORDER BY tag)) AS tagsJson`;

type RunRow = Omit<Run, 'config' | 'tags' | 'backendNotes'> & {
  configJson: string;
  tagsJson: string;
  backendNotesJson: string | null;
  metricsJson?: string;
};

function toRun({ configJson, tagsJson, backendNotesJson, metricsJson: _, ...row }: RunRow): Run {
  return {
    ...row,
    config: JSON.parse(configJson) as RunConfig,
    tags: JSON.parse(tagsJson) as string[],
    backendNotes: backendNotesJson === null ? [] : (JSON.parse(backendNotesJson) as string[]),
  };
}

/** The API's view of a stored row: the record without the bookkeeping, with the last headline values. */
function toSummary(row: RunRow): RunSummary {
  const { experimentId: _e, updatedAt: _u, heartbeatAt: _h, owner: _o, resumedCount: _r, ...record } = toRun(row);
  const logged = JSON.parse(row.metricsJson ?? '{}') as Record<string, number | null>;
  const final: Record<string, number> = {};
  for (const [name, value] of Object.entries(logged)) if (value !== null) final[name] = value;
  return { ...record, final };
}

/** The last value of each requested metric, as the JSON object toSummary reads. */
const FINAL_METRICS = `(SELECT json_group_object(s.name, s.last_value) FROM metric_series s
  WHERE s.run_id = r.id AND s.point_count > 0 AND s.name IN (SELECT value FROM json_each(@metrics))) AS metricsJson`;

function datasetLabel(dataset: string): string {
  // An imported data set is named by its id ('dataset:ds-0123456789ab' -> 'ds-0123456789ab').
  if (dataset.startsWith('dataset:')) return dataset.slice('dataset:'.length);
  return path.basename(dataset).replace(/\.(gz|npy|idx\d?-ubyte|ubyte)+$/i, '') || dataset;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/**
 * Drops what a run logged after `step` (metrics, images, latent means): a resume from the checkpoint
 * at `step`, here or on a remote worker (store/remote.ts), logs those steps again. Inside the
 * caller's transaction.
 */
export function dropLoggedAfter(ctx: StoreContext, metricsWriter: MetricsWriter, runId: string, step: number): void {
  metricsWriter.truncateAfter(runId, step);
  ctx.sql('DELETE FROM images WHERE run_id = ? AND step > ?').run(runId, step);
  ctx.sql('DELETE FROM latents WHERE run_id = ? AND step > ?').run(runId, step);
}

export class Runs {
  constructor(
    private readonly ctx: StoreContext,
    private readonly experiments: Experiments,
    private readonly metricsWriter: MetricsWriter,
  ) {}

  /** Creates a 'queued' run with a fresh 8-hex-digit id. */
  create(input: NewRun): Run {
    const { config } = input;
    const tags = (input.tags ?? []).map((tag) => requireText(tag, 'Tag'));
    const name =
      input.name === undefined
        ? `${config.model.kind}-${datasetLabel(config.data.dataset)}-s${config.train.seed}`
        : requireText(input.name, 'Run name');
    const totalSteps =
      input.totalSteps ?? Math.ceil(config.data.trainSize / config.train.batchSize) * config.train.epochs;
    return this.ctx.write(() => {
      const experimentId =
        input.experimentName === undefined ? null : this.experiments.getOrCreate(input.experimentName).id;
      if (input.replayOf !== undefined) requireRun(this.ctx, input.replayOf);
      const id = this.freshId();
      const now = Date.now();
      this.ctx
        .sql(
          `INSERT INTO runs (id, experiment_id, name, config_json, seed, model_kind, dataset, dataset_hash, app_version,
                             status, created_at, updated_at, total_steps, replay_of)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?)`,
        )
        .run(
          id,
          experimentId,
          name,
          JSON.stringify(config),
          config.train.seed,
          config.model.kind,
          config.data.dataset,
          input.datasetHash ?? null,
          this.ctx.appVersion,
          now,
          now,
          totalSteps,
          input.replayOf ?? null,
        );
      const insertTag = this.ctx.sql('INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)');
      for (const tag of tags) insertTag.run(id, tag);
      return this.get(id)!;
    });
  }

  get(runId: string): Run | null {
    const row = this.ctx
      .sql(`SELECT ${RUN_COLUMNS} FROM runs r LEFT JOIN experiments e ON e.id = r.experiment_id WHERE r.id = ?`)
      .get(runId) as RunRow | undefined;
    return row ? toRun(row) : null;
  }

  /** Like get, but a missing run is a NotFoundError. */
  require(runId: string): Run {
    const run = this.get(runId);
    if (!run) throw new NotFoundError(`No run with id '${runId}' in ${this.ctx.file}.`);
    return run;
  }

  /** The full id for an exact id or a unique prefix of at least 4 characters (what people type). */
  resolveId(idOrPrefix: string): string {
    const text = idOrPrefix.trim().toLowerCase();
    if (this.get(text)) return text;
    const prefixQuery = this.ctx.sql("SELECT id FROM runs WHERE id LIKE ? || '%' ESCAPE '\\' LIMIT 2").pluck();
    const matches = text.length >= 4 ? (prefixQuery.all(text.replace(/[%_\\]/g, '\\$&')) as string[]) : [];
    if (matches.length === 1) return matches[0];
    throw new NotFoundError(
      matches.length > 1
        ? `The run id prefix '${idOrPrefix}' matches several runs; type more of it.`
        : `No run with id '${idOrPrefix}' in ${this.ctx.file}.`,
    );
  }

  /** One run as the API shows it: its record and the last value of each headline metric. */
  summary(runId: string, metrics: readonly string[] = HEADLINE_METRICS): RunSummary {
    const row = this.ctx
      .sql(
        `SELECT ${RUN_COLUMNS}, ${FINAL_METRICS}
         FROM runs r LEFT JOIN experiments e ON e.id = r.experiment_id WHERE r.id = @runId`,
      )
      .get({ runId, metrics: JSON.stringify(metrics) }) as RunRow | undefined;
    if (!row) throw new NotFoundError(`No run with id '${runId}' in ${this.ctx.file}.`);
    return toSummary(row);
  }

  /** Newest first, as summaries: experiment name, tags and the last value of the headline metrics. */
  list(options: ListRunsOptions = {}): RunSummary[] {
    const where: string[] = [];
    const params: Record<string, unknown> = {
      metrics: JSON.stringify(options.metrics ?? HEADLINE_METRICS),
      limit: options.limit ?? -1,
      offset: options.offset ?? 0,
    };
    if (typeof options.experiment === 'number') {
      where.push('r.experiment_id = @experiment');
      params.experiment = options.experiment;
    } else if (typeof options.experiment === 'string') {
      where.push('e.name = @experiment');
      params.experiment = options.experiment;
    }
    if (options.status !== undefined) {
      where.push('r.status IN (SELECT value FROM json_each(@statuses))');
      params.statuses = JSON.stringify(typeof options.status === 'string' ? [options.status] : options.status);
    }
    if (options.tag !== undefined) {
      where.push('EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.tag = @tag)');
      params.tag = options.tag;
    }
    const rows = this.ctx
      .sql(
        `SELECT ${RUN_COLUMNS}, ${FINAL_METRICS}
         FROM runs r LEFT JOIN experiments e ON e.id = r.experiment_id
         ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY r.created_at DESC, r.id DESC LIMIT @limit OFFSET @offset`,
      )
      .all(params) as RunRow[];
    return rows.map(toSummary);
  }

  /**
   * Moves a run along STATUS_TRANSITIONS; anything else is an InvalidTransitionError. Entering
   * 'running' records this process as owner and the start time; entering a finished state records
   * the finish time. `error` is kept for failed/diverged/interrupted runs, `step`/`epoch` update
   * progress (e.g. the step at which a run diverged).
   */
  updateStatus(runId: string, to: RunStatus, options: StatusOptions = {}): Run {
    if (!RUN_STATUSES.includes(to))
      throw new InvalidInputError(`Unknown run status '${String(to)}'; expected one of ${RUN_STATUSES.join(', ')}.`);
    if (options.step !== undefined) requireStep(options.step);
    return this.ctx.write(() => {
      const from = this.require(runId).status;
      if (!STATUS_TRANSITIONS[from].includes(to)) {
        const hint = RESUMABLE_STATUSES.includes(from)
          ? 'Resume it to continue from a checkpoint.'
          : FINISHED_STATUSES.includes(from)
            ? 'A finished run is kept as it is; duplicate it to train again.'
            : '';
        throw new InvalidTransitionError(runId, from, to, hint);
      }
      const now = Date.now();
      const running = to === 'running';
      this.ctx
        .sql(
          `UPDATE runs SET status = @to, updated_at = @now,
             started_at = iif(@running, coalesce(started_at, @now), started_at),
             finished_at = iif(@finished, @now, NULL),
             owner = iif(@running, @owner, owner),
             heartbeat_at = iif(@running, @now, heartbeat_at),
             error = coalesce(@error, error),
             step = coalesce(@step, step),
             epoch = coalesce(@epoch, epoch)
           WHERE id = @runId AND status = @from`,
        )
        .run({
          to,
          from,
          now,
          runId,
          running: running ? 1 : 0,
          finished: FINISHED_STATUSES.includes(to) ? 1 : 0,
          owner: this.ctx.processToken,
          error: options.error ?? null,
          step: options.step ?? null,
          epoch: options.epoch ?? null,
        });
      const key = this.claimKey(runId);
      if (running) claimedHere.add(key);
      else claimedHere.delete(key);
      return this.get(runId)!;
    });
  }

  /**
   * Continues a stopped run: paused | interrupted | failed | cancelled -> 'queued', resumed_count
   * + 1, error and finish time cleared. With fromStep (the checkpoint's step) the metrics, images
   * and latents logged after it are dropped, since the trainer will log those steps again.
   */
  resume(runId: string, options: { fromStep?: number } = {}): Run {
    if (options.fromStep !== undefined) requireStep(options.fromStep, 'fromStep');
    return this.ctx.write(() => {
      const from = this.require(runId).status;
      if (!RESUMABLE_STATUSES.includes(from)) {
        const hint =
          from === 'completed' || from === 'diverged'
            ? 'Duplicate it to train again.'
            : `Only ${RESUMABLE_STATUSES.join(', ')} runs can be resumed.`;
        throw new InvalidTransitionError(runId, from, 'queued', hint);
      }
      if (options.fromStep !== undefined) dropLoggedAfter(this.ctx, this.metricsWriter, runId, options.fromStep);
      this.ctx
        .sql(
          `UPDATE runs SET status = 'queued', resumed_count = resumed_count + 1, error = NULL, finished_at = NULL,
             owner = NULL, heartbeat_at = NULL, updated_at = ?, step = coalesce(?, step) WHERE id = ?`,
        )
        .run(Date.now(), options.fromStep ?? null, runId);
      claimedHere.delete(this.claimKey(runId));
      return this.get(runId)!;
    });
  }

  /** Atomically takes the oldest queued run and moves it to 'running' for this process; null if none. */
  claimNext(): Run | null {
    return this.ctx.write(() => {
      const id = this.ctx
        .sql("SELECT id FROM runs WHERE status = 'queued' ORDER BY created_at, id LIMIT 1")
        .pluck()
        .get() as string | undefined;
      return id === undefined ? null : this.updateStatus(id, 'running');
    });
  }

  /**
   * Records that a running run is alive, with its progress. Returns false when the run is no
   * longer 'running' (cancelled from another window or process): the worker should stop.
   */
  heartbeat(runId: string, progress: { step?: number; epoch?: number } = {}): boolean {
    const now = Date.now();
    return this.ctx.write(
      () =>
        this.ctx
          .sql(
            `UPDATE runs SET heartbeat_at = ?, updated_at = ?, step = coalesce(?, step), epoch = coalesce(?, epoch)
             WHERE id = ? AND status = 'running'`,
          )
          .run(now, now, progress.step ?? null, progress.epoch ?? null, runId).changes === 1,
    );
  }

  /**
   * Records the end a run's trainer reported, in one transaction and only from the state the
   * caller holds it in (compare and set): the run must still be `owner`'s. From 'running' it moves
   * to `status`. With `completeIfPaused`, a run paused while its trainer took the last step (the
   * pause never took effect, every step is stored) becomes 'completed' straight away, its owner
   * kept. With `keepPosition`, a run stopped here ('paused' | 'cancelled') whose trainer stopped
   * too records the position it reached. A run resumed, claimed or deleted meanwhile by anyone is
   * left as it is ('skipped'), so no read-then-write window lets a pause or cancel in between.
   */
  recordEnd(
    runId: string,
    end: {
      owner: string;
      status: RunStatus;
      error?: string;
      step?: number;
      epoch?: number;
      completeIfPaused?: boolean;
      keepPosition?: boolean;
    },
  ): 'ended' | 'positioned' | 'skipped' {
    if (end.status === 'running' || end.status === 'queued' || !RUN_STATUSES.includes(end.status))
      throw new InvalidInputError(`A run cannot end as '${String(end.status)}'.`);
    if (end.step !== undefined) requireStep(end.step);
    return this.ctx.write(() => {
      const run = this.get(runId);
      if (!run || run.owner !== end.owner) return 'skipped';
      if (run.status === 'running') {
        this.updateStatus(runId, end.status, { error: end.error, step: end.step, epoch: end.epoch });
        return 'ended';
      }
      const now = Date.now();
      if (run.status === 'paused' && end.status === 'completed' && end.completeIfPaused) {
        this.ctx
          .sql(
            `UPDATE runs SET status = 'completed', finished_at = @now, updated_at = @now,
               step = coalesce(@step, step), epoch = coalesce(@epoch, epoch)
             WHERE id = @runId AND status = 'paused' AND owner = @owner`,
          )
          .run({ now, runId, owner: end.owner, step: end.step ?? null, epoch: end.epoch ?? null });
        return 'ended';
      }
      const stopped = (status: RunStatus) => status === 'paused' || status === 'cancelled';
      if (end.keepPosition && stopped(run.status) && stopped(end.status)) {
        this.ctx
          .sql(
            `UPDATE runs SET step = coalesce(@step, step), epoch = coalesce(@epoch, epoch), updated_at = @now
             WHERE id = @runId AND status IN ('paused', 'cancelled') AND owner = @owner`,
          )
          .run({ now, runId, owner: end.owner, step: end.step ?? null, epoch: end.epoch ?? null });
        return 'positioned';
      }
      return 'skipped';
    });
  }

  /**
   * For start-up: every 'running' run whose process is gone becomes 'interrupted'. Gone means no
   * owner recorded; or an owner on this host whose pid is dead (or is this process's pid while this
   * process never claimed the run: a previous process with a recycled pid); or no heartbeat for
   * staleAfterMs (covers other hosts and recycled pids). Runs a live process holds, such as the
   * app's while the CLI starts, are left alone. Returns the ids marked.
   */
  markInterrupted(options: MarkInterruptedOptions = {}): string[] {
    const { staleAfterMs = 10 * 60_000, now = Date.now(), isProcessAlive = processAlive } = options;
    const host = os.hostname();
    return this.ctx.write(() => {
      const running = this.ctx
        .sql(
          `SELECT id, owner, coalesce(heartbeat_at, started_at, updated_at) AS lastSeen FROM runs WHERE status = 'running'`,
        )
        .all() as { id: string; owner: string | null; lastSeen: number }[];
      const marked: string[] = [];
      for (const run of running) {
        if (run.owner === this.ctx.processToken && claimedHere.has(this.claimKey(run.id))) continue;
        const reason = this.whyGone(run.owner, run.lastSeen, { host, now, staleAfterMs, isProcessAlive });
        if (!reason) continue;
        this.updateStatus(run.id, 'interrupted', {
          error: `Interrupted: ${reason}. Resume it to continue from its last checkpoint.`,
        });
        marked.push(run.id);
      }
      return marked;
    });
  }

  private whyGone(
    owner: string | null,
    lastSeen: number,
    context: { host: string; now: number; staleAfterMs: number; isProcessAlive: (pid: number) => boolean },
  ): string | null {
    if (!owner) return 'no process was recorded as running it';
    const separator = owner.lastIndexOf(':');
    const host = owner.slice(0, separator);
    const pid = Number(owner.slice(separator + 1));
    if (host === context.host && (pid === process.pid || !context.isProcessAlive(pid)))
      return `its process (${owner}) is gone`;
    if (context.now - lastSeen > context.staleAfterMs)
      return `no heartbeat from ${owner} for ${Math.round((context.now - lastSeen) / 1000)} s`;
    return null;
  }

  /** Sets descriptive fields the trainer learns after creation, or a new name. */
  setInfo(
    runId: string,
    info: {
      name?: string;
      backend?: string;
      /** Replaces the run's notes (each start says why its backend was chosen). */
      backendNotes?: readonly string[];
      datasetHash?: string;
      testSetHash?: string;
      totalSteps?: number;
    },
  ): Run {
    const name = info.name === undefined ? null : requireText(info.name, 'Run name');
    if (info.backendNotes?.some((note) => typeof note !== 'string'))
      throw new InvalidInputError(`Backend notes of run ${runId} must be strings.`);
    return this.ctx.write(() => {
      requireRun(this.ctx, runId);
      this.ctx
        .sql(
          `UPDATE runs SET name = coalesce(?, name), backend = coalesce(?, backend), dataset_hash = coalesce(?, dataset_hash),
             test_set_hash = coalesce(?, test_set_hash), total_steps = coalesce(?, total_steps),
             backend_notes = coalesce(?, backend_notes), updated_at = ? WHERE id = ?`,
        )
        .run(
          name,
          info.backend ?? null,
          info.datasetHash ?? null,
          info.testSetHash ?? null,
          info.totalSteps ?? null,
          info.backendNotes === undefined ? null : JSON.stringify(info.backendNotes),
          Date.now(),
          runId,
        );
      return this.get(runId)!;
    });
  }

  /**
   * Deletes a run with its metrics, images, checkpoint rows, tags and note (by cascade). Returns
   * the checkpoint file paths, which the caller deletes. A running run must be stopped first.
   */
  delete(runId: string): string[] {
    return this.ctx.write(() => {
      const { status } = this.require(runId);
      if (status === 'running') throw new InvalidInputError(`Run ${runId} is running; cancel it before deleting it.`);
      const paths = this.ctx
        .sql('SELECT DISTINCT path FROM checkpoints WHERE run_id = ? ORDER BY path')
        .pluck()
        .all(runId) as string[];
      this.ctx.sql('DELETE FROM runs WHERE id = ?').run(runId);
      claimedHere.delete(this.claimKey(runId));
      return paths;
    });
  }

  private freshId(): string {
    // 32 random bits: collisions are rare, and checked under the write lock.
    for (let attempt = 0; attempt < 16; attempt++) {
      const id = randomBytes(4).toString('hex');
      if (!this.ctx.sql('SELECT 1 FROM runs WHERE id = ?').get(id)) return id;
    }
    throw new Error('Could not find a free run id after 16 attempts.');
  }

  private claimKey(runId: string): string {
    return `${this.ctx.file}\0${runId}`;
  }
}
