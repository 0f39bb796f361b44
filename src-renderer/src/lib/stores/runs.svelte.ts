// The runs the workbench knows about, kept live from pushed events, with the view state of the
// runs table: selection (which runs the compare view shows), focus (the detail panel), filters,
// sort and grouping. Runs are immutable objects in a `$state.raw` array: an event replaces one
// object, so only its table row re-renders.
import type { RequestOf, RunDetail, RunSummary, WorkbenchEvent } from '@api/contract';
import { ACTIVE_STATUSES } from '../apiConstants';
import { differingKeys, displayName } from '../acrossRuns';
import type { Transport } from '../transport';
import {
  DEFAULT_COLUMNS,
  emptyFilters,
  filterOptions,
  filterRuns,
  groupByExperiment,
  PALETTE,
  pickColor,
  sortRuns,
  type RunFilters,
  type SortDir,
  type SortKey,
} from '../runTable';

/** Headline metrics kept current in `final` from live metric points. */
const HEADLINE_METRICS = new Set(['test/elbo', 'test/iwae', 'test/recon', 'test/kl', 'train/loss', 'train/elbo']);
/** How many of the newest runs the compare view shows when it opens with nothing selected. */
const INITIAL_SELECTION = 5;

/** What the chart needs of a run; kept by reference while unchanged so a step tick redraws nothing. */
export interface ChartRun {
  id: string;
  name: string;
  /** The name with the config values that tell it apart from the other selected runs, in full. */
  label: string;
  color: string;
  config: RunSummary['config'];
  /** The run's test set (null until it starts, or for a run recorded before #12). */
  testSetHash: string | null;
  totalSteps: number | null;
  startedAt: number | null;
}

export class RunsStore {
  runs = $state.raw<RunSummary[]>([]);
  /** Selected run ids in selection order (the compare view's order). */
  selectedIds = $state.raw<ReadonlySet<string>>(new Set());
  focusedId = $state<string | null>(null);
  filters = $state<RunFilters>(emptyFilters());
  sortKey = $state<SortKey>('createdAt');
  sortDir = $state<SortDir>(-1);
  groupByExperiment = $state(false);
  /** The runs table's columns after the name, in order (the column chooser). */
  columns = $state.raw<SortKey[]>(DEFAULT_COLUMNS);
  loaded = $state(false);
  loadError = $state<string | null>(null);
  /** The last failed action, shown until dismissed. */
  actionError = $state<string | null>(null);
  /** Line colour per run, handed out on first selection and kept for the session. */
  colors = $state.raw<ReadonlyMap<string, string>>(new Map());

  byId = $derived(new Map(this.runs.map((r) => [r.id, r])));
  visible = $derived(sortRuns(filterRuns(this.runs, this.filters), this.sortKey, this.sortDir));
  groups = $derived(groupByExperiment(this.visible));
  options = $derived(filterOptions(this.runs));
  selectedRuns = $derived(
    [...this.selectedIds].map((id) => this.byId.get(id)).filter((r): r is RunSummary => r !== undefined),
  );
  focused = $derived(
    (this.focusedId !== null ? this.byId.get(this.focusedId) : undefined) ?? this.selectedRuns[0] ?? null,
  );
  /** Config keys whose values differ among the selected runs (the swept ones, typically). */
  distinguishingKeys = $derived(differingKeys(this.selectedRuns));
  /** The selected runs as the chart sees them; the same array while nothing it draws has changed. */
  chartRuns = $derived.by(() => this.#stableChartRuns(this.selectedRuns.map((r) => this.#chartRun(r))));

  #chartRunsPrev: ChartRun[] = [];
  #loading: Promise<void> | null = null;
  #touchedDuringLoad = new Map<string, RunSummary | null>();

  constructor(readonly transport: Transport) {}

  /** Fetches the run list once (later calls reuse it); events that arrive meanwhile are kept. */
  load(): Promise<void> {
    this.#loading ??= this.#load();
    return this.#loading;
  }

  async reload(): Promise<void> {
    this.#loading = null;
    this.loaded = false;
    return this.load();
  }

  async #load(): Promise<void> {
    this.#touchedDuringLoad.clear();
    try {
      const list = await this.transport.call('listRuns', {});
      const merged = new Map(list.map((r) => [r.id, r]));
      for (const [id, fromEvent] of this.#touchedDuringLoad) {
        const snap = merged.get(id);
        if (fromEvent === null) merged.delete(id);
        else if (!snap || fromEvent.step >= snap.step) merged.set(id, fromEvent);
      }
      this.runs = [...merged.values()];
      this.loadError = null;
      const firstLoad = !this.loaded;
      this.loaded = true;
      if (firstLoad && this.selectedIds.size === 0 && this.runs.length > 0) {
        const newest = sortRuns(this.runs, 'createdAt', -1).slice(0, INITIAL_SELECTION);
        this.setSelected(
          newest.map((r) => r.id),
          true,
        );
      }
    } catch (error) {
      this.loadError = `Could not load the runs: ${(error as Error).message}`;
      this.#loading = null;
    }
  }

  handleEvent(event: WorkbenchEvent): void {
    switch (event.type) {
      case 'run':
        this.upsert(event.run);
        break;
      case 'run-deleted':
        this.remove(event.runId);
        break;
      case 'metrics':
        this.#applyMetrics(event.runId, event.points);
        break;
      case 'image':
        break;
    }
  }

  /**
   * Adds or replaces one run (a new object, so only its row re-renders). A run that appears
   * while the view is open (this form, a sweep, the CLI) is selected for comparison.
   */
  upsert(run: RunSummary): void {
    if (!this.loaded) this.#touchedDuringLoad.set(run.id, run);
    const i = this.runs.findIndex((r) => r.id === run.id);
    if (i === -1) {
      this.runs = [...this.runs, run];
      if (this.loaded) this.setSelected([run.id], true);
    } else if (this.runs[i] !== run) {
      const next = this.runs.slice();
      next[i] = run;
      this.runs = next;
    }
  }

  remove(runId: string): void {
    if (!this.loaded) this.#touchedDuringLoad.set(runId, null);
    if (this.byId.has(runId)) this.runs = this.runs.filter((r) => r.id !== runId);
    if (this.selectedIds.has(runId)) this.setSelected([runId], false);
    if (this.focusedId === runId) this.focusedId = null;
  }

  /** Metric points move a running run's step and its headline values without waiting for a 'run' event. */
  #applyMetrics(runId: string, points: { name: string; step: number; epoch: number; value: number }[]): void {
    const run = this.byId.get(runId);
    if (!run || points.length === 0) return;
    let step = run.step;
    let epoch = run.epoch;
    let final: Record<string, number> | null = null;
    for (const p of points) {
      if (p.step > step) {
        step = p.step;
        epoch = Math.max(epoch, p.epoch);
      }
      if (HEADLINE_METRICS.has(p.name) && run.final[p.name] !== p.value) {
        final ??= { ...run.final };
        final[p.name] = p.value;
      }
    }
    const active = ACTIVE_STATUSES.includes(run.status);
    if ((active && step !== run.step) || final) {
      this.upsert({
        ...run,
        step: active ? step : run.step,
        epoch: active ? epoch : run.epoch,
        final: final ?? run.final,
      });
    }
  }

  // Selection and focus

  isSelected(id: string): boolean {
    return this.selectedIds.has(id);
  }

  toggleSelected(id: string): void {
    this.setSelected([id], !this.selectedIds.has(id));
  }

  setSelected(ids: readonly string[], on: boolean): void {
    const next = new Set(this.selectedIds);
    if (!on) {
      for (const id of ids) next.delete(id);
      this.selectedIds = next;
      return;
    }
    // A run keeps its colour for the session; a new one gets the colour least used on screen.
    const uses = new Map<string, number>();
    for (const id of next) {
      const c = this.colors.get(id);
      if (c) uses.set(c, (uses.get(c) ?? 0) + 1);
    }
    let colors: Map<string, string> | null = null;
    for (const id of ids) {
      if (next.has(id)) continue;
      next.add(id);
      let color = (colors ?? this.colors).get(id);
      if (!color) {
        color = pickColor(uses);
        colors ??= new Map(this.colors);
        colors.set(id, color);
      }
      uses.set(color, (uses.get(color) ?? 0) + 1);
    }
    if (colors) this.colors = colors;
    this.selectedIds = next;
  }

  /** Applies a saved view: colours first (so runs keep theirs), then the selection and columns. */
  restoreView(view: { colors: Record<string, string>; selectedIds: readonly string[]; columns: SortKey[] }): void {
    this.colors = new Map([...this.colors, ...Object.entries(view.colors)]);
    this.selectedIds = new Set();
    this.setSelected(
      view.selectedIds.filter((id) => this.byId.has(id)),
      true,
    );
    if (view.columns.length > 0) this.columns = [...view.columns];
  }

  selectOnly(ids: readonly string[]): void {
    this.selectedIds = new Set();
    this.setSelected(ids, true);
  }

  clearSelection(): void {
    this.selectedIds = new Set();
  }

  focus(id: string | null): void {
    this.focusedId = id;
  }

  colorOf(id: string): string {
    return this.colors.get(id) ?? PALETTE[0];
  }

  // Sort, filter, group

  sortBy(key: SortKey): void {
    if (this.sortKey === key) this.sortDir = this.sortDir === 1 ? -1 : 1;
    else {
      this.sortKey = key;
      // Names read best A-Z; numbers and dates best largest first.
      this.sortDir =
        key === 'name' || key === 'experiment' || key === 'model' || key === 'dataset' || key === 'status' ? 1 : -1;
    }
  }

  toggleColumn(key: SortKey): void {
    this.columns = this.columns.includes(key) ? this.columns.filter((k) => k !== key) : [...this.columns, key];
  }

  resetColumns(): void {
    this.columns = DEFAULT_COLUMNS;
  }

  resetFilters(): void {
    this.filters = emptyFilters();
  }

  // Actions: each answers with the new run state, applied at once (the event may come later).

  async #act(label: string, action: () => Promise<void>): Promise<boolean> {
    try {
      await action();
      this.actionError = null;
      return true;
    } catch (error) {
      this.actionError = `${label} failed: ${(error as Error).message}`;
      return false;
    }
  }

  pause(runId: string): Promise<boolean> {
    return this.#act('Pause', async () => this.upsert(await this.transport.call('pauseRun', { runId })));
  }

  resume(runId: string): Promise<boolean> {
    return this.#act('Resume', async () => this.upsert(await this.transport.call('resumeRun', { runId })));
  }

  cancel(runId: string): Promise<boolean> {
    return this.#act('Cancel', async () => this.upsert(await this.transport.call('cancelRun', { runId })));
  }

  duplicate(runId: string): Promise<boolean> {
    return this.#act('Duplicate', async () => this.#created([await this.transport.call('duplicateRun', { runId })]));
  }

  delete(runId: string): Promise<boolean> {
    return this.#act('Delete', async () => {
      await this.transport.call('deleteRun', { runId });
      this.remove(runId);
    });
  }

  async setTags(runId: string, tags: string[]): Promise<boolean> {
    return this.#act('Saving tags', async () => this.upsert(await this.transport.call('setTags', { runId, tags })));
  }

  async setNotes(runId: string, text: string): Promise<void> {
    await this.transport.call('setNotes', { runId, text });
  }

  getDetail(runId: string): Promise<RunDetail> {
    return this.transport.call('getRun', { runId });
  }

  /** Starts a run; it is selected for comparison and focused. Errors propagate to the form. */
  async create(request: RequestOf<'createRun'>): Promise<RunSummary> {
    const run = await this.transport.call('createRun', request);
    this.#created([run]);
    return run;
  }

  async createSweep(request: RequestOf<'createGridSweep'>): Promise<RunSummary[]> {
    const runs = await this.transport.call('createGridSweep', request);
    this.#created(runs);
    return runs;
  }

  #created(runs: RunSummary[]): void {
    for (const r of runs) this.upsert(r);
    this.setSelected(
      runs.map((r) => r.id),
      true,
    );
    if (runs.length > 0) this.focusedId = runs[0].id;
  }

  // Chart view of the selection

  #chartRun(r: RunSummary): ChartRun {
    return {
      id: r.id,
      name: r.name,
      label: displayName(r, this.distinguishingKeys),
      color: this.colorOf(r.id),
      config: r.config,
      testSetHash: r.testSetHash ?? null,
      totalSteps: r.totalSteps,
      startedAt: r.startedAt,
    };
  }

  #stableChartRuns(next: ChartRun[]): ChartRun[] {
    const prev = this.#chartRunsPrev;
    const same =
      prev.length === next.length &&
      next.every((n, i) => {
        const p = prev[i];
        // A run's config never changes, so its id stands for it.
        return (
          p.id === n.id &&
          p.name === n.name &&
          p.label === n.label &&
          p.color === n.color &&
          p.totalSteps === n.totalSteps &&
          p.startedAt === n.startedAt &&
          p.testSetHash === n.testSetHash
        );
      });
    if (same) return prev;
    this.#chartRunsPrev = next;
    return next;
  }
}
