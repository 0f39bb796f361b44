// chart.js is loaded on demand (its own chunk, fetched when the page is first idle with runs to
// draw) and a chart is created only once the page is idle and has been laid out: chart.js reads
// the canvas container's computed size when it starts, which would otherwise force a synchronous
// style and layout pass of the whole freshly mounted app inside a script task, and its first
// layout would otherwise hold up the frame that shows the runs table.
import { whenIdle } from './idle';
import type { ChartView, MetricChart } from './metricChart';

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

/** Starts loading chart.js when the page is next idle (a chart will be wanted soon). */
export function prefetchMetricChart(): void {
  if (!loading) whenIdle(() => void loadMetricChart());
}

/**
 * Creates a MetricChart on `canvas` when chart.js has loaded, the page is idle and laid out, then
 * hands it to `ready`. "Laid out" is the first ResizeObserver callback on the canvas's box: those
 * run right after the browser's own layout, so chart.js's size reads find a clean layout instead
 * of forcing one. `initial`, read at creation, is the view the chart draws first (see
 * MetricChart's constructor). Returns the function that cancels a pending creation or destroys
 * the chart.
 */
export function createMetricChart(
  canvas: HTMLCanvasElement,
  ready: (chart: MetricChart) => void,
  initial?: () => ChartView,
): () => void {
  let stopped = false;
  let chart: MetricChart | null = null;
  let observer: ResizeObserver | null = null;
  let cancelIdle: (() => void) | null = null;
  void loadMetricChart().then((module) => {
    if (stopped) return;
    const create = () => {
      observer?.disconnect();
      observer = null;
      if (stopped || chart) return;
      chart = new module.MetricChart(canvas, initial?.());
      ready(chart);
    };
    cancelIdle = whenIdle(() => {
      cancelIdle = null;
      if (stopped) return;
      if (typeof ResizeObserver === 'undefined') return create();
      observer = new ResizeObserver(create);
      observer.observe(canvas.parentElement ?? canvas);
    });
  });
  return () => {
    stopped = true;
    cancelIdle?.();
    observer?.disconnect();
    observer = null;
    chart?.destroy();
    chart = null;
  };
}
