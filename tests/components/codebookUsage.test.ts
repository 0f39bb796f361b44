import { cleanup, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { SeriesBucket } from '@api/contract';
import CodebookUsage from '../../src-renderer/src/components/CodebookUsage.svelte';
import { codeShareMetrics, usageHistogram } from '../../src-renderer/src/lib/codebookUsage';
import { defaultPanels } from '../../src-renderer/src/lib/dashboard';
import { describeMetric } from '../../src-renderer/src/lib/metricDescriptions';
import { RunsStore } from '../../src-renderer/src/lib/stores/runs.svelte';
import { SeriesStore } from '../../src-renderer/src/lib/stores/series.svelte';
import { FakeTransport, makeBuckets, makeRun, settle } from './fakeTransport';

afterEach(() => cleanup());

const share = (bin: number) => `test/code_share/${String(bin).padStart(2, '0')}`;

describe('codebook usage (VQ-VAE)', () => {
  it('lists the histogram bins in order and reads them at the last evaluation', () => {
    expect(
      codeShareMetrics(['test/code_share/10', 'test/perplexity', 'test/code_share/02', 'test/code_share/01']),
    ).toEqual(['test/code_share/01', 'test/code_share/02', 'test/code_share/10']);
    // 4 codes: one per bar; the evaluation at step 10 is the last one.
    const h = usageHistogram(
      4,
      [0, 1, 2, 3],
      [makeBuckets([0.4, 0.625]), makeBuckets([0.3, 0.25]), makeBuckets([0.2, 0.125]), makeBuckets([0.1, 0])],
    );
    expect(h.step).toBe(10);
    expect(h.width).toBe(1);
    expect(h.bins.map((b) => [b.bin, b.share, b.firstRank, b.lastRank])).toEqual([
      [0, 0.625, 1, 1],
      [1, 0.25, 2, 2],
      [2, 0.125, 3, 3],
      [3, 0, 4, 4],
    ]);
    expect(h.max).toBe(0.625);
    expect(h.codesInUsedBins).toBe(3);
    // 100 codes in bins of 2: the last bin holds ranks 99-100; a bin still loading holds the step back.
    const wide = usageHistogram(100, [0, 49], [makeBuckets([0.5, 0.75]), makeBuckets([0.01])]);
    expect(wide.width).toBe(2);
    expect(wide.step).toBe(0);
    expect(wide.bins.map((b) => [b.share, b.firstRank, b.lastRank])).toEqual([
      [0.5, 1, 2],
      [0.01, 99, 100],
    ]);
    expect(usageHistogram(8, [], []).step).toBeNull();
  });

  it('puts the perplexity and the fraction of codes used in the default layout of a VQ-VAE run', () => {
    const names = [
      'train/elbo',
      'test/elbo',
      'test/elbo_code_prior',
      'test/kl',
      'test/perplexity',
      'test/codes_used',
      share(0),
    ];
    const panels = defaultPanels(['vq-vae'], names);
    expect(panels.map((p) => p.id)).toEqual(['elbo', 'kl', 'perplexity', 'codes-used']);
    expect(panels[0].metrics).toEqual(['train/elbo', 'test/elbo', 'test/elbo_code_prior']);
    expect(panels.find((p) => p.id === 'perplexity')!.metrics).toEqual(['test/perplexity']);
    // Flows: their mean log-det per step.
    const flow = defaultPanels(['vae'], ['test/elbo', 'test/flow_logdet/0', 'test/flow_logdet/1']);
    expect(flow.find((p) => p.id === 'flow-logdet')!.metrics).toEqual(['test/flow_logdet/0', 'test/flow_logdet/1']);
  });

  it('draws one bar per bin of each selected VQ-VAE run, most used first, with its perplexity', async () => {
    const vq = makeRun({
      id: 'vq',
      name: 'vq run',
      configInput: { model: { kind: 'vq-vae', codebookSize: 4, codeDim: 2, codePositions: 2 } },
    });
    const vae = makeRun({ id: 'vae', name: 'vae run' });
    const series: Record<string, Record<string, SeriesBucket[]>> = {
      vq: {
        [share(0)]: makeBuckets([0.5, 0.625]),
        [share(1)]: makeBuckets([0.5, 0.375]),
        [share(2)]: makeBuckets([0, 0]),
        [share(3)]: makeBuckets([0, 0]),
        // exp(H) of the last shares (0.625, 0.375): 1.93779...
        'test/perplexity': makeBuckets([2, Math.exp(-(0.625 * Math.log(0.625) + 0.375 * Math.log(0.375)))]),
        'test/codes_used': makeBuckets([0.5, 0.5]),
      },
      vae: { 'test/elbo': makeBuckets([-100]) },
    };
    const transport = new FakeTransport({
      listRuns: () => [vq, vae],
      listMetricNames: ({ runIds }) => [...new Set(runIds.flatMap((id) => Object.keys(series[id] ?? {})))],
      getSeries: ({ runIds, metric }) =>
        runIds.map((runId) => ({ runId, metric, buckets: (series[runId]?.[metric] ?? []).map((x) => ({ ...x })) })),
    });
    const runs = new RunsStore(transport);
    const store = new SeriesStore(transport);
    await runs.load();
    await store.loadMetricNames(['vq', 'vae']);
    render(CodebookUsage, { props: { runs, series: store } });
    await settle();
    const histograms = screen.getAllByTestId('codebook-histogram');
    expect(histograms.map((h) => h.getAttribute('data-run-id'))).toEqual(['vq']);
    expect(histograms[0].getAttribute('data-step')).toBe('10');
    expect(histograms[0].getAttribute('data-bins')).toBe('4');
    const bars = screen.getAllByTestId('code-bar');
    expect(bars.map((b) => Number(b.getAttribute('data-share')))).toEqual([0.625, 0.375, 0, 0]);
    expect(bars.map((b) => b.getAttribute('data-ranks'))).toEqual(['1-1', '2-2', '3-3', '4-4']);
    // Bar heights scale with the share: the second is 0.375 / 0.625 of the first.
    const heights = bars.map((b) => Number(b.getAttribute('height')));
    expect(heights[1] / heights[0]).toBeCloseTo(0.6, 6);
    expect(heights[2]).toBe(0);
    expect(screen.getByTestId('codebook-perplexity').textContent).toBe('1.9378');
    expect(screen.getByTestId('codebook-used').textContent).toBe('50.0 %');
  });

  it('describes the VQ-VAE and flow metrics, families by their prefix', () => {
    expect(describeMetric(share(3))).toMatch(/^VQ-VAE: share of the test code assignments/);
    expect(describeMetric('test/flow_logdet/1')).toMatch(/flow step k/);
    expect(describeMetric('test/elbo_code_prior')).toMatch(/fitted code prior/);
    expect(describeMetric('test/code_swap')).toBeNull();
  });

  it('shows nothing when no VQ-VAE run is selected', async () => {
    const transport = new FakeTransport({
      listRuns: () => [makeRun({ id: 'plain' })],
      listMetricNames: () => ['test/elbo'],
      getSeries: ({ runIds, metric }) => runIds.map((runId) => ({ runId, metric, buckets: [] })),
    });
    const runs = new RunsStore(transport);
    const store = new SeriesStore(transport);
    await runs.load();
    await store.loadMetricNames(['plain']);
    render(CodebookUsage, { props: { runs, series: store } });
    await settle();
    expect(screen.queryByTestId('codebook-usage')).toBeNull();
  });
});
