import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import AcrossRuns from '../../src-renderer/src/components/AcrossRuns.svelte';
import RunsTable from '../../src-renderer/src/components/RunsTable.svelte';
import { differingKeys, displayName, parallelAxes, rateDistortion } from '../../src-renderer/src/lib/acrossRuns';
import { columnChoices, sortRuns } from '../../src-renderer/src/lib/runTable';
import { RunsStore } from '../../src-renderer/src/lib/stores/runs.svelte';
import { FakeTransport, makeRun, settle } from './fakeTransport';

afterEach(() => cleanup());

const b1 = makeRun({
  id: 'b1',
  name: 'betas model.beta=1',
  configInput: { model: { kind: 'vae' }, train: { backend: 'wasm' } },
  final: { 'test/kl': 20, 'test/recon': 240, 'test/elbo': -260 },
});
const b4 = makeRun({
  id: 'b4',
  name: 'betas model.beta=4',
  configInput: { model: { kind: 'beta-vae', beta: 4 }, train: { backend: 'cpu' } },
  final: { 'test/kl': 9, 'test/recon': 252, 'test/elbo': -261 },
});
const plain = makeRun({ id: 'p', name: 'my run', configInput: { model: { kind: 'beta-vae', beta: 16 } }, final: {} });

describe('across runs', () => {
  it('names the differing config keys (not the backend) and spells them out only where the name lacks them', () => {
    const keys = differingKeys([b1, b4, plain]);
    // model.kind follows from model.beta here (vae = beta-vae with beta 1).
    expect(keys).toEqual(['model.beta']);
    expect(differingKeys([b1, makeRun({ configInput: { model: { kind: 'ladder' } } })])).toContain('model.kind');
    expect(displayName(b4, keys)).toBe('betas model.beta=4');
    expect(displayName(plain, keys)).toBe('my run · model.beta=16');
  });

  it('puts one rate-distortion point per run that has a final KL and recon', () => {
    const points = rateDistortion([b1, b4, plain], ['model.beta']);
    expect(points).toEqual([
      { runId: 'b1', rate: 20, distortion: 240, label: 'model.beta=1' },
      { runId: 'b4', rate: 9, distortion: 252, label: 'model.beta=4' },
    ]);
  });

  it('lays out parallel axes: numeric keys scaled, categories spread, metrics after', () => {
    const axes = parallelAxes([b1, b4], ['model.beta', 'model.kind']);
    expect(axes.map((a) => a.key)).toEqual(['model.beta', 'model.kind', 'test/elbo', 'test/recon', 'test/kl']);
    expect(axes[0].positions).toEqual([0, 1]);
    expect(axes[1].kind).toBe('category');
    expect(axes[1].ticks.map((t) => t.label)).toEqual(['beta-vae', 'vae']);
    expect(axes[4].positions).toEqual([1, 0]);
  });

  it('draws the plot and the parallel coordinates for the selection', async () => {
    const transport = new FakeTransport({ listRuns: () => [b1, b4, plain] });
    const runs = new RunsStore(transport);
    await runs.load();
    render(AcrossRuns, { props: { runs } });
    await settle();
    expect(screen.getByTestId('rate-distortion').getAttribute('data-points')).toBe('2');
    expect(
      screen
        .getAllByTestId('rd-point')
        .map((p) => p.getAttribute('data-run-id'))
        .sort(),
    ).toEqual(['b1', 'b4']);
    expect(screen.getAllByTestId('pc-line')).toHaveLength(3);
  });
});

describe('runs table columns', () => {
  it('offers every final metric and config key, sorts by them, and shows what is chosen', async () => {
    const { finals, configs } = columnChoices([b1, b4]);
    expect(finals).toEqual(['final:test/elbo', 'final:test/kl', 'final:test/recon']);
    expect(configs).toContain('config:model.beta');
    expect(sortRuns([b1, b4, plain], 'final:test/kl', 1).map((r) => r.id)).toEqual(['b4', 'b1', 'p']);
    expect(sortRuns([b1, b4, plain], 'config:model.beta', -1).map((r) => r.id)).toEqual(['p', 'b4', 'b1']);

    const transport = new FakeTransport({ listRuns: () => [b1, b4] });
    const runs = new RunsStore(transport);
    await runs.load();
    render(RunsTable, { props: { runs } });
    await settle();
    // The chooser draws its options only while open.
    expect(document.querySelectorAll('[data-testid="column-option"]')).toHaveLength(0);
    await fireEvent.click(document.querySelector('[data-testid="column-chooser"] summary')!);
    await settle();
    await fireEvent.click(document.querySelector('[data-testid="column-option"][data-key="final:test/kl"]')!);
    await fireEvent.click(document.querySelector('[data-testid="column-option"][data-key="progress"]')!);
    expect(runs.columns).toContain('final:test/kl');
    expect(runs.columns).not.toContain('progress');
    const cells = [...document.querySelectorAll('[data-testid="run-cell"][data-key="final:test/kl"]')].map(
      (c) => c.textContent,
    );
    expect(cells.sort()).toEqual(['20', '9']);
  });
});
