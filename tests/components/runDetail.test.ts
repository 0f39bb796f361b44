// The run details panel (issue #17): the backend the run trained on, and beside it the notes the
// trainer gave at its start (why 'auto' left webgpu out, the calibration's figures), read from the
// run's record; a run without notes shows no empty list.
import { cleanup, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunSummary } from '@api/contract';
import RunDetail from '../../src-renderer/src/components/RunDetail.svelte';
import { RunsStore } from '../../src-renderer/src/lib/stores/runs.svelte';
import { FakeTransport, makeRun, settle } from './fakeTransport';

afterEach(() => cleanup());

async function showDetails(run: RunSummary) {
  const transport = new FakeTransport({
    listRuns: () => [run],
    getRun: () => ({ ...run, notes: '', metricNames: [], checkpoints: [] }),
  });
  const runs = new RunsStore(transport);
  await runs.load();
  runs.focus(run.id);
  render(RunDetail, { props: { runs } });
  await settle();
  return transport;
}

describe('run details', () => {
  it("shows the run's backend notes, one item each, in the order the trainer gave them", async () => {
    const notes = [
      'webgpu skipped: no GPU driver found (no Vulkan ICD but software ones)',
      'webgpu slower in calibration: webgpu 41.2 ms/step, wasm+native-sgemm 3.9 ms/step',
      'BLAS: 2 thread(s) at the start; OpenBLAS 0.3.21 (Prescott)',
    ];
    await showDetails(makeRun({ id: 'r-notes', backend: 'wasm+native-sgemm(Prescott)', backendNotes: notes }));
    expect(screen.getByTestId('run-backend').textContent).toBe('wasm+native-sgemm(Prescott)');
    const list = screen.getByTestId('run-backend-notes');
    expect([...list.querySelectorAll('li')].map((li) => li.textContent)).toEqual(notes);
  });

  it('a run without notes (not started yet, or from before they were stored) shows no notes list', async () => {
    await showDetails(makeRun({ id: 'r-plain', backend: null, status: 'queued', backendNotes: [] }));
    expect(screen.getByTestId('run-backend').textContent).toBe('–');
    expect(screen.queryByTestId('run-backend-notes')).toBeNull();
    expect(screen.queryByText('Backend notes')).toBeNull();
  });
});
