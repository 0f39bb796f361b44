import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from '@testing-library/svelte';
import RunsTable from '../../src-renderer/src/components/RunsTable.svelte';
import { RunsStore } from '../../src-renderer/src/lib/stores/runs.svelte';
import { FakeTransport, makeRun, settle } from './fakeTransport';

afterEach(() => cleanup());

async function setup() {
  const runs = [
    makeRun({ id: 'r-a', name: 'alpha', status: 'completed', final: { 'test/elbo': -99.1, 'test/iwae': -95.2 } }),
    makeRun({
      id: 'r-b',
      name: 'bravo',
      status: 'running',
      step: 250,
      totalSteps: 1000,
      startedAt: Date.now() - 100_000,
      experiment: 'exp1',
    }),
    makeRun({ id: 'r-c', name: 'charlie', status: 'paused', experiment: 'exp1' }),
  ];
  const transport = new FakeTransport({ listRuns: () => runs, deleteRun: () => ({ deleted: true }) });
  const store = new RunsStore(transport);
  await store.load();
  store.clearSelection();
  const view = render(RunsTable, { props: { runs: store } });
  await settle();
  return { transport, store, view };
}

const rowIds = () => screen.getAllByTestId('run-row').map((r) => r.getAttribute('data-run-id'));
const row = (id: string) =>
  document.querySelector<HTMLTableRowElement>(`[data-testid="run-row"][data-run-id="${id}"]`)!;

describe('RunsTable', () => {
  it('shows one row per run with its status, metrics and progress', async () => {
    await setup();
    expect(screen.getByTestId('runs-table')).toBeTruthy();
    expect(rowIds()).toEqual(['r-c', 'r-b', 'r-a']);
    expect(row('r-b').getAttribute('data-status')).toBe('running');
    expect(within(row('r-b')).getByTestId('run-status').textContent).toBe('running');
    expect(within(row('r-a')).getByTestId('run-test-elbo').textContent).toBe('-99.1');
    const progress = within(row('r-b')).getByTestId('run-progress');
    expect(progress.getAttribute('data-progress')).toBe('0.25');
    expect(within(row('r-b')).getByTestId('run-eta').textContent).toMatch(/ETA 5 min/);
    // Pause only for the running run, resume only for the paused one.
    expect(within(row('r-b')).queryByTestId('run-pause')).toBeTruthy();
    expect(within(row('r-a')).queryByTestId('run-pause')).toBeNull();
    expect(within(row('r-c')).queryByTestId('run-resume')).toBeTruthy();
  });

  it('sorts when a column header is clicked, and reverses on a second click', async () => {
    await setup();
    await fireEvent.click(screen.getByTestId('sort-name'));
    expect(rowIds()).toEqual(['r-a', 'r-b', 'r-c']);
    await fireEvent.click(screen.getByTestId('sort-name'));
    expect(rowIds()).toEqual(['r-c', 'r-b', 'r-a']);
    expect(screen.getByTestId('sort-name').closest('th')!.getAttribute('aria-sort')).toBe('descending');
  });

  it('filters by text and groups by experiment', async () => {
    await setup();
    await fireEvent.input(screen.getByTestId('runs-filter-text'), { target: { value: 'brav' } });
    expect(rowIds()).toEqual(['r-b']);
    await fireEvent.input(screen.getByTestId('runs-filter-text'), { target: { value: '' } });
    await fireEvent.click(screen.getByTestId('runs-group-toggle'));
    expect(screen.getAllByTestId('run-group').map((g) => g.getAttribute('data-experiment'))).toEqual([
      'exp1',
      '(none)',
    ]);
  });

  it('toggles selection with Enter on a focused row and with the checkbox', async () => {
    const { store } = await setup();
    row('r-a').focus();
    await fireEvent.keyDown(row('r-a'), { key: 'Enter' });
    expect(store.selectedIds.has('r-a')).toBe(true);
    expect(row('r-a').getAttribute('data-selected')).toBe('true');
    await fireEvent.click(within(row('r-a')).getByTestId('run-select'));
    expect(store.selectedIds.has('r-a')).toBe(false);
  });

  it('asks before deleting (Delete key), and deletes on confirm', async () => {
    const { transport } = await setup();
    await fireEvent.keyDown(row('r-c'), { key: 'Delete' });
    const dialog = screen.getByTestId('confirm-dialog');
    expect(dialog.textContent).toContain('charlie');
    expect(transport.callsOf('deleteRun')).toHaveLength(0);
    await fireEvent.click(screen.getByTestId('confirm-ok'));
    await settle();
    expect(transport.callsOf('deleteRun')).toEqual([{ runId: 'r-c' }]);
    expect(rowIds()).toEqual(['r-b', 'r-a']);
  });

  it('Escape cancels the delete', async () => {
    const { transport } = await setup();
    await fireEvent.click(within(row('r-a')).getByTestId('run-delete'));
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.queryByTestId('confirm-dialog')).toBeNull();
    expect(transport.callsOf('deleteRun')).toHaveLength(0);
  });

  it('updates a row live from a pushed event, without reloading', async () => {
    const { store, transport } = await setup();
    const untouched = row('r-a');
    store.handleEvent({ type: 'run', run: { ...store.byId.get('r-b')!, status: 'completed', step: 1000 } });
    await settle();
    expect(row('r-b').getAttribute('data-status')).toBe('completed');
    expect(within(row('r-b')).getByTestId('run-progress').getAttribute('data-progress')).toBe('1');
    expect(row('r-a')).toBe(untouched); // same DOM node: the other rows were not re-created
    expect(transport.callsOf('listRuns')).toHaveLength(1);
  });

  it('tells a new user what to do when there are no runs', async () => {
    const store = new RunsStore(new FakeTransport({ listRuns: () => [] }));
    await store.load();
    render(RunsTable, { props: { runs: store } });
    expect(screen.getByTestId('runs-empty').textContent).toContain('No runs yet: start one with the form on the left');
  });
});
