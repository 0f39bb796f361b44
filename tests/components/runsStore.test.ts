// @vitest-environment node
// (pure data and store logic: no DOM needed, so no jsdom to set up)
import { describe, expect, it } from 'vitest';
import { RunsStore } from '../../src-renderer/src/lib/stores/runs.svelte';
import { FakeTransport, makeRun, settle } from './fakeTransport';

function storeWith(
  runs = [
    makeRun({
      id: 'a',
      name: 'alpha',
      status: 'completed',
      final: { 'test/elbo': -98.2 },
      configInput: { model: { kind: 'beta-vae', beta: 4 } },
      tags: ['keep'],
    }),
    makeRun({ id: 'b', name: 'bravo', status: 'running', step: 100, totalSteps: 1000, final: {}, experiment: 'sweep' }),
    makeRun({
      id: 'c',
      name: 'charlie',
      status: 'failed',
      final: { 'test/elbo': -120.5 },
      configInput: { model: { kind: 'ladder' }, data: { dataset: 'shapes' } },
    }),
  ],
) {
  const transport = new FakeTransport({ listRuns: () => runs });
  const store = new RunsStore(transport);
  return { transport, store, runs };
}

describe('runs store', () => {
  it('loads the runs and selects the newest ones for comparison', async () => {
    const { store } = storeWith();
    await store.load();
    expect(store.runs.map((r) => r.id)).toEqual(['a', 'b', 'c']);
    // Sorted newest first by default; all three are among the 5 newest.
    expect(store.visible.map((r) => r.id)).toEqual(['c', 'b', 'a']);
    expect([...store.selectedIds].sort()).toEqual(['a', 'b', 'c']);
    // Each selected run got its own colour.
    expect(new Set(['a', 'b', 'c'].map((id) => store.colorOf(id))).size).toBe(3);
  });

  it('sorts by a column, toggles direction, and keeps missing values last', async () => {
    const { store } = storeWith();
    await store.load();
    store.sortBy('name');
    expect(store.visible.map((r) => r.name)).toEqual(['alpha', 'bravo', 'charlie']);
    store.sortBy('name');
    expect(store.visible.map((r) => r.name)).toEqual(['charlie', 'bravo', 'alpha']);
    store.sortBy('testElbo'); // numbers: best (highest) first
    expect(store.visible.map((r) => r.id)).toEqual(['a', 'c', 'b']);
    store.sortBy('testElbo');
    expect(store.visible.map((r) => r.id)).toEqual(['c', 'a', 'b']); // b has no test ELBO: still last
  });

  it('filters by text, status, model, dataset, experiment and tag', async () => {
    const { store } = storeWith();
    await store.load();
    store.filters.text = 'char';
    expect(store.visible.map((r) => r.id)).toEqual(['c']);
    store.resetFilters();
    store.filters.status = 'running';
    expect(store.visible.map((r) => r.id)).toEqual(['b']);
    store.resetFilters();
    store.filters.model = 'ladder';
    expect(store.visible.map((r) => r.id)).toEqual(['c']);
    store.resetFilters();
    store.filters.dataset = 'mnist';
    expect(store.visible.map((r) => r.id).sort()).toEqual(['a', 'b']);
    store.resetFilters();
    store.filters.experiment = 'sweep';
    expect(store.visible.map((r) => r.id)).toEqual(['b']);
    store.resetFilters();
    store.filters.tag = 'keep';
    expect(store.visible.map((r) => r.id)).toEqual(['a']);
    expect(store.options.models).toEqual(['beta-vae', 'ladder', 'vae']);
  });

  it('applies a pushed run event to that run only, without reloading', async () => {
    const { store, transport } = storeWith();
    await store.load();
    const before = store.runs;
    const b = store.byId.get('b')!;
    store.handleEvent({ type: 'run', run: { ...b, status: 'completed', step: 1000 } });
    expect(store.byId.get('b')!.status).toBe('completed');
    expect(store.byId.get('b')!.step).toBe(1000);
    expect(store.runs[0]).toBe(before[0]); // untouched rows keep their object
    expect(store.runs[2]).toBe(before[2]);
    expect(transport.callsOf('listRuns')).toHaveLength(1);
  });

  it("moves a running run's step and headline values on metrics events", async () => {
    const { store } = storeWith();
    await store.load();
    store.handleEvent({
      type: 'metrics',
      runId: 'b',
      points: [
        { name: 'train/loss', step: 150, epoch: 1, value: 120, wallTime: 1 },
        { name: 'test/elbo', step: 150, epoch: 1, value: -101.5, wallTime: 1 },
      ],
    });
    const b = store.byId.get('b')!;
    expect(b.step).toBe(150);
    expect(b.final['test/elbo']).toBe(-101.5);
  });

  it('adds runs it did not know, removes deleted ones and drops them from the selection', async () => {
    const { store } = storeWith();
    await store.load();
    store.handleEvent({ type: 'run', run: makeRun({ id: 'd', name: 'delta' }) });
    expect(store.byId.has('d')).toBe(true);
    store.focus('a');
    store.handleEvent({ type: 'run-deleted', runId: 'a' });
    expect(store.byId.has('a')).toBe(false);
    expect(store.selectedIds.has('a')).toBe(false);
    expect(store.focusedId).toBeNull();
  });

  it('keeps events that arrive while the list is loading', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const listed = [makeRun({ id: 'x', status: 'running', step: 10 })];
    const transport = new FakeTransport({ listRuns: async () => (await gate, listed) });
    const store = new RunsStore(transport);
    const loading = store.load();
    store.handleEvent({ type: 'run', run: { ...listed[0], step: 50 } });
    store.handleEvent({ type: 'run', run: makeRun({ id: 'y' }) });
    release();
    await loading;
    expect(store.byId.get('x')!.step).toBe(50);
    expect(store.byId.has('y')).toBe(true);
  });

  it('toggles selection and selects newly created runs', async () => {
    const created = makeRun({ id: 'new', status: 'queued' });
    const { store, transport } = storeWith();
    transport.handlers.createRun = () => created;
    transport.handlers.createGridSweep = () => [makeRun({ id: 's1' }), makeRun({ id: 's2' })];
    await store.load();
    store.clearSelection();
    store.toggleSelected('a');
    expect([...store.selectedIds]).toEqual(['a']);
    store.toggleSelected('a');
    expect(store.selectedIds.size).toBe(0);
    await store.create({ config: created.config });
    expect([...store.selectedIds]).toEqual(['new']);
    expect(store.focused?.id).toBe('new');
    await store.createSweep({
      config: created.config,
      experiment: 'e',
      grid: [{ param: 'train.seed', values: [1, 2] }],
    });
    expect([...store.selectedIds]).toEqual(['new', 's1', 's2']);
    expect(store.chartRuns.map((r) => r.id)).toEqual(['new', 's1', 's2']);
  });

  it('selects a run that appears while the view is open (created by a sweep elsewhere, or the CLI)', async () => {
    const { store } = storeWith();
    await store.load();
    store.clearSelection();
    store.handleEvent({ type: 'run', run: makeRun({ id: 'from-cli', status: 'queued' }) });
    expect([...store.selectedIds]).toEqual(['from-cli']);
    // A known run's update does not change the selection.
    store.handleEvent({ type: 'run', run: { ...store.byId.get('a')!, status: 'completed' } });
    expect([...store.selectedIds]).toEqual(['from-cli']);
  });

  it('keeps the chart view of the selection stable across step ticks', async () => {
    const { store } = storeWith();
    await store.load();
    const first = store.chartRuns;
    store.handleEvent({ type: 'run', run: { ...store.byId.get('b')!, step: 500 } });
    expect(store.chartRuns).toBe(first);
    store.toggleSelected('a');
    expect(store.chartRuns).not.toBe(first);
  });

  it('reports a failed action and applies the answer of a successful one', async () => {
    const { store, transport } = storeWith();
    await store.load();
    transport.handlers.pauseRun = () => {
      throw new Error('run c is not running');
    };
    expect(await store.pause('c')).toBe(false);
    expect(store.actionError).toContain('not running');
    transport.handlers.pauseRun = ({ runId }) => ({ ...store.byId.get(runId)!, status: 'paused' });
    expect(await store.pause('b')).toBe(true);
    expect(store.byId.get('b')!.status).toBe('paused');
    expect(store.actionError).toBeNull();
    await settle();
  });
});
