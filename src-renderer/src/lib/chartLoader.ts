// chart.js is loaded on demand (its own chunk, fetched while the page starts) and a chart is
// created only once the page has been laid out: chart.js reads the canvas container's computed
// size when it starts, which would otherwise force a synchronous style and layout pass of the
// whole freshly mounted app inside a script task.
import type { MetricChart } from './metricChart';

/** jsdom (component tests) has no canvas: the chart is left out there. */
export function canDrawCharts(): boolean {
  return (
    typeof navigator !== 'undefined' && !/jsdom/i.test(navigator.userAgent) && typeof HTMLCanvasElement !== 'undefined'
  );
}

let loading: Promise<typeof import('./metricChart')> | null = null;

export function loadMetricChart(): Promise<typeof import('./metricChart')> {
  loading ??= import('./metricChart');
  return loading;
}

/**
 * Creates a MetricChart on `canvas` when chart.js has loaded and the page is laid out, then hands
 * it to `ready`. "Laid out" is the first ResizeObserver callback on the canvas's box: those run
 * right after the browser's own layout, so chart.js's size reads find a clean layout instead of
 * forcing one. Returns the function that cancels a pending creation or destroys the chart.
 */
export function createMetricChart(canvas: HTMLCanvasElement, ready: (chart: MetricChart) => void): () => void {
  let stopped = false;
  let chart: MetricChart | null = null;
  let observer: ResizeObserver | null = null;
  void loadMetricChart().then((module) => {
    if (stopped) return;
    const create = () => {
      observer?.disconnect();
      observer = null;
      if (stopped || chart) return;
      chart = new module.MetricChart(canvas);
      ready(chart);
    };
    if (typeof ResizeObserver === 'undefined') return create();
    observer = new ResizeObserver(create);
    observer.observe(canvas.parentElement ?? canvas);
  });
  return () => {
    stopped = true;
    observer?.disconnect();
    observer = null;
    chart?.destroy();
    chart = null;
  };
}
