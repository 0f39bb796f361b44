// The application service: one object behind the Electron IPC handlers, the HTTP server and the
// CLI. It owns the store, runs the queue (claim a queued run -> train it in a worker thread),
// writes the trainer's events to SQLite in batched transactions, and pushes the same events to
// every open view after they are stored.
import { createHash } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import { mkdirSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseRunConfig, type RunConfig } from '../api/config';
import {
  ApiError,
  isMethodName,
  validateRequest,
  type ImageKind,
  type ImageMeta,
  type MetricPoint,
  type ResponseMap,
  type RequestOf,
  type RunDetail,
  type RunSummary,
  type SeriesResult,
  type WorkbenchApi,
  type WorkbenchEvent,
  WorkspaceStateSchema, // issue #15, h-views
} from '../api/contract';
import { APP_VERSION } from '../api/version';
import {
  InvalidInputError,
  InvalidTransitionError,
  NotFoundError,
  openStore,
  StoreError,
  type MetricPoint as StoredPoint,
  type Run,
  type Store,
} from '../store';
import type { BackendPreference } from '../training/backend';
import type { TrainerEvent } from '../training/events';
import { startJob, type RunningJob } from '../training/pool';
import { resolveDataPaths, type DataPaths } from './paths';
import * as exchange from './exchange';
import { planGrid } from './sweep'; // grid sweeps (issue #15, h-views)

export interface WorkbenchOptions {
  /** `--db`: a data folder or a .sqlite file; default $VAE_WORKBENCH_HOME or the per-user folder. */
  db?: string;
  /** Take queued runs from the store and train them (the app and browser mode); the CLI trains only its own. */
  runQueue: boolean;
  /** Runs trained at once; default: the number of cores. */
  concurrency?: number;
  /** Force a backend for every run this process trains (tests, bench). */
  backend?: BackendPreference;
  /** Path of a better-sqlite3 binary built for this runtime (Electron); see scripts/native-sqlite.mjs. */
  sqliteBinding?: string;
  /** How often buffered metrics are committed (default 250 ms: a crash loses at most that much). */
  flushMs?: number;
  /** How often running runs record a heartbeat and look for cancel/pause from other processes. */
  heartbeatMs?: number;
}

/** Epoch checkpoints kept per run besides the latest; older ones are deleted with their files. */
const KEEP_EPOCH_CHECKPOINTS = 3;
const HEADLINE_METRICS = ['test/elbo', 'test/iwae', 'test/kl', 'test/recon', 'test/active_units', 'train/loss'];

interface ActiveRun {
  job: RunningJob;
  step: number;
  epoch: number;
  lastBroadcast: number;
  stopping: boolean;
  /** Why this run's results could not be stored (disk full, run deleted elsewhere); it ends 'failed'. */
  failure: string | null;
}

export class Workbench implements WorkbenchApi {
  private readonly listeners = new Set<(event: WorkbenchEvent) => void>();
  private readonly active = new Map<string, ActiveRun>();
  private readonly waiters = new Map<string, ((run: RunSummary) => void)[]>();
  private pending: StoredPoint[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  readonly concurrency: number;
  /** How the store records this process as a run's owner ("host:pid"). */
  private readonly processToken = `${hostname()}:${process.pid}`;

  private constructor(
    readonly store: Store,
    readonly paths: DataPaths,
    private readonly options: WorkbenchOptions,
  ) {
    this.concurrency = options.concurrency ?? availableParallelism();
  }

  static async open(options: WorkbenchOptions): Promise<Workbench> {
    const paths = resolveDataPaths(options.db);
    const store = openStore(paths.dbFile, { appVersion: APP_VERSION, nativeBinding: options.sqliteBinding });
    const service = new Workbench(store, paths, options);
    // Runs left 'running' by a process that died (kill -9, power cut) become 'interrupted'.
    service.store.runs.markInterrupted();
    service.timers.push(setInterval(() => service.flush(), options.flushMs ?? 250));
    service.timers.push(setInterval(() => service.heartbeat(), options.heartbeatMs ?? 1000));
    for (const timer of service.timers) timer.unref();
    if (options.runQueue) service.schedule();
    return service;
  }

  // ---- events ---------------------------------------------------------------------------------

  subscribe(listener: (event: WorkbenchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private broadcast(event: WorkbenchEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // One broken view must not stop the others or the trainer.
      }
    }
  }

  /** Validates a request at the boundary and runs the method (HTTP and IPC both come through here). */
  async dispatch(method: string, payload: unknown): Promise<unknown> {
    if (!isMethodName(method)) throw new ApiError(404, `Unknown API method '${method}'`);
    const request = validateRequest(method, payload);
    const handler = this[method] as (request: unknown) => Promise<unknown>;
    return handler.call(this, request);
  }

  // ---- queries --------------------------------------------------------------------------------

  async appInfo(_request?: RequestOf<'appInfo'>): Promise<ResponseMap['appInfo']> {
    return { version: APP_VERSION, dataDir: this.paths.dataDir, transport: 'http', cores: availableParallelism() };
  }

  async listRuns(_request?: RequestOf<'listRuns'>): Promise<RunSummary[]> {
    return this.store.runs.list({ metrics: HEADLINE_METRICS }).map((item) => this.summary(item, item.metrics));
  }

  async getRun({ runId }: RequestOf<'getRun'>): Promise<RunDetail> {
    const run = this.requireRun(runId);
    return {
      ...this.summary(run),
      notes: this.store.notes.get(run.id)?.text ?? '',
      metricNames: this.store.metrics.listMetricNames(run.id),
      checkpoints: this.store.checkpoints
        .list(run.id)
        .map(({ id, step, epoch, kind, size, sha256, createdAt }) => ({
          id,
          step,
          epoch,
          kind,
          size,
          sha256,
          createdAt,
        })),
    };
  }

  async getSeries({ runIds, metric, maxBuckets }: RequestOf<'getSeries'>): Promise<SeriesResult[]> {
    return runIds.map((runId) => ({
      runId,
      metric,
      buckets: this.store.metrics.readSeries(this.requireRun(runId).id, metric, { maxBuckets: maxBuckets ?? 1000 }),
    }));
  }

  async listMetricNames({ runIds }: RequestOf<'listMetricNames'>): Promise<string[]> {
    const names = new Set<string>();
    for (const runId of runIds)
      for (const name of this.store.metrics.listMetricNames(this.requireRun(runId).id)) names.add(name);
    return [...names].sort();
  }

  async listImages({ runId, kind }: RequestOf<'listImages'>): Promise<ImageMeta[]> {
    return this.store.images.list(this.requireRun(runId).id, kind).map(toImageMeta);
  }

  async getImage({ imageId }: RequestOf<'getImage'>): Promise<{ dataUrl: string }> {
    const image = this.store.images.get(imageId);
    if (!image) throw new ApiError(404, `Image ${imageId} not found`);
    return { dataUrl: pngDataUrl(image.png) };
  }

  /** Resolves when the run is no longer queued or running (CLI train/resume). */
  waitForRun(runId: string): Promise<RunSummary> {
    const run = this.requireRun(runId);
    if (run.status !== 'queued' && run.status !== 'running') return Promise.resolve(this.summary(run));
    return new Promise((resolve) => this.waiters.set(runId, [...(this.waiters.get(runId) ?? []), resolve]));
  }

  // ---- commands -------------------------------------------------------------------------------

  /**
   * Creates a queued run. With `startHere`, this process claims and trains it at once (the CLI),
   * in the same transaction, so a running app cannot take it first.
   */
  async createRun(
    request: RequestOf<'createRun'>,
    options: { startHere?: boolean; replayOf?: string } = {},
  ): Promise<RunSummary> {
    const config = this.parseConfig(request.config);
    const run = this.guard(() =>
      this.store.transaction(() => {
        const created = this.store.runs.create({
          config,
          name: request.name,
          experimentName: request.experiment,
          tags: request.tags,
          replayOf: options.replayOf,
        });
        return options.startHere ? this.store.runs.updateStatus(created.id, 'running') : created;
      }),
    );
    const summary = this.summary(run);
    this.broadcast({ type: 'run', run: summary });
    if (options.startHere) this.startRun(run);
    else this.schedule();
    return summary;
  }

  async createSweep({ config, experiment, param, values }: RequestOf<'createSweep'>): Promise<RunSummary[]> {
    const base = this.parseConfig(config);
    // Validate every member before creating any, so a bad value leaves nothing behind.
    const configs = values.map((value) => {
      const copy = structuredClone(base) as RunConfig & Record<string, Record<string, unknown>>;
      const [group, key] = param.split('.') as [keyof RunConfig, string];
      (copy[group] as Record<string, unknown>)[key] = value;
      if (param === 'model.beta' && copy.model.kind === 'vae' && value !== 1) copy.model.kind = 'beta-vae';
      return this.parseConfig(copy);
    });
    const runs = this.guard(() =>
      this.store.transaction(() =>
        configs.map((c, i) =>
          this.store.runs.create({
            config: c,
            experimentName: experiment,
            name: `${experiment} ${param}=${values[i]}`,
          }),
        ),
      ),
    );
    const summaries = runs.map((run) => this.summary(run));
    for (const run of summaries) this.broadcast({ type: 'run', run });
    this.schedule();
    return summaries;
  }

  // ---- grid sweeps (issue #15, h-views; the plan and its checks live in ./sweep.ts) ----
  async createGridSweep({ config, experiment, grid, tags }: RequestOf<'createGridSweep'>): Promise<RunSummary[]> {
    const planned = planGrid(this.parseConfig(config), experiment, grid, (c) => this.parseConfig(c));
    const runs = this.guard(() =>
      this.store.transaction(() =>
        planned.map((p) =>
          this.store.runs.create({ config: p.config, experimentName: experiment, name: p.name, tags }),
        ),
      ),
    );
    const summaries = runs.map((run) => this.summary(run));
    for (const run of summaries) this.broadcast({ type: 'run', run });
    this.schedule();
    return summaries;
  }
  // ---- end grid sweeps ----

  // ---- saved workspaces (issue #15, h-views; stored by store/workspaces.ts) ----
  async getWorkspace({ name = 'default' }: RequestOf<'getWorkspace'>): Promise<ResponseMap['getWorkspace']> {
    const saved = this.store.workspaces.get(name);
    const parsed = saved ? WorkspaceStateSchema.safeParse(saved.state) : null;
    // A document from another app version that no longer fits the schema reads as none.
    return { name, state: parsed?.success ? parsed.data : null, updatedAt: saved?.updatedAt ?? null };
  }

  async saveWorkspace({ name = 'default', state }: RequestOf<'saveWorkspace'>): Promise<ResponseMap['saveWorkspace']> {
    const saved = this.guard(() => this.store.workspaces.set(name, state));
    return { name: saved.name, state, updatedAt: saved.updatedAt };
  }
  // ---- end saved workspaces ----

  // ---- latent scatter (issue #15, h-views; stored by store/latents.ts) ----
  async getLatents({ runId, step }: RequestOf<'getLatents'>): Promise<ResponseMap['getLatents']> {
    const id = this.requireRun(runId).id;
    const record = this.store.latents.get(id, step);
    if (step !== undefined && !record) throw new ApiError(404, `Run ${runId} stored no latents at step ${step}`);
    return {
      runId: id,
      evaluations: this.store.latents.steps(id),
      step: record?.step ?? null,
      epoch: record?.epoch ?? null,
      count: record?.count ?? 0,
      dims: record?.dims ?? 0,
      means: record ? Array.from(record.means) : [],
      labels: record?.labels ? Array.from(record.labels) : null,
    };
  }
  // ---- end latent scatter ----

  async duplicateRun({ runId }: RequestOf<'duplicateRun'>): Promise<RunSummary> {
    const original = this.requireRun(runId);
    return this.createRun({
      config: original.config,
      experiment: original.experimentName ?? undefined,
      name: `${original.name} (copy)`,
      tags: original.tags,
    });
  }

  async cancelRun({ runId }: RequestOf<'cancelRun'>): Promise<RunSummary> {
    return this.stopRun(runId, 'cancelled');
  }

  async pauseRun({ runId }: RequestOf<'pauseRun'>): Promise<RunSummary> {
    return this.stopRun(runId, 'paused');
  }

  /**
   * Cancel or pause. A run this process trains is signalled directly (it stops at the next batch);
   * one trained by another process is marked in the store, and that process's heartbeat sees it
   * within a second and stops its worker.
   */
  private async stopRun(runId: string, to: 'cancelled' | 'paused'): Promise<RunSummary> {
    const run = this.requireRun(runId);
    const local = this.active.get(run.id);
    if (local) {
      local.stopping = true;
      if (to === 'paused') local.job.pause();
      else local.job.cancel();
      return this.summary(run);
    }
    if (to === 'paused' && run.status !== 'running') {
      throw new ApiError(409, `Run ${run.id} is ${run.status}; only a running run can be paused`);
    }
    const updated = this.guard(() => this.store.runs.updateStatus(run.id, to));
    const summary = this.summary(updated);
    this.broadcast({ type: 'run', run: summary });
    this.notifyWaiters(summary);
    return summary;
  }

  async resumeRun({ runId }: RequestOf<'resumeRun'>, options: { startHere?: boolean } = {}): Promise<RunSummary> {
    const run = this.requireRun(runId);
    const checkpoint = this.store.checkpoints.latest(run.id);
    const startHere = options.startHere ?? !this.options.runQueue;
    const resumed = this.guard(() =>
      this.store.transaction(() => {
        const queued = this.store.runs.resume(run.id, { fromStep: checkpoint?.step ?? 0 });
        return startHere ? this.store.runs.updateStatus(queued.id, 'running') : queued;
      }),
    );
    const summary = this.summary(resumed);
    this.broadcast({ type: 'run', run: summary });
    if (startHere) this.startRun(resumed);
    else this.schedule();
    return summary;
  }

  async deleteRun({ runId }: RequestOf<'deleteRun'>): Promise<{ deleted: true }> {
    const run = this.requireRun(runId);
    const files = this.guard(() => this.store.runs.delete(run.id));
    for (const file of files) rmSync(file, { force: true });
    rmSync(join(this.paths.checkpointsDir, run.id), { recursive: true, force: true });
    this.broadcast({ type: 'run-deleted', runId: run.id });
    return { deleted: true };
  }

  async setNotes({ runId, text }: RequestOf<'setNotes'>): Promise<{ ok: true }> {
    this.guard(() => this.store.notes.set(this.requireRun(runId).id, text));
    return { ok: true };
  }

  async setTags({ runId, tags }: RequestOf<'setTags'>): Promise<RunSummary> {
    const run = this.requireRun(runId);
    this.guard(() =>
      this.store.transaction(() => {
        for (const tag of run.tags) if (!tags.includes(tag)) this.store.tags.remove(run.id, tag);
        this.store.tags.add(run.id, tags);
      }),
    );
    const summary = this.summary(this.requireRun(run.id));
    this.broadcast({ type: 'run', run: summary });
    return summary;
  }

  // ---- export, import, replay, generation, playback (exchange/) ---------------------------------

  private exchangeContext(): exchange.ExchangeContext {
    return { store: this.store, checkpointsDir: this.paths.checkpointsDir, backend: this.options.backend };
  }

  /** Exchange failures become API errors: a refused bundle is bad input (400), a missing checkpoint a conflict. */
  private async exchangeCall<T>(fn: () => T | Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      if (error instanceof ApiError) throw error;
      if (error instanceof exchange.ExchangeError) throw new ApiError(error.status, error.message);
      if (error instanceof exchange.BundleError)
        throw new ApiError(400, `Bundle refused, nothing was imported: ${error.message}`);
      return this.guard(() => {
        throw error; // store errors become 404 / 409 / 507 as elsewhere
      });
    }
  }

  async exportRun({ runId, checkpoint, out }: RequestOf<'exportRun'>): Promise<ResponseMap['exportRun']> {
    const run = this.requireRun(runId);
    return this.exchangeCall(() => exchange.exportRun(this.exchangeContext(), run.id, { checkpoint, out }));
  }

  async importBundle({ path }: RequestOf<'importBundle'>): Promise<ResponseMap['importBundle']> {
    const result = await this.exchangeCall(() => exchange.importBundle(this.exchangeContext(), path));
    const run = this.summary(this.requireRun(result.runId));
    this.broadcast({ type: 'run', run });
    return {
      run,
      sourceRunId: result.sourceRunId,
      warnings: result.warnings,
      metricPoints: result.metricPoints,
      images: result.images,
    };
  }

  async planReplay({ runId }: RequestOf<'planReplay'>): Promise<ResponseMap['planReplay']> {
    return exchange.planReplay(this.requireRun(runId), this.options.backend);
  }

  /** Trains the run's config again (same seed) as a new run linked by replay_of; the plan names what may differ. */
  async replayRun(
    { runId }: RequestOf<'replayRun'>,
    options: { startHere?: boolean } = {},
  ): Promise<ResponseMap['replayRun']> {
    const original = this.requireRun(runId);
    const plan = await exchange.planReplay(original, this.options.backend);
    const run = await this.createRun(
      {
        config: original.config,
        experiment: original.experimentName ?? undefined,
        name: `${original.name} (replay)`,
        tags: original.tags,
      },
      { startHere: options.startHere ?? !this.options.runQueue, replayOf: original.id },
    );
    return { run, plan };
  }

  async compareRuns({ runIds: [first, second] }: RequestOf<'compareRuns'>): Promise<ResponseMap['compareRuns']> {
    return exchange.compareRuns(this.store, this.requireRun(first).id, this.requireRun(second).id);
  }

  async generateSamples({
    runId,
    checkpoint,
    count,
    seed,
  }: RequestOf<'generateSamples'>): Promise<ResponseMap['generateSamples']> {
    const { png, ...image } = await this.exchangeCall(() =>
      exchange.generateSamples(this.exchangeContext(), runId, { checkpoint, count, seed }),
    );
    return { ...image, dataUrl: pngDataUrl(png) };
  }

  async interpolateLatent({
    runId,
    checkpoint,
    from,
    to,
    steps,
  }: RequestOf<'interpolateLatent'>): Promise<ResponseMap['interpolateLatent']> {
    const { png, ...image } = await this.exchangeCall(() =>
      exchange.interpolateLatent(this.exchangeContext(), runId, { checkpoint, from, to, steps }),
    );
    return { ...image, dataUrl: pngDataUrl(png) };
  }

  /** Playback: for each image kind, the grid logged at the highest step <= step. */
  async imagesAtStep({ runId, step }: RequestOf<'imagesAtStep'>): Promise<ResponseMap['imagesAtStep']> {
    return this.store.images.atOrBefore(this.requireRun(runId).id, step).map(toImageMeta);
  }

  // ---- the queue and the workers ----------------------------------------------------------------

  /** Starts queued runs while fewer than `concurrency` run here. */
  private schedule(): void {
    if (!this.options.runQueue || this.closed) return;
    while (this.active.size < this.concurrency) {
      const run = this.guard(() => this.store.runs.claimNext());
      if (!run) return;
      this.broadcast({ type: 'run', run: this.summary(run) });
      this.startRun(run);
    }
  }

  private startRun(run: Run): void {
    const checkpoint = run.resumedCount > 0 ? this.store.checkpoints.latest(run.id) : null;
    const resumeFrom =
      checkpoint && checkpoint.step > 0 && existsSync(checkpoint.path)
        ? { path: checkpoint.path, step: checkpoint.step }
        : null;
    const job = startJob({ runId: run.id, config: run.config, resumeFrom, backend: this.options.backend }, (event) =>
      this.onTrainerEvent(run.id, event),
    );
    this.active.set(run.id, {
      job,
      step: run.step,
      epoch: run.epoch,
      lastBroadcast: 0,
      stopping: false,
      failure: null,
    });
    void job.done.then((result) => this.finishRun(run.id, result.status, result.error));
  }

  private onTrainerEvent(runId: string, event: TrainerEvent): void {
    const active = this.active.get(runId);
    try {
      switch (event.type) {
        case 'started': {
          const run = this.store.runs.setInfo(runId, {
            backend: event.backend,
            datasetHash: event.datasetHash,
            totalSteps: event.totalSteps,
          });
          this.broadcast({ type: 'run', run: this.summary(run) });
          break;
        }
        case 'metrics':
          for (const p of event.points) this.pending.push({ runId, ...p });
          break;
        case 'latents': // issue #15, h-views: the latent scatter's posterior means
          this.store.latents.put({ runId, ...event });
          break;
        case 'progress':
          if (active) {
            active.step = event.step;
            active.epoch = event.epoch;
          }
          break;
        case 'image': {
          this.flush();
          const meta = this.store.images.add({
            runId,
            step: event.step,
            epoch: event.epoch,
            kind: event.kind,
            png: event.png,
            width: event.width,
            height: event.height,
          });
          this.broadcast({ type: 'image', image: toImageMeta(meta) });
          break;
        }
        case 'checkpoint':
          this.saveCheckpoint(runId, event);
          break;
        case 'finished':
          // The pool's `done` carries the outcome (also when a worker dies without this event).
          if (active) {
            active.step = event.step;
            active.epoch = event.epoch;
          }
          break;
      }
    } catch (error) {
      // A store failure (disk full, read-only) stops the run rather than losing data silently.
      this.failRun(runId, error);
    }
  }

  /** Stops a run whose results cannot be stored; it is recorded as 'failed' with the reason. */
  private failRun(runId: string, error: unknown): void {
    const active = this.active.get(runId);
    if (!active) return;
    active.failure ??= error instanceof Error ? error.message : String(error);
    active.job.cancel();
  }

  /** Writes a checkpoint to a temporary name and renames it, so a crash never leaves half a file. */
  private saveCheckpoint(runId: string, event: Extract<TrainerEvent, { type: 'checkpoint' }>): void {
    const folder = join(this.paths.checkpointsDir, runId);
    mkdirSync(folder, { recursive: true });
    const file = join(folder, `step-${String(event.step).padStart(8, '0')}-${event.kind}.safetensors`);
    const temporary = `${file}.tmp-${process.pid}`;
    writeFileSync(temporary, event.bytes);
    renameSync(temporary, file);
    const sha256 = createHash('sha256').update(event.bytes).digest('hex');
    this.store.checkpoints.add({
      runId,
      step: event.step,
      epoch: event.epoch,
      kind: event.kind === 'epoch' ? 'epoch' : 'latest',
      path: file,
      size: event.bytes.length,
      sha256,
    });
    const epochs = this.store.checkpoints.list(runId, 'epoch');
    const latest = this.store.checkpoints.list(runId, 'latest');
    // Keep the newest few epoch checkpoints and only the newest pause/final one.
    const stale = [
      ...epochs.slice(0, Math.max(0, epochs.length - KEEP_EPOCH_CHECKPOINTS)),
      ...latest.slice(0, Math.max(0, latest.length - 1)),
    ];
    for (const old of stale) {
      const path = this.store.checkpoints.delete(old.id);
      if (path && !this.store.checkpoints.list(runId).some((c) => c.path === path)) rmSync(path, { force: true });
    }
  }

  private finishRun(runId: string, status: string, error: string | null): void {
    this.flush();
    const active = this.active.get(runId);
    this.active.delete(runId);
    const storeFailure = active?.failure ?? null;
    try {
      const current = this.store.runs.get(runId);
      // Only the process that owns the run records its end: a run paused here and already resumed
      // by another process belongs to that process now.
      if (current && current.status === 'running' && current.owner === this.processToken) {
        const to = storeFailure ? 'failed' : (status as 'completed' | 'failed' | 'cancelled' | 'diverged' | 'paused');
        const message = storeFailure ? `Could not save the run's results: ${storeFailure}` : (error ?? undefined);
        this.store.runs.updateStatus(runId, to, { error: message, step: active?.step, epoch: active?.epoch });
      }
      const run = this.store.runs.get(runId);
      if (run) {
        const summary = this.summary(run);
        this.broadcast({ type: 'run', run: summary });
        this.notifyWaiters(summary);
      }
    } catch (failure) {
      console.error(`Could not record the end of run ${runId}: ${(failure as Error).message}`);
    }
    this.schedule();
  }

  private notifyWaiters(run: RunSummary): void {
    if (run.status === 'queued' || run.status === 'running') return;
    const waiting = this.waiters.get(run.id) ?? [];
    this.waiters.delete(run.id);
    for (const resolve of waiting) resolve(run);
  }

  /** Commits buffered metric points in one transaction, then tells the views. */
  private flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const byRun = new Map<string, StoredPoint[]>();
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
          this.failRun(runId, error);
        }
      }
    }
    const now = Date.now();
    for (const [runId, stored] of byRun) {
      const points: MetricPoint[] = stored.map(({ runId: _, ...point }) => point);
      this.broadcast({ type: 'metrics', runId, points });
      const active = this.active.get(runId);
      if (active && now - active.lastBroadcast > 500) {
        active.lastBroadcast = now;
        const run = this.store.runs.get(runId);
        if (run) this.broadcast({ type: 'run', run: { ...this.summary(run), step: active.step, epoch: active.epoch } });
      }
    }
  }

  /** Records liveness and progress; a run stopped from another process is signalled here. */
  private heartbeat(): void {
    for (const [runId, active] of this.active) {
      if (active.stopping) continue;
      try {
        const alive = this.store.runs.heartbeat(runId, { step: active.step, epoch: active.epoch });
        if (!alive) {
          active.stopping = true;
          const status = this.store.runs.get(runId)?.status;
          if (status === 'paused') active.job.pause();
          else active.job.cancel();
        }
      } catch {
        // A busy database skips one heartbeat; the next one retries.
      }
    }
  }

  /** Pauses the runs this process trains (each keeps a checkpoint), flushes, and closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const running = [...this.active.values()];
    for (const active of running) {
      active.stopping = true;
      active.job.pause();
    }
    await Promise.all(running.map((active) => active.job.done));
    // finishRun ran for each; give its microtasks a turn, then stop.
    await new Promise((resolve) => setImmediate(resolve));
    for (const timer of this.timers) clearInterval(timer);
    this.flush();
    this.store.close();
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private parseConfig(input: unknown): RunConfig {
    try {
      return parseRunConfig(input);
    } catch (error) {
      const issues = (error as { issues?: { path: string; message: string }[] }).issues;
      throw new ApiError(400, (error as Error).message, issues?.[0] ? `config.${issues[0].path}` : 'config');
    }
  }

  private requireRun(runId: string): Run {
    try {
      return this.store.runs.require(this.store.runs.resolveId(runId));
    } catch (error) {
      if (error instanceof NotFoundError) throw new ApiError(404, error.message);
      throw error;
    }
  }

  /** Store errors become API errors a person can act on. */
  private guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof NotFoundError) throw new ApiError(404, error.message);
      if (error instanceof InvalidTransitionError || error instanceof InvalidInputError)
        throw new ApiError(409, error.message);
      if (error instanceof StoreError) throw new ApiError(507, error.message);
      throw error;
    }
  }

  private summary(run: Run, metrics?: Record<string, number | null>): RunSummary {
    const final: Record<string, number> = {};
    if (metrics) {
      for (const [name, value] of Object.entries(metrics)) if (value !== null) final[name] = value;
    } else {
      for (const [name, point] of Object.entries(this.store.metrics.finalMetrics(run.id))) {
        if (HEADLINE_METRICS.includes(name)) final[name] = point.value;
      }
    }
    return {
      id: run.id,
      name: run.name,
      experiment: run.experimentName,
      status: run.status,
      modelKind: run.modelKind,
      dataset: run.dataset,
      datasetHash: run.datasetHash,
      backend: run.backend,
      appVersion: run.appVersion,
      seed: run.seed,
      config: run.config,
      tags: run.tags,
      createdAt: run.createdAt,
      startedAt: run.startedAt,
      finishedAt: run.finishedAt,
      step: run.step,
      epoch: run.epoch,
      totalSteps: run.totalSteps,
      error: run.error,
      replayOf: run.replayOf,
      final,
    };
  }
}

/** PNG bytes as a data: URL, the form images take through the API (IPC and HTTP alike). */
function pngDataUrl(png: Uint8Array): string {
  return `data:image/png;base64,${Buffer.from(png).toString('base64')}`;
}

function toImageMeta(meta: {
  id: number;
  runId: string;
  step: number;
  epoch: number;
  kind: string;
  width: number;
  height: number;
}): ImageMeta {
  return {
    id: meta.id,
    runId: meta.runId,
    step: meta.step,
    epoch: meta.epoch,
    kind: meta.kind as ImageKind,
    width: meta.width,
    height: meta.height,
  };
}
