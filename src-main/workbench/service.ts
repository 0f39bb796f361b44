// The workbench facade: the one object behind the Electron IPC handler and menu, the HTTP server
// and the CLI. `dispatch` validates a request once, runs its handler (handlers.ts) and maps any
// failure once (errors.ts); the typed methods below are dispatch under each method's name. Behind
// it, along the data path: the run queue (queue.ts), the training ingest (ingest.ts) and the
// checkpoint files (checkpointFiles.ts), over the store on its own worker thread (storeThread.ts).
import { availableParallelism } from 'node:os';
import {
  ApiError,
  isMethodName,
  validateRequest,
  type MethodName,
  type RequestOf,
  type ResponseMap,
  type RunSummary,
  type WorkbenchEvent,
} from '../api/contract';
import { APP_VERSION } from '../api/version';
import type { BackendPreference } from '../training/backend';
import { CheckpointFiles } from './checkpointFiles';
import { toApiError } from './errors';
import { createHandlers, type CallOptions, type Handlers, type RemoteRunner } from './handlers';
import { TrainingIngest, ViewEvents } from './ingest';
import { resolveDataPaths, type DataPaths } from './paths';
import { RunQueue } from './queue';
import { openStoreThread, type RemoteStore } from './storeThread';

export type { CallOptions, RemoteRunner } from './handlers';

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

export interface RemoteIngestPort {
  store: RemoteStore;
  ingest: TrainingIngest;
  /** Tells the views about a run and resolves those waiting for its end (waitForRun). */
  announce(run: RunSummary): void;
}

type Call<M extends MethodName> = (request?: RequestOf<M>, options?: CallOptions) => Promise<ResponseMap[M]>;

export class Workbench {
  readonly concurrency: number;
  private readonly views = new ViewEvents();
  private readonly queue: RunQueue;
  private readonly ingest: TrainingIngest;
  private readonly handlers: Handlers;
  private readonly timers: NodeJS.Timeout[] = [];
  private closed = false;
  /** The queue new runs may be handed to (`runOn: 'queue'`), once attached (issue #18). */
  private remote: RemoteRunner | null = null;

  private constructor(
    /** The store, on its own worker thread: every call is a request to it. */
    readonly store: RemoteStore,
    readonly paths: DataPaths,
    options: WorkbenchOptions,
  ) {
    this.concurrency = options.concurrency ?? availableParallelism();
    const checkpoints = new CheckpointFiles(store, paths.checkpointsDir);
    const queue = new RunQueue(store, this.views, checkpoints, {
      claim: options.runQueue,
      concurrency: this.concurrency,
      backend: options.backend,
      datasetsDir: paths.datasetsDir,
    });
    this.ingest = new TrainingIngest(store, this.views, checkpoints, (runId, error) => queue.fail(runId, error));
    queue.ingest = this.ingest;
    this.queue = queue;
    this.handlers = createHandlers({
      store,
      paths,
      queue,
      views: this.views,
      checkpoints,
      backend: options.backend,
      remote: () => this.remote,
    });
  }

  static async open(options: WorkbenchOptions): Promise<Workbench> {
    const paths = resolveDataPaths(options.db);
    const store = await openStoreThread({
      file: paths.dbFile,
      appVersion: APP_VERSION,
      nativeBinding: options.sqliteBinding,
    });
    const service = new Workbench(store, paths, options);
    // Runs left 'running' by a process that died (kill -9, power cut) become 'interrupted'.
    await store.runs.markInterrupted();
    service.timers.push(setInterval(() => void service.ingest.flush(), options.flushMs ?? 250));
    service.timers.push(setInterval(() => void service.queue.heartbeat(), options.heartbeatMs ?? 1000));
    for (const timer of service.timers) timer.unref();
    void service.queue.schedule();
    return service;
  }

  subscribe(listener: (event: WorkbenchEvent) => void): () => void {
    return this.views.subscribe(listener);
  }

  /**
   * Validates a request at the boundary, runs the method, and maps a failure to the ApiError of
   * ERROR_TABLE. HTTP, IPC, the Electron menu and the CLI all come through here.
   */
  dispatch<M extends MethodName>(method: M, payload: RequestOf<M>, options?: CallOptions): Promise<ResponseMap[M]>;
  dispatch(method: string, payload: unknown, options?: CallOptions): Promise<unknown>;
  async dispatch(method: string, payload: unknown, options: CallOptions = {}): Promise<unknown> {
    try {
      if (!isMethodName(method)) throw new ApiError(404, `Unknown API method '${method}'`);
      const handler = this.handlers[method] as (request: unknown, options: CallOptions) => Promise<unknown>;
      return await handler(validateRequest(method, payload), options);
    } catch (error) {
      throw toApiError(error);
    }
  }

  private call<M extends MethodName>(method: M): Call<M> {
    return (request, options) => this.dispatch(method, (request ?? {}) as RequestOf<M>, options);
  }

  readonly appInfo = this.call('appInfo');
  readonly listRuns = this.call('listRuns');
  readonly getRun = this.call('getRun');
  readonly createRun = this.call('createRun');
  readonly createSweep = this.call('createSweep');
  readonly cancelRun = this.call('cancelRun');
  readonly pauseRun = this.call('pauseRun');
  readonly resumeRun = this.call('resumeRun');
  readonly deleteRun = this.call('deleteRun');
  readonly duplicateRun = this.call('duplicateRun');
  readonly getSeries = this.call('getSeries');
  readonly listMetricNames = this.call('listMetricNames');
  readonly listImages = this.call('listImages');
  readonly getImage = this.call('getImage');
  readonly setNotes = this.call('setNotes');
  readonly setTags = this.call('setTags');
  readonly exportRun = this.call('exportRun');
  readonly importBundle = this.call('importBundle');
  readonly planReplay = this.call('planReplay');
  readonly importDataset = this.call('importDataset');
  readonly listDatasets = this.call('listDatasets');
  readonly createGridSweep = this.call('createGridSweep');
  readonly getWorkspace = this.call('getWorkspace');
  readonly saveWorkspace = this.call('saveWorkspace');
  readonly getLatents = this.call('getLatents');
  readonly getTestImage = this.call('getTestImage');
  readonly replayRun = this.call('replayRun');
  readonly compareRuns = this.call('compareRuns');
  readonly generateSamples = this.call('generateSamples');
  readonly interpolateLatent = this.call('interpolateLatent');
  readonly imagesAtStep = this.call('imagesAtStep');

  /** Resolves when the run is no longer queued or running (CLI train/resume). */
  async waitForRun(runId: string): Promise<RunSummary> {
    try {
      return await this.queue.waitFor(await this.store.runs.summary(await this.store.runs.resolveId(runId)));
    } catch (error) {
      throw toApiError(error);
    }
  }

  /**
   * What a queue coordinator (src-main/queue, issue #18) needs to bring remote runs' events into
   * this store through the same ingest as local runs, and to tell the views and waiters of their ends.
   */
  remoteIngest(): RemoteIngestPort {
    return {
      store: this.store,
      ingest: this.ingest,
      announce: (run) => this.queue.announce(run),
    };
  }

  /** Lets requests hand runs to a queue (`serve --queue`); null detaches it. */
  attachRemote(runner: RemoteRunner | null): void {
    this.remote = runner;
  }

  /** Pauses the runs this process trains (each keeps a checkpoint), flushes, and closes the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue.close();
    for (const timer of this.timers) clearInterval(timer);
    await this.ingest.flush();
    await this.store.close();
  }
}
