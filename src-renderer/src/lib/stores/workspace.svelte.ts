// The saved workspace: selection, per-run colours, dashboard layout, smoothing and table
// columns, restored from the store when the view opens and saved (debounced) whenever they
// change, so a reload, or another window, finds the view as it was left.
import type { WorkspaceState } from '@api/contract';
import type { SortKey } from '../runTable';
import type { Transport } from '../transport';
import type { DashboardStore } from './dashboard.svelte';
import type { RunsStore } from './runs.svelte';

/** Colours kept for at most this many runs (the selected ones always). */
const MAX_COLORS = 1000;

export class WorkspaceStore {
  /** True once the saved state was applied (or found absent): saving starts only then. */
  restored = $state(false);
  saveError = $state<string | null>(null);
  savedAt = $state<number | null>(null);
  #timer: ReturnType<typeof setTimeout> | null = null;
  #lastSaved = '';

  constructor(
    readonly transport: Transport,
    readonly runs: RunsStore,
    readonly dashboard: DashboardStore,
    readonly saveDelayMs = 400,
  ) {}

  /** Loads the runs, then applies the saved workspace over the default selection. */
  async restore(): Promise<void> {
    await this.runs.load();
    try {
      const saved = await this.transport.call('getWorkspace', {});
      if (saved.state) this.apply(saved.state);
      this.#lastSaved = JSON.stringify(this.snapshot());
    } catch {
      // No saved workspace (or an older server): the defaults stand.
    } finally {
      this.restored = true;
    }
  }

  apply(state: WorkspaceState): void {
    this.runs.restoreView({
      colors: state.colors,
      selectedIds: state.selectedIds,
      columns: state.columns as SortKey[],
    });
    this.dashboard.restore({ panels: state.panels, smoothing: state.smoothing, curvesMetric: state.curvesMetric });
  }

  snapshot(): WorkspaceState {
    const known = this.runs.byId;
    const selected = [...this.runs.selectedIds].filter((id) => known.has(id));
    const colors: Record<string, string> = {};
    for (const id of selected) colors[id] = this.runs.colorOf(id);
    for (const [id, color] of this.runs.colors) {
      if (Object.keys(colors).length >= MAX_COLORS) break;
      if (known.has(id)) colors[id] ??= color;
    }
    const layout = this.dashboard.layout();
    return {
      version: 1,
      selectedIds: selected,
      colors,
      panels: layout.panels,
      smoothing: layout.smoothing,
      columns: [...this.runs.columns],
      ...(layout.curvesMetric ? { curvesMetric: layout.curvesMetric } : {}),
    };
  }

  /** Reads every saved field (call it inside an $effect) and saves after a pause when they changed. */
  track(): void {
    const state = this.snapshot();
    if (!this.restored) return;
    const text = JSON.stringify(state);
    if (text === this.#lastSaved) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#save(state, text), this.saveDelayMs);
  }

  async #save(state: WorkspaceState, text: string): Promise<void> {
    this.#timer = null;
    try {
      const saved = await this.transport.call('saveWorkspace', { state });
      this.#lastSaved = text;
      this.savedAt = saved.updatedAt;
      this.saveError = null;
    } catch (error) {
      this.saveError = `Could not save the workspace: ${(error as Error).message}`;
    }
  }

  dispose(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
