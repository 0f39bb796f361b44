// @vitest-environment node
// (pure data and store logic: no DOM needed, so no jsdom to set up)
import { describe, expect, it } from 'vitest';
import type { MetricPoint, SeriesBucket } from '@api/contract';
import { SeriesStore, sortMetricNames } from '../../src-renderer/src/lib/stores/series.svelte';
import { FakeTransport, makeBuckets, makeRun, settle } from './fakeTransport';

const point = (step: number, value: number, name = 'train/loss'): MetricPoint => ({
  name,
  step,
  epoch: 0,
  value,
  wallTime: step,
});

describe('series store', () => {
  it('fetches the missing series of all runs in one request and caches them', async () => {
    const transport = new FakeTransport({
      getSeries: ({ runIds, metric }) => runIds.map((runId) => ({ runId, metric, buckets: makeBuckets([1, 2]) })),
    });
    const store = new SeriesStore(transport);
    await store.ensure(['a', 'b'], 'train/loss');
    await store.ensure(['a', 'b', 'c'], 'train/loss');
    expect(transport.callsOf('getSeries')).toEqual([
      { runIds: ['a', 'b'], metric: 'train/loss', maxBuckets: 1000 },
      { runIds: ['c'], metric: 'train/loss', maxBuckets: 1000 },
    ]);
    expect(store.get('c', 'train/loss')!.buckets).toHaveLength(2);
  });

  it('asks for fewer buckets per run when told, and refetches a coarse series finer later', async () => {
    // Downsampled buckets (count > 1) when fewer than the series' 5000 points are asked for.
    const transport = new FakeTransport({
      getSeries: ({ runIds, metric, maxBuckets }) =>
        runIds.map((runId) => ({
          runId,
          metric,
          buckets: makeBuckets(Array.from({ length: Math.min(maxBuckets ?? 1000, 50) }, (_, i) => i)).map((b) => ({
            ...b,
            count: 100,
          })),
        })),
    });
    const store = new SeriesStore(transport);
    await store.ensure(['a', 'b'], 'train/loss', 240);
    await store.ensure(['a', 'b'], 'train/loss', 240); // cached at that resolution: no request
    await store.ensure(['a', 'b', 'c'], 'train/loss', 5000); // capped at the store's maxBuckets
    expect(transport.callsOf('getSeries')).toEqual([
      { runIds: ['a', 'b'], metric: 'train/loss', maxBuckets: 240 },
      { runIds: ['c', 'a', 'b'], metric: 'train/loss', maxBuckets: 1000 },
    ]);
  });

  it('does not refetch a series whose buckets are single points', async () => {
    const transport = new FakeTransport({
      getSeries: ({ runIds, metric }) => runIds.map((runId) => ({ runId, metric, buckets: makeBuckets([1, 2, 3]) })),
    });
    const store = new SeriesStore(transport);
    await store.ensure(['a'], 'train/loss', 200);
    await store.ensure(['a'], 'train/loss');
    expect(transport.callsOf('getSeries')).toHaveLength(1);
    expect(store.get('a', 'train/loss')!.state).toBe('ready');
  });

  it('keeps live points that arrive while the first request is out', async () => {
    let answer!: (buckets: SeriesBucket[]) => void;
    const transport = new FakeTransport({
      getSeries: ({ runIds, metric }) =>
        new Promise((resolve) => (answer = (buckets) => resolve([{ runId: runIds[0], metric, buckets }]))),
    });
    const store = new SeriesStore(transport);
    const loading = store.ensure(['a'], 'train/loss');
    store.append('a', [point(10, 5), point(30, 3)]);
    answer(makeBuckets([9, 8, 7], 10)); // steps 0, 10, 20
    await loading;
    expect(store.get('a', 'train/loss')!.buckets.map((b) => [b.step, b.last])).toEqual([
      [0, 9],
      [10, 8],
      [20, 7],
      [30, 3], // newer than the server's last bucket: kept
    ]);
  });

  it('refetches a series once its live tail grows past a quarter of maxBuckets', async () => {
    let served = makeBuckets([1, 2, 3, 4], 10);
    const transport = new FakeTransport({
      getSeries: ({ runIds, metric }) => [{ runId: runIds[0], metric, buckets: served }],
    });
    const store = new SeriesStore(transport, { maxBuckets: 8, refetchMs: 0 });
    await store.ensure(['a'], 'train/loss');
    store.append('a', [point(40, 5), point(50, 6)]);
    await settle();
    expect(transport.callsOf('getSeries')).toHaveLength(1); // 2 appended: not more than 8 / 4
    served = makeBuckets([1, 2, 3, 4, 5, 6, 7], 10);
    store.append('a', [point(60, 7)]);
    await settle();
    expect(transport.callsOf('getSeries')).toHaveLength(2);
    const entry = store.get('a', 'train/loss')!;
    expect(entry.buckets.map((b) => b.step)).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(entry.appended).toBe(0);
  });

  it('fetches a grown series once more when its run stops, so it ends on what the store holds', async () => {
    let served = makeBuckets([1], 10);
    const transport = new FakeTransport({
      getSeries: ({ runIds, metric }) => [{ runId: runIds[0], metric, buckets: served }],
    });
    const store = new SeriesStore(transport, { refetchMs: 0 });
    await store.ensure(['a'], 'train/loss');
    store.append('a', [point(10, 2)]); // the event for step 20 never arrives
    served = makeBuckets([1, 2, 3], 10);
    store.handleEvent({ type: 'run', run: makeRun({ id: 'a', status: 'running' }) });
    await settle();
    expect(transport.callsOf('getSeries')).toHaveLength(1);
    store.handleEvent({ type: 'run', run: makeRun({ id: 'a', status: 'completed' }) });
    await settle();
    expect(transport.callsOf('getSeries')).toHaveLength(2);
    expect(store.get('a', 'train/loss')!.buckets.map((b) => b.last)).toEqual([1, 2, 3]);
    // Nothing grew since: a repeated 'completed' event fetches nothing.
    store.handleEvent({ type: 'run', run: makeRun({ id: 'a', status: 'completed' }) });
    await settle();
    expect(transport.callsOf('getSeries')).toHaveLength(2);
  });

  it('orders metric names train first, then test, dimensions numerically', () => {
    expect(sortMetricNames(['test/elbo', 'train/kl_dim/10', 'train/loss', 'train/kl_dim/9', 'other'])).toEqual([
      'train/kl_dim/9',
      'train/kl_dim/10',
      'train/loss',
      'test/elbo',
      'other',
    ]);
  });
});
