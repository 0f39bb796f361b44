import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { SeriesBucket } from '@api/contract';
import Dashboard from '../../src-renderer/src/components/Dashboard.svelte';
import { autoSmoothing, defaultPanels, familyOf, groupMetrics, metricUnit } from '../../src-renderer/src/lib/dashboard';
import { DashboardStore } from '../../src-renderer/src/lib/stores/dashboard.svelte';
import { RunsStore } from '../../src-renderer/src/lib/stores/runs.svelte';
import { SeriesStore } from '../../src-renderer/src/lib/stores/series.svelte';
import { FakeTransport, makeBuckets, makeRun, settle } from './fakeTransport';

afterEach(() => cleanup());

const NAMES = [
  'train/loss',
  'train/elbo',
  'train/recon',
  'train/kl',
  ...Array.from({ length: 12 }, (_, d) => `train/kl_dim/${String(d).padStart(2, '0')}`),
  'test/elbo',
  'test/iwae',
  'test/recon',
  'test/kl',
  'test/active_units',
  ...Array.from({ length: 12 }, (_, d) => `test/kl_dim/${String(d).padStart(2, '0')}`),
];

describe('dashboard logic', () => {
  it('groups per-dimension metrics into one family entry each, never flat', () => {
    const entries = groupMetrics(NAMES);
    expect(entries).toHaveLength(11); // 9 plain metrics + train/kl_dim + test/kl_dim
    const family = entries.find((e) => e.kind === 'family' && e.prefix === 'test/kl_dim');
    expect(family && family.kind === 'family' && family.members).toHaveLength(12);
    expect(familyOf('test/kl_layer/1')).toBe('test/kl_layer');
    expect(familyOf('test/elbo')).toBeNull();
  });

  it('searches every word of the query', () => {
    expect(groupMetrics(NAMES, 'test kl').map((e) => (e.kind === 'metric' ? e.name : e.prefix))).toEqual([
      'test/kl',
      'test/kl_dim',
    ]);
    expect(groupMetrics(NAMES, 'kl_dim/03')).toHaveLength(2); // both families hold a dim 03
    expect(groupMetrics(NAMES, 'nothing-like-this')).toHaveLength(0);
  });

  it('puts only metrics of one unit on a panel', () => {
    expect(metricUnit('test/elbo')).toBe('nats');
    expect(metricUnit('train/kl_dim/04')).toBe('nats');
    expect(metricUnit('test/active_units')).toBe('count');
    expect(metricUnit('train/samples_per_sec')).toBe('rate');
    const store = new DashboardStore();
    store.setContext(['vae'], NAMES);
    const elbo = store.panels.find((p) => p.id === 'elbo')!;
    expect(store.addMetrics(elbo.id, ['test/active_units'])).toBe(false);
    expect(store.addMetrics(elbo.id, ['train/loss'])).toBe(true);
    expect(store.panels.find((p) => p.id === 'elbo')!.metrics).toEqual([
      'train/elbo',
      'test/elbo',
      'test/iwae',
      'train/loss',
    ]);
    expect(store.custom).not.toBeNull();
    store.resetLayout();
    expect(store.panels.find((p) => p.id === 'elbo')!.metrics).toHaveLength(3);
  });

  it('lays out ELBO/IWAE, recon, KL and the model own metrics by default', () => {
    expect(defaultPanels(['vae'], NAMES).map((p) => p.id)).toEqual(['elbo', 'recon', 'kl', 'own']);
    const ladder = defaultPanels(['ladder'], [...NAMES, 'test/kl_layer/0', 'test/kl_layer/1']);
    expect(ladder.find((p) => p.id === 'kl-layers')!.metrics).toEqual(['test/kl_layer/0', 'test/kl_layer/1']);
    const capacity = defaultPanels(['beta-vae'], [...NAMES, 'train/capacity']);
    expect(capacity.map((p) => p.id)).toContain('capacity');
    // Only a loss logged (e.g. a benchmark store): one panel of it.
    expect(defaultPanels(['vae'], ['train/loss'])).toEqual([
      { id: 'm:train/loss', title: 'train/loss', metrics: ['train/loss'] },
    ]);
  });

  it('smooths automatically only series with many points', () => {
    expect(autoSmoothing(3)).toBe(0);
    expect(autoSmoothing(29)).toBe(0);
    expect(autoSmoothing(100)).toBe(0.5);
    expect(autoSmoothing(1000)).toBe(0.95);
  });
});

describe('dashboard view (jsdom: data side)', () => {
  const a = makeRun({ id: 'a', name: 'run a' });
  const b = makeRun({ id: 'b', name: 'run b' });
  function transport(series: Record<string, Record<string, SeriesBucket[]>>) {
    return new FakeTransport({
      listRuns: () => [a, b],
      listMetricNames: ({ runIds }) => [...new Set(runIds.flatMap((id) => Object.keys(series[id] ?? {})))],
      getSeries: ({ runIds, metric }) =>
        runIds.map((runId) => ({ runId, metric, buckets: (series[runId]?.[metric] ?? []).map((x) => ({ ...x })) })),
    });
  }

  it('draws one panel per configured panel, each with every run x metric line, raw values unsmoothed', async () => {
    const evalCurve = makeBuckets([-330, -325, -319.14]);
    const t = transport({
      a: {
        'train/elbo': makeBuckets([-400, -350, -340, -330]),
        'test/elbo': evalCurve,
        'test/iwae': makeBuckets([-320, -316, -311]),
      },
      b: {
        'train/elbo': makeBuckets([-410, -360]),
        'test/elbo': makeBuckets([-335, -329]),
        'train/kl': makeBuckets([5, 6]),
      },
    });
    const runs = new RunsStore(t);
    const series = new SeriesStore(t);
    const dashboard = new DashboardStore();
    await runs.load();
    await series.loadMetricNames(['a', 'b']);
    render(Dashboard, { props: { runs, series, dashboard } });
    await settle();
    const panels = screen.getAllByTestId('dashboard-panel');
    expect(panels.map((p) => p.getAttribute('data-panel-id'))).toEqual(['elbo', 'kl']);
    const elbo = panels[0];
    // 2 runs x train/elbo, 2 runs x test/elbo, run a's test/iwae.
    expect(elbo.getAttribute('data-series')).toBe('5');
    expect(elbo.getAttribute('data-points')).toBe(String(4 + 2 + 3 + 2 + 3));
    expect(elbo.getAttribute('data-smoothing')).toBe('0');
    const ends = [...elbo.querySelectorAll('[data-testid="panel-legend-item"]')].map((li) =>
      li.getAttribute('data-raw'),
    );
    expect(ends).toContain('-319.14');

    // A family from the search box becomes one new panel.
    await fireEvent.input(screen.getByTestId('metric-search'), { target: { value: 'train kl' } });
    const results = screen.getAllByTestId('metric-result').map((r) => r.getAttribute('data-metric'));
    expect(results).toEqual(['train/kl']);
    await fireEvent.click(screen.getAllByTestId('metric-result')[0]);
    await settle();
    expect(screen.getAllByTestId('dashboard-panel')).toHaveLength(3);
    expect(dashboard.panels.map((p) => p.metrics)).toEqual([
      ['train/elbo', 'test/elbo', 'test/iwae'],
      ['train/kl'],
      ['train/kl'],
    ]);
  });
});
