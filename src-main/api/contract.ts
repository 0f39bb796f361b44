// The API contract: every request, response and pushed event, typed once. The Electron preload,
// the HTTP server, the CLI and the renderer all use these names and schemas; a request is
// validated against its schema at the boundary (`validateRequest`) before any handler runs.
import { z } from 'zod';
import { describeIssues, RunConfigSchema, type RunConfig } from './config';
import { IMAGE_KINDS, SWEEP_PARAMS, type CheckpointKind, type ImageKind, type RunStatus } from './constants';

export {
  ACTIVE_STATUSES,
  CHECKPOINT_KINDS,
  HEADLINE_METRICS,
  IMAGE_KINDS,
  RUN_STATUSES,
  SWEEP_PARAMS,
  type CheckpointKind,
  type ImageKind,
  type RunStatus,
} from './constants';

/**
 * A run: the one declaration of its record. The store returns it (its own `Run` adds only the
 * bookkeeping columns: owner, heartbeat, resume count), the API sends it, and a bundle's run.json
 * holds it without its config.
 */
export interface RunRecord {
  id: string;
  name: string;
  experiment: string | null;
  status: RunStatus;
  modelKind: string;
  dataset: string;
  datasetHash: string | null;
  /** sha256 of the exact test set the run is evaluated on (indices and pixels after binarization); null until it starts. */
  testSetHash: string | null;
  /** What the recorded data set name meant when the run trained, where that differs from today; else null. */
  datasetNote: string | null;
  backend: string | null;
  appVersion: string;
  seed: number;
  config: RunConfig;
  tags: string[];
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  step: number;
  epoch: number;
  totalSteps: number | null;
  error: string | null;
  replayOf: string | null;
  /**
   * Why the backend is the one it is, as the trainer said at the run's last start: backends 'auto'
   * skipped and why (no GPU driver, a software adapter, a missing kernel), the webgpu calibration's
   * figures, the BLAS threads. Empty before the run starts (and for runs from before 0005).
   */
  backendNotes: string[];
}

export interface RunSummary extends RunRecord {
  /** Last value of each HEADLINE_METRICS the run has logged, e.g. 'test/elbo', 'test/iwae', 'train/loss'. */
  final: Record<string, number>;
}

/** A saved checkpoint as views see it (the store's row adds the run id and the file's path). */
export interface CheckpointInfo {
  id: number;
  step: number;
  epoch: number;
  kind: CheckpointKind;
  size: number;
  sha256: string;
  createdAt: number;
}

export interface RunDetail extends RunSummary {
  notes: string;
  metricNames: string[];
  checkpoints: CheckpointInfo[];
}

/** One downsampled bucket of a series: spikes survive as min/max; `last` is the value at `step`. */
export interface SeriesBucket {
  step: number;
  epoch: number;
  wallTime: number;
  min: number;
  max: number;
  last: number;
  mean: number;
  count: number;
}

export interface SeriesResult {
  runId: string;
  metric: string;
  buckets: SeriesBucket[];
}

export interface ImageMeta {
  id: number;
  runId: string;
  step: number;
  epoch: number;
  kind: ImageKind;
  width: number;
  height: number;
  /** Size of the PNG in bytes. */
  bytes: number;
  createdAt: number;
}

export interface MetricPoint {
  name: string;
  step: number;
  epoch: number;
  value: number;
  wallTime: number;
}

export interface AppInfo {
  version: string;
  dataDir: string;
  transport: 'electron' | 'http';
  cores: number;
  /** The queue this workbench hands runs to (`serve --queue`; its URL without the password), if any (issue #18). */
  queue?: string;
}

/** Where a new run trains (issue #18): in this workbench's worker threads, or on a queue's workers. */
export const RUN_ON = ['this-machine', 'queue'] as const;
export type RunOn = (typeof RUN_ON)[number];

/** Events pushed to every open view. */
export type WorkbenchEvent =
  | { type: 'run'; run: RunSummary }
  | { type: 'run-deleted'; runId: string }
  | { type: 'metrics'; runId: string; points: MetricPoint[] }
  | { type: 'image'; image: ImageMeta }
  /** A data set was imported (or imported again): the new-run form's picker lists it at once. */
  | { type: 'dataset'; dataset: DatasetInfo };

const runId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a run id (letters, digits, - and _)');
const RunRef = z.object({ runId }).strict();

/**
 * A checkpoint of a run: 'latest' (default), 'best' (a checkpoint of kind best, else the one at the
 * step with the highest test ELBO), or the step it was taken at.
 */
export type CheckpointChoice = 'latest' | 'best' | number;
const CheckpointRef: z.ZodType<CheckpointChoice> = z.union([
  z.literal('latest'),
  z.literal('best'),
  z.number().int().min(0),
]);

export interface ExportResult {
  /** Absolute path of the folder or .zip written. */
  path: string;
  format: 'zip' | 'folder';
  bytes: number;
  runId: string;
  checkpointStep: number;
  files: { path: string; size: number; sha256: string }[];
}

export interface ImportResult {
  run: RunSummary;
  /** The run's id in the database it was exported from. */
  sourceRunId: string;
  warnings: string[];
  metricPoints: number;
  images: number;
}

export interface ReplayPlan {
  runId: string;
  original: { backend: string | null; datasetHash: string | null };
  expected: { backend: string; datasetHash: string | null };
  /** Why the replay may not match the original to the last bit; empty when it should. */
  warnings: string[];
}

export interface MetricDifference {
  metric: string;
  /** Largest |a - b| over the steps both runs logged. */
  maxAbsDiff: number;
  atStep: number | null;
  /** Steps both runs logged. */
  points: number;
  onlyInFirst: number;
  onlyInSecond: number;
  identical: boolean;
  /** A measurement of the machine (samples/s), never expected to match. */
  timing: boolean;
}

export interface RunComparison {
  runIds: [string, string];
  metrics: MetricDifference[];
  /** Every metric but the timing ones equal to the last bit. */
  identical: boolean;
}

export interface GeneratedImage {
  dataUrl: string;
  width: number;
  height: number;
  count: number;
  columns: number;
  runId: string;
  checkpointStep: number;
  backend: string;
}

/** A data set imported into the data folder; `ref` ('dataset:<id>') is what data.dataset takes. */
export interface DatasetInfo {
  id: string;
  ref: string;
  name: string;
  format: 'idx' | 'idx.gz' | 'npy';
  size: number;
  sha256: string;
  count: number;
  height: number;
  width: number;
  channels: number;
  createdAt: number;
}

const WorkspaceName = z.string().trim().min(1).max(100);

/** What a saved workspace holds (issue #15): the view a person arranged, restored on reload. */
export const WorkspaceStateSchema = z
  .object({
    version: z.literal(1),
    /** Selected run ids in selection order. */
    selectedIds: z.array(runId).max(1000),
    /** Line colour per run id, kept so a run keeps its colour across reloads. */
    colors: z.record(runId, z.string().regex(/^#[0-9a-fA-F]{6}$/, 'a #rrggbb colour')),
    /** Dashboard panels; empty: the default layout for the selection. */
    panels: z
      .array(
        z
          .object({
            id: z.string().min(1).max(64),
            title: z.string().max(200),
            metrics: z.array(z.string().min(1).max(200)).min(1).max(256),
          })
          .strict(),
      )
      .max(48),
    smoothing: z.union([z.literal('auto'), z.number().min(0).max(0.999)]),
    /** Runs table columns after the name. */
    columns: z.array(z.string().min(1).max(220)).max(128),
    /** The metric the Curves chart shows ('' or absent: its default). */
    curvesMetric: z.string().max(200).optional(),
  })
  .strict();
export type WorkspaceState = z.infer<typeof WorkspaceStateSchema>;

export interface LatentsResult {
  runId: string;
  /** Every evaluation with stored means, oldest first. */
  evaluations: { step: number; epoch: number }[];
  /** The evaluation returned; null when the run stored none (yet). */
  step: number | null;
  epoch: number | null;
  count: number;
  dims: number;
  /** count x dims posterior means E_q[z|x], row-major, of the top latent layer. */
  means: number[];
  /** The examples' class labels, where the data set has them. */
  labels: number[] | null;
}

/** One example of a run's test split (index as the latent scatter counts it), its grey levels as stored. */
export interface TestImage {
  runId: string;
  index: number;
  /** Its class, where the data set has labels. */
  label: number | null;
  dataUrl: string;
  width: number;
  height: number;
}

export interface WorkspaceResult {
  name: string;
  /** null when nothing was saved under this name yet. */
  state: WorkspaceState | null;
  updatedAt: number | null;
}

/** Request schemas, one per method. */
export const requestSchemas = {
  appInfo: z.object({}).strict(),
  listRuns: z.object({}).strict(),
  getRun: RunRef,
  createRun: z
    .object({
      config: z.unknown(),
      experiment: z.string().trim().min(1).max(200).optional(),
      name: z.string().trim().min(1).max(200).optional(),
      tags: z.array(z.string().trim().min(1).max(64)).max(32).optional(),
      /** Where it trains: here (default) or on the queue's workers (issue #18; AppInfo.queue says whether there is one). */
      runOn: z.enum(RUN_ON).optional(),
    })
    .strict(),
  createSweep: z
    .object({
      config: z.unknown(),
      experiment: z.string().trim().min(1).max(200),
      param: z.enum(SWEEP_PARAMS),
      values: z.array(z.number().finite()).min(1).max(64),
    })
    .strict(),
  cancelRun: RunRef,
  pauseRun: RunRef,
  resumeRun: RunRef,
  deleteRun: RunRef,
  duplicateRun: RunRef,
  getSeries: z
    .object({
      runIds: z.array(runId).min(1).max(200),
      metric: z.string().min(1).max(200),
      maxBuckets: z.number().int().min(2).max(10_000).optional(),
    })
    .strict(),
  listMetricNames: z.object({ runIds: z.array(runId).max(200) }).strict(),
  listImages: z.object({ runId, kind: z.enum(IMAGE_KINDS).optional() }).strict(),
  getImage: z.object({ imageId: z.number().int().min(1) }).strict(),
  setNotes: z.object({ runId, text: z.string().max(100_000) }).strict(),
  setTags: z.object({ runId, tags: z.array(z.string().trim().min(1).max(64)).max(32) }).strict(),
  // Export, import, replay, generation, playback (issue #6).
  exportRun: z
    .object({ runId, checkpoint: CheckpointRef.optional(), out: z.string().trim().min(1).max(4096) })
    .strict(),
  importBundle: z.object({ path: z.string().trim().min(1).max(4096) }).strict(),
  planReplay: RunRef,
  replayRun: RunRef,
  compareRuns: z.object({ runIds: z.tuple([runId, runId]) }).strict(),
  generateSamples: z
    .object({
      runId,
      checkpoint: CheckpointRef.optional(),
      count: z.number().int().min(1).max(1024).optional(),
      seed: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31 - 1)
        .optional(),
    })
    .strict(),
  interpolateLatent: z
    .object({
      runId,
      checkpoint: CheckpointRef.optional(),
      from: z.number().int().min(0),
      to: z.number().int().min(0),
      steps: z.number().int().min(2).max(64).optional(),
    })
    .strict(),
  imagesAtStep: z.object({ runId, step: z.number().int().min(0) }).strict(),
  // Data sets by id (issue #13). importDataset takes a server path, so only the trusted shells call
  // it (the CLI, browser mode's /upload/dataset, the Electron menu); see api/confine.ts.
  importDataset: z
    .object({ path: z.string().trim().min(1).max(4096), name: z.string().trim().min(1).max(200).optional() })
    .strict(),
  listDatasets: z.object({}).strict(),
  // Views a researcher needs (issue #15).
  /** Every combination of the grid's values (e.g. model.beta x train.seed), tags on every run. */
  createGridSweep: z
    .object({
      config: z.unknown(),
      experiment: z.string().trim().min(1).max(200),
      grid: z
        .array(
          z
            .object({
              param: z.string().regex(/^(model|data|train|eval)\.[A-Za-z]+$/, 'a config key such as model.beta'),
              values: z
                .array(z.union([z.number().finite(), z.string().min(1).max(200), z.boolean()]))
                .min(1)
                .max(64),
            })
            .strict(),
        )
        .min(1)
        .max(6),
      tags: z.array(z.string().trim().min(1).max(64)).max(32).optional(),
      runOn: z.enum(RUN_ON).optional(), // issue #18
    })
    .strict(),
  getWorkspace: z.object({ name: WorkspaceName.optional() }).strict(),
  saveWorkspace: z.object({ name: WorkspaceName.optional(), state: WorkspaceStateSchema }).strict(),
  /** Posterior means of test examples at one evaluation (the newest when step is absent). */
  getLatents: z.object({ runId, step: z.number().int().min(0).optional() }).strict(),
  /** Test example `index` of a run, as a PNG, for the latent scatter's hover (issue #15). */
  getTestImage: z.object({ runId, index: z.number().int().min(0).max(1_000_000) }).strict(),
};

/** Most runs one grid sweep may create (the product of its value counts). */
export const MAX_GRID_RUNS = 256;

export type MethodName = keyof typeof requestSchemas;
export type RequestOf<M extends MethodName> = z.input<(typeof requestSchemas)[M]>;
/** A request after validateRequest: defaults applied, strings trimmed. */
export type ValidRequestOf<M extends MethodName> = z.output<(typeof requestSchemas)[M]>;

/** Response type of each method. */
export interface ResponseMap {
  appInfo: AppInfo;
  listRuns: RunSummary[];
  getRun: RunDetail;
  createRun: RunSummary;
  createSweep: RunSummary[];
  cancelRun: RunSummary;
  pauseRun: RunSummary;
  resumeRun: RunSummary;
  deleteRun: { deleted: true };
  duplicateRun: RunSummary;
  getSeries: SeriesResult[];
  listMetricNames: string[];
  listImages: ImageMeta[];
  getImage: { dataUrl: string };
  setNotes: { ok: true };
  setTags: RunSummary;
  exportRun: ExportResult;
  importBundle: ImportResult;
  planReplay: ReplayPlan;
  replayRun: { run: RunSummary; plan: ReplayPlan };
  compareRuns: RunComparison;
  generateSamples: GeneratedImage;
  interpolateLatent: GeneratedImage;
  imagesAtStep: ImageMeta[];
  importDataset: DatasetInfo;
  listDatasets: DatasetInfo[];
  createGridSweep: RunSummary[];
  getWorkspace: WorkspaceResult;
  saveWorkspace: WorkspaceResult;
  getLatents: LatentsResult;
  getTestImage: TestImage;
}

export type WorkbenchApi = {
  [M in MethodName]: (request: RequestOf<M>) => Promise<ResponseMap[M]>;
};

/** An error a caller can act on: `status` maps to HTTP, `field` names the bad input when there is one. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 500 | 507,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export function isMethodName(name: string): name is MethodName {
  return Object.prototype.hasOwnProperty.call(requestSchemas, name);
}

/** Validates a request for `method`; a bad payload becomes ApiError 400 naming the field. */
export function validateRequest<M extends MethodName>(method: M, payload: unknown): ValidRequestOf<M> {
  const result = requestSchemas[method].safeParse(payload ?? {});
  if (!result.success) {
    const [first] = describeIssues(result.error);
    throw new ApiError(400, `Invalid request to ${method}: ${first.path}: ${first.message}`, first.path);
  }
  return result.data as ValidRequestOf<M>;
}

export { RunConfigSchema };

// ---- The desktop shell's own methods (issue #11 item 5) ------------------------------------------
// Native dialogs exist only in the Electron window, so only its main process answers these; they
// travel the same preload call and IPC channel as every workbench method. The dialog and the
// workbench call both happen in main: the renderer never names a path on disk.

const BundleFormat = z.enum(['zip', 'folder']);

/** Request schemas of the desktop shell's methods, one per method. */
export const desktopRequestSchemas = {
  /** A save dialog (zip) or folder picker, then exportRun into what was chosen. */
  exportRunWithDialog: z.object({ runId, checkpoint: CheckpointRef.optional(), format: BundleFormat }).strict(),
  /** An open dialog for a bundle .zip or folder, then importBundle of what was chosen. */
  importBundleWithDialog: z.object({ format: BundleFormat }).strict(),
  /** An open dialog for a data file (IDX, plain or .gz, or .npy), then importDataset of it (issue #13). */
  importDatasetWithDialog: z.object({ name: z.string().trim().min(1).max(200).optional() }).strict(),
};

export type DesktopMethodName = keyof typeof desktopRequestSchemas;
export type DesktopRequestOf<M extends DesktopMethodName> = z.input<(typeof desktopRequestSchemas)[M]>;

/** What a dialog-driven method answers: nothing when the user cancelled, else the path and the result. */
export type DialogOutcome<T> = { canceled: true } | { canceled: false; path: string; result: T };

export interface DesktopResponseMap {
  exportRunWithDialog: DialogOutcome<ExportResult>;
  importBundleWithDialog: DialogOutcome<ImportResult>;
  importDatasetWithDialog: DialogOutcome<DatasetInfo>;
}

export type DesktopApi = {
  [M in DesktopMethodName]: (request: z.output<(typeof desktopRequestSchemas)[M]>) => Promise<DesktopResponseMap[M]>;
};

export function isDesktopMethodName(name: string): name is DesktopMethodName {
  return Object.prototype.hasOwnProperty.call(desktopRequestSchemas, name);
}

/** Validates a request for a desktop method, as `validateRequest` does for the workbench's. */
export function validateDesktopRequest<M extends DesktopMethodName>(
  method: M,
  payload: unknown,
): z.output<(typeof desktopRequestSchemas)[M]> {
  const result = desktopRequestSchemas[method].safeParse(payload ?? {});
  if (!result.success) {
    const [first] = describeIssues(result.error);
    throw new ApiError(400, `Invalid request to ${method}: ${first.path}: ${first.message}`, first.path);
  }
  return result.data as z.output<(typeof desktopRequestSchemas)[M]>;
}

/** Every method the preload bridge carries: the workbench's and the desktop shell's. */
export type BridgeMethodName = MethodName | DesktopMethodName;
export type BridgeRequestOf<M extends BridgeMethodName> = M extends MethodName
  ? RequestOf<M>
  : M extends DesktopMethodName
    ? DesktopRequestOf<M>
    : never;
/** `status`: the HTTP status the same failure gets in browser mode (the one error table, workbench/errors.ts). */
export type BridgeReply =
  { ok: true; result: unknown } | { ok: false; error: { message: string; status?: number; field?: string } };

/** What the Electron preload exposes on `window.vaeWorkbench` (contextBridge), and nothing else. */
export interface PreloadBridge {
  call<M extends BridgeMethodName>(method: M, request: BridgeRequestOf<M>): Promise<BridgeReply>;
  subscribe(listener: (event: WorkbenchEvent) => void): () => void;
}
