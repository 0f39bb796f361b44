import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { ImageMeta, SeriesBucket } from '@api/contract';
import App from '../../src-renderer/src/App.svelte';
import ConfigDiff from '../../src-renderer/src/components/ConfigDiff.svelte';
import MetricChart from '../../src-renderer/src/components/MetricChart.svelte';
import SampleGrids from '../../src-renderer/src/components/SampleGrids.svelte';
import { ImagesStore } from '../../src-renderer/src/lib/stores/images.svelte';
import { RunsStore } from '../../src-renderer/src/lib/stores/runs.svelte';
import { SeriesStore } from '../../src-renderer/src/lib/stores/series.svelte';
import { FakeTransport, makeBuckets, makeRun, settle } from './fakeTransport';

afterEach(() => cleanup());

const seed0 = makeRun({ id: 'seed0', name: 'seed 0', status: 'running', configInput: { train: { seed: 0 } } });
const seed1 = makeRun({ id: 'seed1', name: 'seed 1', status: 'completed', configInput: { train: { seed: 1 } } });
const beta4 = makeRun({
  id: 'beta4',
  name: 'beta 4',
  status: 'completed',
  configInput: { model: { kind: 'beta-vae', beta: 4 } },
});

function compareTransport(series: Record<string, Record<string, SeriesBucket[]>>) {
  return new FakeTransport({
    listRuns: () => [seed0, seed1, beta4],
    listMetricNames: ({ runIds }) => [...new Set(runIds.flatMap((id) => Object.keys(series[id] ?? {})))],
    getSeries: ({ runIds, metric }) =>
      runIds.map((runId) => ({ runId, metric, buckets: (series[runId]?.[metric] ?? []).map((b) => ({ ...b })) })),
  });
}

const chart = () => screen.getByTestId('metric-chart');

describe('metric chart (data side; jsdom draws no canvas)', () => {
  it('smooths automatically by point count until the slider is moved', async () => {
    const transport = compareTransport({
      seed0: {
        'train/loss': makeBuckets(Array.from({ length: 100 }, (_, i) => 100 - i)),
        'test/elbo': makeBuckets([-330, -319.14]),
      },
    });
    const runs = new RunsStore(transport);
    const series = new SeriesStore(transport);
    await runs.load();
    runs.selectOnly(['seed0']);
    render(MetricChart, { props: { runs, series } });
    await settle();
    expect(chart().getAttribute('data-smoothing')).toBe('0.5'); // 100 points: a window of 2
    await fireEvent.change(screen.getByTestId('metric-select'), { target: { value: 'test/elbo' } });
    await settle();
    expect(chart().getAttribute('data-smoothing')).toBe('0'); // an evaluation curve ends on its value
    expect(screen.getAllByTestId('legend-item')[0].textContent).toContain('-319.14');
    await fireEvent.input(screen.getByTestId('smoothing-slider'), { target: { value: '0.8' } });
    expect(chart().getAttribute('data-smoothing')).toBe('0.8');
    expect((screen.getByTestId('smoothing-auto') as HTMLInputElement).checked).toBe(false);
  });

  it('overlays the selected runs for the default metric and reports what it draws', async () => {
    const transport = compareTransport({
      seed0: { 'train/loss': makeBuckets([150, 120, 110]), 'test/elbo': makeBuckets([-120]) },
      seed1: { 'train/loss': makeBuckets([155, 125, 112, 105]) },
      beta4: { 'train/loss': makeBuckets([160, 130]), 'test/mig': makeBuckets([0.2]) },
    });
    const runs = new RunsStore(transport);
    const series = new SeriesStore(transport);
    await runs.load();
    render(MetricChart, { props: { runs, series } });
    await settle();
    expect(chart().getAttribute('data-metric')).toBe('train/loss');
    expect(chart().getAttribute('data-series')).toBe('3');
    expect(chart().getAttribute('data-points')).toBe('9');
    // One getSeries request for all selected runs.
    expect(transport.callsOf('getSeries')).toHaveLength(1);
    const options = [...(screen.getByTestId('metric-select') as HTMLSelectElement).options].map((o) => o.value);
    expect(options).toEqual(['train/loss', 'test/elbo', 'test/mig']);
    expect(screen.getAllByTestId('legend-item')).toHaveLength(3);

    // Seed runs collapse into one mean line when aggregating.
    await fireEvent.click(screen.getByTestId('aggregate-seeds-toggle'));
    expect(chart().getAttribute('data-series')).toBe('2');

    // Switching metric fetches only that metric.
    await fireEvent.change(screen.getByTestId('metric-select'), { target: { value: 'test/mig' } });
    await settle();
    expect(chart().getAttribute('data-metric')).toBe('test/mig');
    expect(chart().getAttribute('data-series')).toBe('1');
  });

  it('warns when a test metric overlays runs evaluated on different test sets, and refuses their seed mean', async () => {
    const a = makeRun({ id: 'ta', name: 'seed 0', configInput: { train: { seed: 0 } }, testSetHash: 'a'.repeat(64) });
    const b = makeRun({ id: 'tb', name: 'seed 1', configInput: { train: { seed: 1 } }, testSetHash: 'b'.repeat(64) });
    const transport = new FakeTransport({
      listRuns: () => [a, b],
      listMetricNames: () => ['test/elbo'],
      getSeries: ({ runIds, metric }) => runIds.map((runId) => ({ runId, metric, buckets: makeBuckets([-120, -110]) })),
    });
    const runs = new RunsStore(transport);
    const series = new SeriesStore(transport);
    await runs.load();
    render(MetricChart, { props: { runs, series } });
    await settle();
    expect(chart().getAttribute('data-metric')).toBe('test/elbo');
    expect(screen.getByTestId('test-set-warning').textContent).toMatch(/2 different test sets/);
    expect(screen.getByTestId('metric-description').textContent).toMatch(/lower bound on log p\(x\)/);
    expect(screen.queryByTestId('seed-mean-refused')).toBeNull();
    await fireEvent.click(screen.getByTestId('aggregate-seeds-toggle'));
    expect(chart().getAttribute('data-series')).toBe('2'); // not averaged
    expect(screen.getByTestId('seed-mean-refused').textContent).toMatch(/1 seed group was not averaged/);
  });

  it('grows while a run trains: metrics events append points without a refetch', async () => {
    const transport = compareTransport({ seed0: { 'train/loss': makeBuckets([150, 120]) } });
    const runs = new RunsStore(transport);
    const series = new SeriesStore(transport);
    await runs.load();
    runs.selectOnly(['seed0']);
    render(MetricChart, { props: { runs, series } });
    await settle();
    expect(chart().getAttribute('data-points')).toBe('2');
    const point = (step: number, value: number) => ({
      name: 'train/loss',
      step,
      epoch: 0,
      value,
      wallTime: 1_700_000_100_000 + step,
    });
    series.handleEvent({ type: 'metrics', runId: 'seed0', points: [point(20, 115), point(30, 111)] });
    await settle();
    expect(chart().getAttribute('data-points')).toBe('4');
    // A repeated step (e.g. a replayed event) is not drawn twice; a new metric name shows up in the menu.
    series.handleEvent({
      type: 'metrics',
      runId: 'seed0',
      points: [point(30, 111), { ...point(30, 0.5), name: 'train/kl_weight' }],
    });
    await settle();
    expect(chart().getAttribute('data-points')).toBe('4');
    expect(transport.callsOf('getSeries')).toHaveLength(1);
    const options = [...(screen.getByTestId('metric-select') as HTMLSelectElement).options].map((o) => o.value);
    expect(options).toContain('train/kl_weight');
  });

  it('tells the user to select runs when none is selected', async () => {
    const transport = compareTransport({});
    const runs = new RunsStore(transport);
    await runs.load();
    runs.clearSelection();
    render(MetricChart, { props: { runs, series: new SeriesStore(transport) } });
    expect(screen.getByTestId('chart-empty').textContent).toContain('Tick runs');
    expect(chart().getAttribute('data-series')).toBe('0');
  });
});

describe('config diff', () => {
  it('shows only the keys that differ between the selected runs', async () => {
    const runs = new RunsStore(compareTransport({}));
    await runs.load();
    render(ConfigDiff, { props: { runs } });
    const keys = screen.getAllByTestId('config-diff-row').map((r) => r.getAttribute('data-key'));
    expect(keys).toEqual(['model.beta', 'model.kind', 'train.seed']);
  });
});

describe('sample grids', () => {
  const meta = (id: number, runId: string, epoch: number, kind: ImageMeta['kind'] = 'samples'): ImageMeta => ({
    id,
    runId,
    epoch,
    step: epoch * 100,
    kind,
    width: 224,
    height: 224,
    bytes: 0,
    createdAt: 0,
  });

  it('shows runs × epochs, follows new images live, and enlarges a cell until Escape', async () => {
    const transport = new FakeTransport({
      listRuns: () => [seed0, seed1],
      listImages: ({ runId }) =>
        runId === 'seed0'
          ? [meta(1, 'seed0', 1), meta(2, 'seed0', 2), meta(9, 'seed0', 2, 'traversal')]
          : [meta(3, 'seed1', 1)],
      getImage: ({ imageId }) => ({ dataUrl: `data:image/png;base64,IMG${imageId}` }),
    });
    const runs = new RunsStore(transport);
    const images = new ImagesStore(transport);
    await runs.load();
    render(SampleGrids, { props: { runs, images } });
    await settle();
    const grid = screen.getByTestId('sample-grids');
    expect(grid.getAttribute('data-epoch')).toBe('2');
    const srcs = () => screen.getAllByTestId('grid-image').map((i) => i.getAttribute('src'));
    const srcsOf = (runId: string) =>
      screen
        .getAllByTestId('grid-image')
        .filter((i) => i.getAttribute('data-run-id') === runId)
        .map((i) => i.getAttribute('src'));
    // Columns: epochs 1 and 2; seed1 has no epoch-2 image, so its epoch-1 image stands in.
    expect(srcsOf('seed0')).toEqual(['data:image/png;base64,IMG1', 'data:image/png;base64,IMG2']);
    expect(srcsOf('seed1')).toEqual(['data:image/png;base64,IMG3', 'data:image/png;base64,IMG3']);

    // Slider back to epoch 1.
    await fireEvent.input(screen.getByTestId('epoch-slider'), { target: { value: '1' } });
    expect(grid.getAttribute('data-epoch')).toBe('1');

    // Back to newest: a new image for a selected run appears live and the view follows it.
    await fireEvent.input(screen.getByTestId('epoch-slider'), { target: { value: '2' } });
    images.handleEvent({ type: 'image', image: meta(4, 'seed1', 3) });
    await settle();
    expect(grid.getAttribute('data-epoch')).toBe('3');
    expect(srcs()).toContain('data:image/png;base64,IMG4');

    // Kind switcher.
    await fireEvent.click(screen.getByTestId('kind-traversal'));
    await settle();
    expect(srcs()).toEqual(['data:image/png;base64,IMG9']);

    // Lightbox.
    await fireEvent.click(screen.getAllByTestId('grid-image')[0]);
    expect(screen.getByTestId('lightbox')).toBeTruthy();
    expect(screen.getByTestId('lightbox-image').getAttribute('src')).toBe('data:image/png;base64,IMG9');
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.queryByTestId('lightbox')).toBeNull();

    // Each image was fetched once.
    const fetched = transport.callsOf('getImage').map((r) => (r as { imageId: number }).imageId);
    expect(new Set(fetched).size).toBe(fetched.length);
  });
});

describe('App', () => {
  it('wires pushed events to the table and shows the welcome state first', async () => {
    const transport = new FakeTransport({
      listRuns: () => [],
      appInfo: () => ({ version: '0.1.0', dataDir: '/tmp', transport: 'http', cores: 2 }),
      listMetricNames: () => [],
      getSeries: () => [],
      listImages: () => [],
    });
    render(App, { props: { transport } });
    await settle();
    expect(screen.getByTestId('welcome').textContent).toContain('No runs yet: start one with the form on the left');
    transport.emit({ type: 'run', run: makeRun({ id: 'live-1', name: 'live', status: 'running' }) });
    await settle();
    const row = document.querySelector('[data-testid="run-row"][data-run-id="live-1"]');
    expect(row?.getAttribute('data-status')).toBe('running');
    transport.emit({ type: 'run-deleted', runId: 'live-1' });
    await settle();
    expect(document.querySelector('[data-testid="run-row"]')).toBeNull();
  });
});
