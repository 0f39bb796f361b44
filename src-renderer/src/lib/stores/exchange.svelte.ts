// View state of export/import, replay, generation and playback (issue #6). Each class holds one
// panel's state and talks to the workbench through the one transport (the import upload, which
// the API has no method for, goes to browser mode's /upload/import).
import type {
  ExportResult,
  GeneratedImage,
  ImageMeta,
  ImportResult,
  ReplayPlan,
  RunComparison,
  RunSummary,
  SeriesBucket,
} from '@api/contract';
import { ACTIVE_STATUSES } from '../apiConstants';
import { evaluationSteps, stepIndexAtOrBefore, uploadBundle, type CheckpointChoice } from '../transfer';
import type { Transport } from '../transport';
import type { RunsStore } from './runs.svelte';

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

// ---- import ---------------------------------------------------------------------------------------

export type ImportState =
  | { status: 'idle' }
  | { status: 'uploading'; fileName: string }
  | { status: 'done'; fileName: string; result: ImportResult }
  | { status: 'error'; fileName: string; message: string };

export class ImportStore {
  state = $state.raw<ImportState>({ status: 'idle' });

  constructor(
    readonly runs: RunsStore,
    private readonly upload: (file: Blob & { name?: string }) => Promise<ImportResult> = (file) => uploadBundle(file),
  ) {}

  /** Browser mode uploads the chosen file; the Electron window asks main for an open dialog instead. */
  get available(): boolean {
    return this.runs.transport.kind === 'http';
  }

  /** The Electron window: a native open dialog (zip or folder) through the preload bridge. */
  get nativeDialog(): boolean {
    return this.runs.transport.desktop !== undefined;
  }

  /** True while the open dialog is up or the chosen bundle imports. */
  choosing = $state(false);

  /** Electron: main shows the open dialog and imports what was chosen; a cancel changes nothing. */
  async importWithDialog(format: 'zip' | 'folder'): Promise<boolean> {
    const desktop = this.runs.transport.desktop;
    if (!desktop || this.choosing) return false;
    this.choosing = true;
    try {
      const outcome = await desktop.call('importBundleWithDialog', { format });
      if (outcome.canceled) return false;
      const fileName = outcome.path.split(/[\\/]/).filter(Boolean).pop() ?? outcome.path;
      this.#imported(fileName, outcome.result);
      return true;
    } catch (error) {
      this.state = {
        status: 'error',
        fileName: format === 'zip' ? 'bundle.zip' : 'bundle folder',
        message: message(error),
      };
      return false;
    } finally {
      this.choosing = false;
    }
  }

  #imported(fileName: string, result: ImportResult): void {
    this.state = { status: 'done', fileName, result };
    this.runs.upsert(result.run);
    this.runs.setSelected([result.run.id], true);
    this.runs.focus(result.run.id);
  }

  async importFile(file: Blob & { name?: string }): Promise<boolean> {
    const fileName = file.name ?? 'bundle.zip';
    this.state = { status: 'uploading', fileName };
    try {
      this.#imported(fileName, await this.upload(file));
      return true;
    } catch (error) {
      this.state = { status: 'error', fileName, message: message(error) };
      return false;
    }
  }

  dismiss(): void {
    this.state = { status: 'idle' };
  }
}

// ---- export (Electron) ----------------------------------------------------------------------------

export type ExportState =
  | { status: 'idle' }
  | { status: 'exporting'; format: 'zip' | 'folder' }
  | { status: 'done'; result: ExportResult }
  | { status: 'error'; message: string };

/** The Electron window's export: main shows the save dialog and writes the bundle where chosen. */
export class ExportStore {
  state = $state.raw<ExportState>({ status: 'idle' });

  constructor(readonly transport: Transport) {}

  get available(): boolean {
    return this.transport.desktop !== undefined;
  }

  async exportWithDialog(runId: string, checkpoint: CheckpointChoice, format: 'zip' | 'folder'): Promise<boolean> {
    const desktop = this.transport.desktop;
    if (!desktop || this.state.status === 'exporting') return false;
    this.state = { status: 'exporting', format };
    try {
      const outcome = await desktop.call('exportRunWithDialog', { runId, checkpoint, format });
      if (outcome.canceled) {
        this.state = { status: 'idle' };
        return false;
      }
      this.state = { status: 'done', result: outcome.result };
      return true;
    } catch (error) {
      this.state = { status: 'error', message: message(error) };
      return false;
    }
  }

  dismiss(): void {
    this.state = { status: 'idle' };
  }
}

// ---- replay ---------------------------------------------------------------------------------------

export type ReplayDialogState =
  | { status: 'planning'; run: RunSummary }
  | { status: 'ready'; run: RunSummary; plan: ReplayPlan }
  | { status: 'starting'; run: RunSummary; plan: ReplayPlan }
  | { status: 'error'; run: RunSummary; plan: ReplayPlan | null; message: string };

/** Replay: plan first (its warnings are shown before anything starts), then start on confirm. */
export class ReplayStore {
  dialog = $state.raw<ReplayDialogState | null>(null);
  #request = 0;

  constructor(readonly runs: RunsStore) {}

  async request(run: RunSummary): Promise<void> {
    const mine = ++this.#request;
    this.dialog = { status: 'planning', run };
    try {
      const plan = await this.runs.transport.call('planReplay', { runId: run.id });
      if (mine === this.#request) this.dialog = { status: 'ready', run, plan };
    } catch (error) {
      if (mine === this.#request)
        this.dialog = { status: 'error', run, plan: null, message: `Could not plan the replay: ${message(error)}` };
    }
  }

  /** Starts the replay; it and its original become the compared pair, the replay focused. */
  async confirm(): Promise<RunSummary | null> {
    const dialog = this.dialog;
    if (!dialog || dialog.status !== 'ready') return null;
    this.dialog = { status: 'starting', run: dialog.run, plan: dialog.plan };
    try {
      const { run } = await this.runs.transport.call('replayRun', { runId: dialog.run.id });
      this.runs.upsert(run);
      this.runs.selectOnly([dialog.run.id, run.id]);
      this.runs.focus(run.id);
      this.dialog = null;
      return run;
    } catch (error) {
      this.dialog = {
        status: 'error',
        run: dialog.run,
        plan: dialog.plan,
        message: `Could not start the replay: ${message(error)}`,
      };
      return null;
    }
  }

  cancel(): void {
    this.#request++;
    this.dialog = null;
  }
}

// ---- comparison -----------------------------------------------------------------------------------

export type ComparisonState =
  | { status: 'idle' }
  | { status: 'waiting'; key: string }
  | { status: 'loading'; key: string }
  | { status: 'ready'; key: string; result: RunComparison }
  | { status: 'error'; key: string; message: string };

/** compareRuns of a replay pair, fetched once both runs have stopped (again if either changes status). */
export class ComparisonStore {
  state = $state.raw<ComparisonState>({ status: 'idle' });
  #request = 0;

  constructor(readonly transport: Transport) {}

  static keyOf(original: RunSummary, replay: RunSummary): string {
    return `${original.id}|${original.status}|${replay.id}|${replay.status}`;
  }

  async show(original: RunSummary | null, replay: RunSummary | null): Promise<void> {
    const mine = ++this.#request;
    if (!original || !replay) {
      this.state = { status: 'idle' };
      return;
    }
    const key = ComparisonStore.keyOf(original, replay);
    if (this.state.status !== 'idle' && this.state.key === key && this.state.status !== 'error') return;
    if (ACTIVE_STATUSES.includes(original.status) || ACTIVE_STATUSES.includes(replay.status)) {
      this.state = { status: 'waiting', key };
      return;
    }
    this.state = { status: 'loading', key };
    try {
      const result = await this.transport.call('compareRuns', { runIds: [original.id, replay.id] });
      if (mine === this.#request) this.state = { status: 'ready', key, result };
    } catch (error) {
      if (mine === this.#request) this.state = { status: 'error', key, message: message(error) };
    }
  }
}

/** The metrics to list: differing ones first, largest difference first; timing metrics last. */
export function rankDifferences(result: RunComparison): RunComparison['metrics'] {
  return [...result.metrics].sort(
    (a, b) =>
      Number(a.timing) - Number(b.timing) ||
      Number(a.identical) - Number(b.identical) ||
      b.maxAbsDiff - a.maxAbsDiff ||
      a.metric.localeCompare(b.metric),
  );
}

// ---- generation -----------------------------------------------------------------------------------

export type GenerateState =
  | { status: 'idle' }
  | { status: 'busy' }
  | { status: 'ready'; image: GeneratedImage }
  | { status: 'error'; message: string };

/** Prior samples and latent interpolations of one run from a chosen checkpoint. */
export class GenerateStore {
  samples = $state.raw<GenerateState>({ status: 'idle' });
  interpolation = $state.raw<GenerateState>({ status: 'idle' });
  #runId: string | null = null;

  constructor(readonly transport: Transport) {}

  /** A different run clears the results. */
  forRun(runId: string | null): void {
    if (runId === this.#runId) return;
    this.#runId = runId;
    this.samples = { status: 'idle' };
    this.interpolation = { status: 'idle' };
  }

  async generate(runId: string, options: { checkpoint: CheckpointChoice; count: number; seed: number }): Promise<void> {
    this.forRun(runId);
    this.samples = { status: 'busy' };
    try {
      const image = await this.transport.call('generateSamples', { runId, ...options });
      if (this.#runId === runId) this.samples = { status: 'ready', image };
    } catch (error) {
      if (this.#runId === runId) this.samples = { status: 'error', message: message(error) };
    }
  }

  async interpolate(
    runId: string,
    options: { checkpoint: CheckpointChoice; from: number; to: number; steps: number },
  ): Promise<void> {
    this.forRun(runId);
    this.interpolation = { status: 'busy' };
    try {
      const image = await this.transport.call('interpolateLatent', { runId, ...options });
      if (this.#runId === runId) this.interpolation = { status: 'ready', image };
    } catch (error) {
      if (this.#runId === runId) this.interpolation = { status: 'error', message: message(error) };
    }
  }
}

// ---- playback -------------------------------------------------------------------------------------

/** The metric the timeline is built from besides the image steps: logged at every evaluation. */
const EVAL_METRIC = 'test/elbo';

/**
 * Playback of a run's timeline: its evaluation steps, the position of the slider, the image
 * grids as they were at that step (imagesAtStep), and a metric's series to cut at that step.
 */
export class PlaybackStore {
  runId = $state<string | null>(null);
  steps = $state.raw<number[]>([]);
  index = $state(0);
  images = $state.raw<ImageMeta[]>([]);
  metricNames = $state.raw<string[]>([]);
  metric = $state('');
  buckets = $state.raw<SeriesBucket[]>([]);
  loading = $state(false);
  error = $state<string | null>(null);
  /** Bumped when a data URL arrives. */
  urlVersion = $state(0);

  step = $derived(this.steps.length > 0 ? this.steps[Math.min(this.index, this.steps.length - 1)] : null);

  #urls = new Map<number, string>();
  #open = 0;
  #imagesRequest = 0;
  #seriesRequest = 0;

  constructor(readonly transport: Transport) {}

  /** Loads a run's timeline (null closes it); the slider starts at the last evaluation. */
  async open(runId: string | null): Promise<void> {
    const mine = ++this.#open;
    this.runId = runId;
    this.steps = [];
    this.images = [];
    this.buckets = [];
    this.metricNames = [];
    this.error = null;
    if (!runId) return;
    this.loading = true;
    try {
      const [metas, names, evals] = await Promise.all([
        this.transport.call('listImages', { runId }),
        this.transport.call('listMetricNames', { runIds: [runId] }),
        this.transport.call('getSeries', { runIds: [runId], metric: EVAL_METRIC, maxBuckets: 10_000 }),
      ]);
      if (mine !== this.#open) return;
      this.steps = evaluationSteps(
        metas.map((m) => m.step),
        names.includes(EVAL_METRIC) ? (evals[0]?.buckets ?? []).map((b) => b.step) : [],
      );
      this.metricNames = names;
      this.index = Math.max(0, this.steps.length - 1);
      const metric = names.includes(this.metric)
        ? this.metric
        : names.includes('train/loss')
          ? 'train/loss'
          : names.includes(EVAL_METRIC)
            ? EVAL_METRIC
            : (names[0] ?? '');
      await Promise.all([this.#loadImages(), this.setMetric(metric)]);
    } catch (error) {
      if (mine === this.#open) this.error = message(error);
    } finally {
      if (mine === this.#open) this.loading = false;
    }
  }

  /** Moves the slider to the evaluation at `index` and loads that step's image grids. */
  async seek(index: number): Promise<void> {
    if (this.steps.length === 0) return;
    this.index = Math.max(0, Math.min(this.steps.length - 1, Math.round(index)));
    try {
      await this.#loadImages();
      this.error = null;
    } catch (error) {
      this.error = message(error);
    }
  }

  /** Moves to the last evaluation at or before `step`. */
  seekStep(step: number): Promise<void> {
    return this.seek(stepIndexAtOrBefore(this.steps, step));
  }

  async setMetric(metric: string): Promise<void> {
    this.metric = metric;
    const runId = this.runId;
    const mine = ++this.#seriesRequest;
    if (!runId || !metric) {
      this.buckets = [];
      return;
    }
    try {
      const [series] = await this.transport.call('getSeries', { runIds: [runId], metric, maxBuckets: 1000 });
      if (mine === this.#seriesRequest && runId === this.runId) this.buckets = series?.buckets ?? [];
    } catch (error) {
      if (mine === this.#seriesRequest) this.error = message(error);
    }
  }

  /** The series up to the slider's step (everything when there is no timeline). */
  get cutBuckets(): SeriesBucket[] {
    const step = this.step;
    return step === null ? this.buckets : this.buckets.filter((b) => b.step <= step);
  }

  url(imageId: number): string | null {
    void this.urlVersion;
    return this.#urls.get(imageId) ?? null;
  }

  async #loadImages(): Promise<void> {
    const runId = this.runId;
    const step = this.step;
    const mine = ++this.#imagesRequest;
    if (!runId || step === null) {
      this.images = [];
      return;
    }
    const metas = await this.transport.call('imagesAtStep', { runId, step });
    if (mine !== this.#imagesRequest) return;
    // Data URLs first, then the grid switches: no flash of empty cells while scrubbing.
    await Promise.all(
      metas.map(async (meta) => {
        if (this.#urls.has(meta.id)) return;
        const { dataUrl } = await this.transport.call('getImage', { imageId: meta.id });
        this.#urls.set(meta.id, dataUrl);
      }),
    );
    if (mine !== this.#imagesRequest) return;
    this.urlVersion++;
    this.images = metas;
  }
}
