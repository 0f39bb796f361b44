// The dashboard's layout: which panels, each with its metrics, and the smoothing setting. Until
// the user changes it, the layout follows the default for the selected runs' model kinds; once
// changed, it is theirs (and saved with the workspace).
import { defaultPanels, sameUnit, type PanelConfig } from '../dashboard';

/** 'auto' picks the weight from each line's point count (lib/dashboard.ts autoSmoothing). */
export type SmoothingSetting = 'auto' | number;

export interface DashboardLayout {
  panels: PanelConfig[];
  smoothing: SmoothingSetting;
  /** The metric picked in the Curves chart ('' for its default). */
  curvesMetric?: string;
}

export class DashboardStore {
  /** The user's own layout; null while the default for the selection applies. */
  custom = $state.raw<PanelConfig[] | null>(null);
  smoothing = $state<SmoothingSetting>('auto');
  /** The Curves chart's metric choice, kept with the layout. */
  curvesMetric = $state('');
  /** Model kinds and metric names of the selection, set by the view; they drive the default layout. */
  modelKinds = $state.raw<readonly string[]>([]);
  metricNames = $state.raw<readonly string[]>([]);

  defaults = $derived(defaultPanels(this.modelKinds, this.metricNames));
  panels = $derived(this.custom ?? this.defaults);
  #next = 1;

  setContext(modelKinds: readonly string[], metricNames: readonly string[]): void {
    const kinds = [...new Set(modelKinds)].sort();
    if (kinds.join() !== this.modelKinds.join()) this.modelKinds = kinds;
    if (metricNames !== this.metricNames) this.metricNames = metricNames;
  }

  #edit(change: (panels: PanelConfig[]) => PanelConfig[]): void {
    this.custom = change(this.panels.map((p) => ({ ...p, metrics: [...p.metrics] })));
  }

  addPanel(metrics: readonly string[], title?: string): void {
    if (metrics.length === 0) return;
    const id = `p${Date.now().toString(36)}-${this.#next++}`;
    this.#edit((panels) => [...panels, { id, title: title ?? metrics.join(', '), metrics: [...metrics] }]);
  }

  removePanel(id: string): void {
    this.#edit((panels) => panels.filter((p) => p.id !== id));
  }

  /** Adds metrics to a panel; refused (false) when their unit differs from the panel's. */
  addMetrics(id: string, metrics: readonly string[]): boolean {
    const panel = this.panels.find((p) => p.id === id);
    if (!panel || !metrics.every((m) => sameUnit(panel.metrics, m))) return false;
    this.#edit((panels) =>
      panels.map((p) => (p.id === id ? { ...p, metrics: [...new Set([...p.metrics, ...metrics])] } : p)),
    );
    return true;
  }

  removeMetric(id: string, metric: string): void {
    this.#edit((panels) =>
      panels
        .map((p) => (p.id === id ? { ...p, metrics: p.metrics.filter((m) => m !== metric) } : p))
        .filter((p) => p.metrics.length > 0),
    );
  }

  movePanel(id: string, by: -1 | 1): void {
    this.#edit((panels) => {
      const i = panels.findIndex((p) => p.id === id);
      const j = i + by;
      if (i < 0 || j < 0 || j >= panels.length) return panels;
      [panels[i], panels[j]] = [panels[j], panels[i]];
      return panels;
    });
  }

  resetLayout(): void {
    this.custom = null;
  }

  layout(): DashboardLayout {
    return {
      panels: this.custom ? $state.snapshot(this.custom) : [],
      smoothing: this.smoothing,
      curvesMetric: this.curvesMetric,
    };
  }

  /** Restores a saved layout (an empty panel list means: the default). */
  restore(layout: Partial<DashboardLayout> | null | undefined): void {
    if (!layout) return;
    if (Array.isArray(layout.panels))
      this.custom = layout.panels.length > 0 ? layout.panels.map((p) => ({ ...p, metrics: [...p.metrics] })) : null;
    if (layout.smoothing === 'auto' || (typeof layout.smoothing === 'number' && layout.smoothing >= 0))
      this.smoothing = layout.smoothing;
    if (typeof layout.curvesMetric === 'string') this.curvesMetric = layout.curvesMetric;
  }
}
