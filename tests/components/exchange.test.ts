// Export/import, replay, comparison, generation and playback in the renderer (issue #6): the
// helpers and stores against a fake transport, and the replay dialog and playback panel rendered.
import { cleanup, fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { ImageMeta, ImportResult, ReplayPlan, RunComparison } from '@api/contract';
import PlaybackPanel from '../../src-renderer/src/components/PlaybackPanel.svelte';
import ReplayComparison from '../../src-renderer/src/components/ReplayComparison.svelte';
import RunsTable from '../../src-renderer/src/components/RunsTable.svelte';
import ImportBundle from '../../src-renderer/src/components/ImportBundle.svelte';
import {
  ComparisonStore,
  GenerateStore,
  ImportStore,
  PlaybackStore,
  rankDifferences,
  ReplayStore,
} from '../../src-renderer/src/lib/stores/exchange.svelte';
import { RunsStore } from '../../src-renderer/src/lib/stores/runs.svelte';
import {
  checkpointOptions,
  evaluationSteps,
  exportDownloadUrl,
  parseCheckpointChoice,
  replayPairOf,
  stepIndexAtOrBefore,
  uploadBundle,
} from '../../src-renderer/src/lib/transfer';
import { RemoteError } from '../../src-renderer/src/lib/transport';
import { FakeTransport, makeBuckets, makeRun, settle } from './fakeTransport';

afterEach(() => cleanup());

const plan = (warnings: string[] = []): ReplayPlan => ({
  runId: 'orig',
  original: { backend: 'wasm', datasetHash: 'aaa' },
  expected: { backend: warnings.length ? 'cpu' : 'wasm', datasetHash: 'aaa' },
  warnings,
});

const comparison = (identical: boolean): RunComparison => ({
  runIds: ['orig', 'rep'],
  identical,
  metrics: [
    {
      metric: 'train/loss',
      maxAbsDiff: identical ? 0 : 0.25,
      atStep: identical ? 8 : 3,
      points: 8,
      onlyInFirst: 0,
      onlyInSecond: 0,
      identical,
      timing: false,
    },
    {
      metric: 'test/elbo',
      maxAbsDiff: identical ? 0 : 1.5,
      atStep: 8,
      points: 1,
      onlyInFirst: 0,
      onlyInSecond: 0,
      identical,
      timing: false,
    },
    {
      metric: 'train/samples_per_sec',
      maxAbsDiff: 40,
      atStep: 2,
      points: 8,
      onlyInFirst: 0,
      onlyInSecond: 0,
      identical: false,
      timing: true,
    },
  ],
});

const image = (id: number, step: number, kind: ImageMeta['kind'] = 'samples'): ImageMeta => ({
  id,
  runId: 'orig',
  step,
  epoch: step / 8,
  kind,
  width: 28,
  height: 28,
  bytes: 0,
  createdAt: 0,
});

async function runsWith(
  transport: FakeTransport,
  list = [makeRun({ id: 'orig', name: 'original' })],
): Promise<RunsStore> {
  transport.handlers.listRuns ??= () => list;
  const runs = new RunsStore(transport);
  await runs.load();
  return runs;
}

describe('transfer helpers', () => {
  it('builds the export download URL with the checkpoint choice', () => {
    expect(exportDownloadUrl('ab12', 'latest')).toBe('/download/export/ab12.zip?checkpoint=latest');
    expect(exportDownloadUrl('ab12', 120, 'http://x')).toBe('http://x/download/export/ab12.zip?checkpoint=120');
  });

  it('offers latest, best and every checkpoint step, and parses the choice back', () => {
    const options = checkpointOptions([
      { id: 1, step: 8, epoch: 1, kind: 'epoch', size: 1, sha256: 'x', createdAt: 0 },
      { id: 2, step: 16, epoch: 2, kind: 'epoch', size: 1, sha256: 'y', createdAt: 0 },
      { id: 3, step: 16, epoch: 2, kind: 'latest', size: 1, sha256: 'y', createdAt: 0 },
    ]);
    expect(options.map((o) => o.value)).toEqual(['latest', 'best', '8', '16']);
    expect(options[3].label).toBe('step 16 (epoch, latest)');
    expect(parseCheckpointChoice('best')).toBe('best');
    expect(parseCheckpointChoice('16')).toBe(16);
    expect(parseCheckpointChoice('nonsense')).toBe('latest');
  });

  it('finds the replay pair from the focus or the selection', () => {
    const original = makeRun({ id: 'o' });
    const replay = makeRun({ id: 'r', replayOf: 'o' });
    const other = makeRun({ id: 'x' });
    const byId = new Map([original, replay, other].map((r) => [r.id, r]));
    expect(replayPairOf(replay, [], byId)).toEqual({ original, replay });
    expect(replayPairOf(original, [original, replay], byId)).toEqual({ original, replay });
    expect(replayPairOf(other, [replay, original], byId)).toEqual({ original, replay });
    expect(replayPairOf(other, [other, replay], byId)).toBeNull();
    expect(replayPairOf(makeRun({ replayOf: 'gone' }), [], byId)).toBeNull();
  });

  it('merges evaluation steps and finds the slider position of a step', () => {
    const steps = evaluationSteps([16, 8], [8, 24]);
    expect(steps).toEqual([8, 16, 24]);
    expect(stepIndexAtOrBefore(steps, 20)).toBe(1);
    expect(stepIndexAtOrBefore(steps, 3)).toBe(0);
  });

  it('uploads a bundle and returns the import, or throws the server message of a refusal', async () => {
    const result = {
      run: makeRun(),
      sourceRunId: 's',
      warnings: [],
      metricPoints: 5,
      images: 2,
    } satisfies ImportResult;
    const seen: RequestInit[] = [];
    const ok = (async (_url: string, init: RequestInit) => {
      seen.push(init);
      return new Response(JSON.stringify({ ok: true, result }), { status: 200 });
    }) as unknown as typeof fetch;
    const file = Object.assign(new Blob([new Uint8Array([1, 2])]), { name: 'my run é.zip' });
    expect(await uploadBundle(file, { fetch: ok })).toEqual(result);
    expect((seen[0].headers as Record<string, string>)['content-type']).toBe('application/zip');
    expect((seen[0].headers as Record<string, string>)['x-file-name']).toBe('my run _.zip');
    const refused = (async () =>
      new Response(
        JSON.stringify({ ok: false, error: { message: 'Bundle refused, nothing was imported: checksum mismatch' } }),
        { status: 400 },
      )) as unknown as typeof fetch;
    const error = await uploadBundle(file, { fetch: refused }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect((error as RemoteError).message).toMatch(/nothing was imported/);
    expect((error as RemoteError).status).toBe(400);
  });
});

describe('ImportStore', () => {
  it('adds, selects and focuses the imported run; a refusal leaves the runs as they were', async () => {
    const transport = new FakeTransport();
    const runs = await runsWith(transport);
    const imported = makeRun({ id: 'imp', name: 'imported' });
    let fail = true;
    const store = new ImportStore(runs, async () => {
      if (fail) throw new RemoteError('Bundle refused, nothing was imported: checksum mismatch', undefined, 400);
      return { run: imported, sourceRunId: 'orig', warnings: [], metricPoints: 3, images: 1 };
    });
    expect(store.available).toBe(true);
    expect(await store.importFile(Object.assign(new Blob([]), { name: 'bad.zip' }))).toBe(false);
    expect(store.state).toEqual({
      status: 'error',
      fileName: 'bad.zip',
      message: 'Bundle refused, nothing was imported: checksum mismatch',
    });
    expect(runs.runs.map((r) => r.id)).toEqual(['orig']);
    fail = false;
    expect(await store.importFile(Object.assign(new Blob([]), { name: 'good.zip' }))).toBe(true);
    expect(store.state.status).toBe('done');
    expect(runs.runs.map((r) => r.id)).toEqual(['orig', 'imp']);
    expect(runs.focused?.id).toBe('imp');
    expect(runs.selectedIds.has('imp')).toBe(true);
  });

  it('shows the refusal in the import panel', async () => {
    const transport = new FakeTransport();
    const runs = await runsWith(transport);
    const store = new ImportStore(runs, async () => {
      throw new RemoteError('Bundle refused, nothing was imported: bad.zip: checksum mismatch');
    });
    render(ImportBundle, { props: { runs, store } });
    const input = screen.getByTestId('import-input') as HTMLInputElement;
    const file = new File([new Uint8Array([1])], 'bad.zip', { type: 'application/zip' });
    Object.defineProperty(input, 'files', { value: [file], configurable: true });
    await fireEvent.change(input);
    await settle();
    const result = screen.getByTestId('import-result');
    expect(result.getAttribute('data-status')).toBe('error');
    expect(result.getAttribute('role')).toBe('alert');
    expect(result.textContent).toMatch(/Import refused:.*checksum mismatch/);
  });
});

describe('ReplayStore and the replay dialog', () => {
  it('plans first and shows the warnings before anything starts; confirm starts it and selects the pair', async () => {
    const replayRun = makeRun({ id: 'rep', name: 'original (replay)', status: 'queued', replayOf: 'orig' });
    const transport = new FakeTransport({
      planReplay: () => plan(["Backend differs: the original trained on 'wasm', this replay will use 'cpu'"]),
      replayRun: () => ({ run: replayRun, plan: plan() }),
    });
    const runs = await runsWith(transport, [makeRun({ id: 'orig', name: 'original' }), makeRun({ id: 'other' })]);
    render(RunsTable, { props: { runs } });
    await settle();
    const row = document.querySelector<HTMLElement>('[data-testid="run-row"][data-run-id="orig"]')!;
    await fireEvent.click(within(row).getByTestId('run-replay'));
    await settle();
    expect(transport.callsOf('replayRun')).toHaveLength(0);
    const warnings = screen.getByTestId('replay-warnings');
    expect(warnings.getAttribute('data-count')).toBe('1');
    expect(warnings.textContent).toMatch(/Backend differs/);
    await fireEvent.click(screen.getByTestId('replay-confirm'));
    await settle();
    expect(transport.callsOf('replayRun')).toEqual([{ runId: 'orig' }]);
    expect(screen.queryByTestId('replay-warnings')).toBeNull();
    expect([...runs.selectedIds]).toEqual(['orig', 'rep']);
    expect(runs.focused?.id).toBe('rep');
  });

  it('cancel starts nothing; a failed plan is shown and confirm stays disabled', async () => {
    const transport = new FakeTransport({
      planReplay: () => {
        throw new Error('Run orig not found');
      },
    });
    const runs = await runsWith(transport);
    const store = new ReplayStore(runs);
    await store.request(runs.runs[0]);
    expect(store.dialog?.status).toBe('error');
    expect(await store.confirm()).toBeNull();
    store.cancel();
    expect(store.dialog).toBeNull();
    expect(transport.callsOf('replayRun')).toHaveLength(0);
  });

  it('does not offer replay for a run that is still training', async () => {
    const transport = new FakeTransport();
    const runs = await runsWith(transport, [makeRun({ id: 'busy', status: 'running' })]);
    render(RunsTable, { props: { runs } });
    await settle();
    expect(screen.queryByTestId('run-replay')).toBeNull();
  });
});

describe('ComparisonStore and the comparison panel', () => {
  it('waits while the replay trains, then reports identical', async () => {
    const transport = new FakeTransport({ compareRuns: () => comparison(true) });
    const original = makeRun({ id: 'orig' });
    const running = makeRun({ id: 'rep', replayOf: 'orig', status: 'running' });
    const store = new ComparisonStore(transport);
    await store.show(original, running);
    expect(store.state.status).toBe('waiting');
    expect(transport.callsOf('compareRuns')).toHaveLength(0);
    await store.show(original, { ...running, status: 'completed' });
    expect(store.state.status === 'ready' && store.state.result.identical).toBe(true);
    await store.show(original, { ...running, status: 'completed' });
    expect(transport.callsOf('compareRuns')).toHaveLength(1); // same pair and statuses: not fetched again
  });

  it('lists differing metrics first, largest difference first, timing last', () => {
    expect(rankDifferences(comparison(false)).map((m) => m.metric)).toEqual([
      'test/elbo',
      'train/loss',
      'train/samples_per_sec',
    ]);
  });

  it('renders the largest difference per metric with its step when the replay differs', async () => {
    const transport = new FakeTransport({ compareRuns: () => comparison(false) });
    const runs = await runsWith(transport, [
      makeRun({ id: 'orig', name: 'original' }),
      makeRun({ id: 'rep', name: 'replay', replayOf: 'orig' }),
    ]);
    runs.focus('rep');
    render(ReplayComparison, { props: { runs } });
    await settle();
    const panel = screen.getByTestId('replay-comparison');
    expect(panel.getAttribute('data-identical')).toBe('false');
    const rows = screen.getAllByTestId('replay-metric');
    expect(rows[0].getAttribute('data-metric')).toBe('test/elbo');
    expect(rows[0].textContent).toMatch(/1\.5\s*8/);
    expect(screen.getByTestId('replay-verdict').textContent).toMatch(/2 metrics differ/);
  });
});

describe('GenerateStore', () => {
  it('asks for samples and an interpolation from the chosen checkpoint; another run clears them', async () => {
    const generated = {
      dataUrl: 'data:image/png;base64,AA',
      width: 28,
      height: 28,
      count: 4,
      columns: 2,
      runId: 'orig',
      checkpointStep: 8,
      backend: 'cpu',
    };
    const transport = new FakeTransport({
      generateSamples: () => generated,
      interpolateLatent: () => ({ ...generated, count: 6 }),
    });
    const store = new GenerateStore(transport);
    await store.generate('orig', { checkpoint: 'best', count: 4, seed: 7 });
    await store.interpolate('orig', { checkpoint: 8, from: 0, to: 3, steps: 6 });
    expect(transport.callsOf('generateSamples')).toEqual([{ runId: 'orig', checkpoint: 'best', count: 4, seed: 7 }]);
    expect(transport.callsOf('interpolateLatent')).toEqual([
      { runId: 'orig', checkpoint: 8, from: 0, to: 3, steps: 6 },
    ]);
    expect(store.samples.status === 'ready' && store.samples.image.count).toBe(4);
    expect(store.interpolation.status === 'ready' && store.interpolation.image.count).toBe(6);
    store.forRun('other');
    expect(store.samples.status).toBe('idle');
  });

  it('shows a failure as its message', async () => {
    const transport = new FakeTransport({
      generateSamples: () => {
        throw new Error('Run orig has no checkpoint yet');
      },
    });
    const store = new GenerateStore(transport);
    await store.generate('orig', { checkpoint: 'latest', count: 4, seed: 0 });
    expect(store.samples).toEqual({ status: 'error', message: 'Run orig has no checkpoint yet' });
  });
});

describe('PlaybackStore and the playback panel', () => {
  function playbackTransport() {
    const images = [image(1, 8), image(2, 16), image(3, 8, 'reconstructions'), image(4, 16, 'reconstructions')];
    return new FakeTransport({
      listImages: () => images,
      listMetricNames: () => ['test/elbo', 'train/loss'],
      getSeries: ({ metric }) => [
        {
          runId: 'orig',
          metric,
          buckets:
            metric === 'test/elbo'
              ? makeBuckets([-120, -110], 8).map((b) => ({ ...b, step: b.step + 8 }))
              : makeBuckets([5, 4, 3, 2, 1], 4),
        },
      ],
      imagesAtStep: ({ step }) => images.filter((m) => m.step === (step >= 16 ? 16 : 8)),
      getImage: ({ imageId }) => ({ dataUrl: `data:image/png;base64,${imageId}` }),
    });
  }

  it('opens at the last evaluation, and cuts the curve and swaps the grids when the slider moves', async () => {
    const transport = playbackTransport();
    const store = new PlaybackStore(transport);
    await store.open('orig');
    expect(store.steps).toEqual([8, 16]);
    expect(store.step).toBe(16);
    expect(store.metric).toBe('train/loss');
    expect(store.images.map((m) => m.id)).toEqual([2, 4]);
    expect(store.cutBuckets).toHaveLength(5);
    await store.seek(0);
    expect(store.step).toBe(8);
    expect(store.images.map((m) => m.id)).toEqual([1, 3]);
    expect(store.cutBuckets.map((b) => b.step)).toEqual([0, 4, 8]);
    expect(store.url(1)).toBe('data:image/png;base64,1');
    await store.seekStep(100);
    expect(store.step).toBe(16);
    await store.setMetric('test/elbo');
    expect(store.cutBuckets.map((b) => b.last)).toEqual([-120, -110]);
  });

  it('renders the slider, the step and the grids of a finished focused run', async () => {
    const transport = playbackTransport();
    const runs = await runsWith(transport);
    runs.focus('orig');
    render(PlaybackPanel, { props: { runs } });
    await settle(10);
    const slider = screen.getByTestId('playback-slider') as HTMLInputElement;
    expect(slider.max).toBe('1');
    expect(screen.getByTestId('playback-step').getAttribute('data-step')).toBe('16');
    expect(screen.getAllByTestId('playback-image').map((i) => i.getAttribute('data-image-id'))).toEqual(['2', '4']);
    await fireEvent.input(slider, { target: { value: '0' } });
    await settle(10);
    expect(screen.getByTestId('playback-step').getAttribute('data-step')).toBe('8');
    expect(screen.getByTestId('playback-chart').getAttribute('data-points')).toBe('3');
    expect(screen.getAllByTestId('playback-image').map((i) => i.getAttribute('data-image-id'))).toEqual(['1', '3']);
  });

  it('waits for a running run to stop', async () => {
    const transport = playbackTransport();
    const runs = await runsWith(transport, [makeRun({ id: 'orig', status: 'running' })]);
    runs.focus('orig');
    render(PlaybackPanel, { props: { runs } });
    await settle();
    expect(screen.queryByTestId('playback-slider')).toBeNull();
    expect(transport.callsOf('listImages')).toHaveLength(0);
  });
});
