// The chart.js side of the curves view: one long-lived Chart, updated in place. Bands (min/max
// per bucket, or mean ± std) are painted by a small plugin straight from arrays, so they cost a
// path per run rather than thousands of chart elements; lines are plain datasets with
// `parsing: false`. Tooltips list, for every shown run, its point nearest the cursor's x.
import {
  Chart,
  Interaction,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type ChartDataset,
  type InteractionItem,
  type InteractionModeFunction,
  type Plugin,
  type TooltipItem,
} from 'chart.js';
import type { ChartPoint, LineSeries, XAxis } from './chartData';
import { formatClock, formatCount, formatTimeOfDay, formatValue } from './format';

declare module 'chart.js' {
  interface InteractionModeMap {
    eachRun: InteractionModeFunction;
  }
}

/** At most this many rows in a tooltip: the runs whose curves pass closest to the cursor. */
const TOOLTIP_ROWS = 10;

/** For every visible dataset, its point nearest the cursor's x (binary search: data sorted by x). */
const eachRun: InteractionModeFunction = (chart, event) => {
  const x = chart.scales.x;
  if (event.x === null || event.y === null || !x) return [];
  const area = chart.chartArea;
  if (event.x < area.left || event.x > area.right || event.y < area.top || event.y > area.bottom) return [];
  const value = x.getValueForPixel(event.x);
  if (value === undefined) return [];
  const items: (InteractionItem & { dy: number })[] = [];
  chart.data.datasets.forEach((dataset, datasetIndex) => {
    if (!chart.isDatasetVisible(datasetIndex)) return;
    const data = dataset.data as unknown as ChartPoint[];
    if (data.length === 0 || value < data[0].x - (data[data.length - 1].x - data[0].x) * 0.02) return;
    let lo = 0;
    let hi = data.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (data[mid].x < value) lo = mid + 1;
      else hi = mid;
    }
    const index = lo > 0 && Math.abs(data[lo - 1].x - value) < Math.abs(data[lo].x - value) ? lo - 1 : lo;
    const element = chart.getDatasetMeta(datasetIndex).data[index];
    if (element) items.push({ element, datasetIndex, index, dy: Math.abs(element.y - event.y!) });
  });
  items.sort((a, b) => a.dy - b.dy);
  return items.slice(0, TOOLTIP_ROWS);
};
Interaction.modes.eachRun = eachRun;

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, Tooltip);

export interface DrawnBand {
  color: string;
  x: number[];
  lo: number[];
  hi: number[];
}

/** Paints each band as one filled polygon under the lines. */
function bandPlugin(getBands: () => DrawnBand[]): Plugin<'line'> {
  return {
    id: 'vaeBands',
    beforeDatasetsDraw(chart) {
      const { ctx, chartArea, scales } = chart;
      const xs = scales.x;
      const ys = scales.y;
      if (!xs || !ys) return;
      ctx.save();
      ctx.beginPath();
      ctx.rect(chartArea.left, chartArea.top, chartArea.right - chartArea.left, chartArea.bottom - chartArea.top);
      ctx.clip();
      const bands = getBands();
      // Fainter as more bands overlap, so thirty runs' spikes do not paint the chart grey.
      ctx.globalAlpha = Math.min(0.14, Math.max(0.035, 0.3 / Math.sqrt(Math.max(1, bands.length))));
      for (const band of bands) {
        const n = band.x.length;
        if (n < 2) continue;
        ctx.beginPath();
        ctx.moveTo(xs.getPixelForValue(band.x[0]), ys.getPixelForValue(band.hi[0]));
        for (let i = 1; i < n; i++) ctx.lineTo(xs.getPixelForValue(band.x[i]), ys.getPixelForValue(band.hi[i]));
        for (let i = n - 1; i >= 0; i--) ctx.lineTo(xs.getPixelForValue(band.x[i]), ys.getPixelForValue(band.lo[i]));
        ctx.closePath();
        ctx.fillStyle = band.color;
        ctx.fill();
      }
      ctx.restore();
    },
  };
}

/** White background, so an exported PNG is not transparent. */
const background: Plugin<'line'> = {
  id: 'vaeBackground',
  beforeDraw(chart) {
    const { ctx, width, height } = chart;
    ctx.save();
    ctx.globalCompositeOperation = 'destination-over';
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  },
};

const X_TITLES: Record<XAxis, string> = {
  step: 'step',
  epoch: 'epoch',
  wall: 'wall time',
  relative: 'time since start (h:mm:ss)',
};

export function formatX(value: number, axis: XAxis): string {
  switch (axis) {
    case 'step':
      return formatCount(value);
    case 'epoch':
      return String(Number(value.toFixed(2)));
    case 'wall':
      return formatTimeOfDay(value);
    case 'relative':
      return Math.abs(value) < 60 ? `${Number(value.toFixed(1))} s` : formatClock(value);
  }
}

/** y tick labels; on a log axis only 1, 2 and 5 of each decade, so labels do not pile up. */
function formatY(value: number, log: boolean): string {
  if (log) {
    const mantissa = Number((value / Math.pow(10, Math.floor(Math.log10(value)))).toFixed(3));
    if (mantissa !== 1 && mantissa !== 2 && mantissa !== 5) return '';
  }
  return formatValue(value);
}

export interface ChartView {
  lines: LineSeries[];
  hidden: ReadonlySet<string>;
  xAxis: XAxis;
  logY: boolean;
  smoothing: number;
  metric: string;
}

type LineDataset = ChartDataset<'line', ChartPoint[]> & { lineId: string };

/** The parts of the two scales' options that a view sets. */
interface ScalesOptions {
  x: { title: { text: string }; ticks: { precision?: number } };
  y: { type: 'linear' | 'logarithmic'; title: { text: string } };
}

/** A line chart kept for the life of its canvas; `show` updates it in place. */
export class MetricChart {
  readonly chart: Chart<'line', ChartPoint[]>;
  #bands: DrawnBand[] = [];
  #datasets = new Map<string, LineDataset>();
  #view: ChartView | null = null;

  /**
   * `initial`: the first view, drawn by chart.js's own first layout, so a chart created once its
   * lines are known costs one layout pass rather than an empty one and then a full one.
   */
  constructor(canvas: HTMLCanvasElement, initial?: ChartView) {
    const data: ChartConfiguration<'line', ChartPoint[]>['data'] = { datasets: [] };
    const scales = {
      x: {
        type: 'linear' as const,
        title: { display: true, text: 'step' },
        ticks: {
          maxRotation: 0,
          callback: (v: string | number) => formatX(Number(v), this.#view?.xAxis ?? 'step'),
        } as { maxRotation: number; precision?: number; callback: (v: string | number) => string },
      },
      y: {
        type: 'linear' as 'linear' | 'logarithmic',
        title: { display: true, text: '' },
        ticks: { callback: (v: string | number) => formatY(Number(v), this.#view?.logY ?? false) },
      },
    };
    if (initial) this.#apply(initial, data, scales);
    this.chart = new Chart<'line', ChartPoint[]>(canvas, {
      type: 'line',
      data,
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        spanGaps: true,
        interaction: { mode: 'eachRun', intersect: false },
        elements: {
          point: { radius: 0, hoverRadius: 3, hitRadius: 0 },
          line: { borderWidth: 1.6, tension: 0 },
        },
        scales,
        plugins: {
          legend: { display: false },
          tooltip: {
            itemSort: (a, b) => (b.parsed.y ?? 0) - (a.parsed.y ?? 0),
            callbacks: {
              title: (items) =>
                items.length > 0
                  ? `${X_TITLES[this.#view?.xAxis ?? 'step']} ${formatX(items[0].parsed.x ?? 0, this.#view?.xAxis ?? 'step')}`
                  : '',
              label: (item: TooltipItem<'line'>) => {
                const p = item.raw as ChartPoint;
                const smoothed =
                  this.#view && this.#view.smoothing > 0 && p.y !== p.v ? ` (smoothed ${formatValue(p.y)})` : '';
                return `${item.dataset.label}: ${formatValue(p.v)}${smoothed} · step ${p.step}`;
              },
            },
          },
        },
      },
      plugins: [bandPlugin(() => this.#bands), background],
    });
  }

  /** Shows these lines, reusing the dataset object of every line already drawn. */
  show(view: ChartView): void {
    this.#apply(view, this.chart.data, this.chart.options.scales as unknown as ScalesOptions);
    this.chart.update('none');
  }

  /** Puts the view's lines, bands and axis settings into chart data and scale options. */
  #apply(view: ChartView, data: { datasets: ChartDataset<'line', ChartPoint[]>[] }, scales: ScalesOptions) {
    this.#view = view;
    const next = new Map<string, LineDataset>();
    const datasets: LineDataset[] = [];
    const bands: DrawnBand[] = [];
    for (const line of view.lines) {
      const dataset = this.#datasets.get(line.id) ?? ({ lineId: line.id, data: [] } as unknown as LineDataset);
      dataset.label = line.label;
      dataset.data = line.points;
      dataset.borderColor = line.color;
      dataset.backgroundColor = line.color;
      dataset.borderDash = line.dash ?? [];
      dataset.hidden = view.hidden.has(line.id);
      next.set(line.id, dataset);
      datasets.push(dataset);
      if (line.band && !dataset.hidden) bands.push({ color: line.color, ...line.band });
    }
    this.#datasets = next;
    this.#bands = bands;
    data.datasets = datasets;
    scales.y.type = view.logY ? 'logarithmic' : 'linear';
    scales.y.title.text = view.metric;
    scales.x.title.text = X_TITLES[view.xAxis];
    // Steps are whole numbers: no 1.5 ticks on a short run.
    scales.x.ticks.precision = view.xAxis === 'step' ? 0 : undefined;
  }

  toPng(): string {
    return this.chart.toBase64Image('image/png', 1);
  }

  destroy(): void {
    this.chart.destroy();
  }
}

export { canDrawCharts } from './chartLoader';
