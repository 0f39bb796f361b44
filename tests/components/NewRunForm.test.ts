import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '@api/config';
import NewRunForm from '../../src-renderer/src/components/NewRunForm.svelte';
import { RunsStore } from '../../src-renderer/src/lib/stores/runs.svelte';
import { RemoteError } from '../../src-renderer/src/lib/transport';
import { FakeTransport, makeRun, settle } from './fakeTransport';
import { MODEL_FIELDS } from '../../src-renderer/src/lib/modelFields.generated';

afterEach(() => cleanup());

// The form loads its schema (zod) on first use with a dynamic import; the first import of that
// module in this worker is transformed by vite, which takes longer than `settle()` waits, so it
// is warmed up once here. The form itself still awaits the load before it validates a submit.
beforeAll(async () => {
  await import('../../src-renderer/src/lib/runFormValidate');
});

function setup(props: { queue?: string } = {}) {
  const transport = new FakeTransport({
    listRuns: () => [],
    listDatasets: () => [],
    createRun: (request) =>
      makeRun({ id: 'created-1', name: 'created', status: 'queued', config: request.config as never }),
    createGridSweep: (request) => {
      let combos: string[] = [''];
      for (const axis of request.grid)
        combos = combos.flatMap((c) => axis.values.map((v) => `${c} ${axis.param}=${v}`));
      return combos.map((c, i) => makeRun({ id: `sweep-${i}`, name: `${request.experiment}${c}`, tags: request.tags }));
    },
  });
  const store = new RunsStore(transport);
  render(NewRunForm, { props: { runs: store, ...props } });
  const form = screen.getByTestId('new-run-form') as HTMLFormElement;
  const field = (name: string) => form.querySelector<HTMLInputElement | HTMLSelectElement>(`[name="${name}"]`)!;
  const errorOf = (name: string) =>
    form.querySelector(`[data-testid="field-error"][data-field="${name}"]`)?.textContent ?? null;
  return { transport, store, form, field, errorOf };
}

describe('NewRunForm', () => {
  it('has inputs named by config path', () => {
    const { field } = setup();
    for (const name of [
      'model.kind',
      'data.dataset',
      'data.trainSize',
      'data.testSize',
      'train.epochs',
      'train.batchSize',
      'train.lr',
      'model.latentDim',
      'model.hidden',
      'model.likelihood',
      'train.seed',
      'train.klSchedule',
      'experiment',
      'sweep.param',
    ]) {
      expect(field(name), name).toBeTruthy();
    }
    expect(field('train.epochs').value).toBe('10');
  });

  it('shows the message beside epochs for an invalid value and sends nothing', async () => {
    const { field, errorOf, transport } = setup();
    await fireEvent.input(field('train.epochs'), { target: { value: '0' } });
    await fireEvent.click(screen.getByTestId('start-run'));
    await settle();
    expect(errorOf('train.epochs')).toMatch(/>=1|too small/i);
    expect(field('train.epochs').getAttribute('aria-invalid')).toBe('true');
    expect(field('train.epochs').getAttribute('aria-describedby')).toBe('err-train.epochs');
    expect(transport.callsOf('createRun')).toHaveLength(0);
    // The message goes away once the value is fixed.
    await fireEvent.input(field('train.epochs'), { target: { value: '3' } });
    expect(errorOf('train.epochs')).toBeNull();
  });

  it('says a non-number is not a number', async () => {
    const { field, errorOf } = setup();
    await fireEvent.input(field('train.lr'), { target: { value: 'fast' } });
    await fireEvent.click(screen.getByTestId('start-run'));
    expect(errorOf('train.lr')).toContain('Enter a number');
  });

  it('calls createRun with the parsed config on a valid submit and selects the new run', async () => {
    const { field, transport, store } = setup();
    await fireEvent.change(field('model.kind'), { target: { value: 'beta-vae' } });
    await fireEvent.input(field('model.beta'), { target: { value: '4' } });
    await fireEvent.change(field('data.dataset'), { target: { value: 'shapes' } });
    await fireEvent.input(field('data.trainSize'), { target: { value: '2000' } });
    await fireEvent.input(field('train.epochs'), { target: { value: '3' } });
    await fireEvent.input(field('model.hidden'), { target: { value: '256, 128' } });
    await fireEvent.input(field('train.seed'), { target: { value: '7' } });
    await fireEvent.change(field('train.klSchedule'), { target: { value: 'linear' } });
    await fireEvent.input(field('train.warmupSteps'), { target: { value: '500' } });
    await fireEvent.input(field('experiment'), { target: { value: 'beta study' } });
    await fireEvent.click(screen.getByTestId('start-run'));
    await settle();
    const calls = transport.callsOf('createRun') as { config: unknown; experiment?: string }[];
    expect(calls).toHaveLength(1);
    expect(calls[0].experiment).toBe('beta study');
    expect(calls[0].config).toEqual(
      parseRunConfig({
        model: { kind: 'beta-vae', beta: 4, hidden: [256, 128] },
        data: { dataset: 'shapes', trainSize: 2000 },
        train: { epochs: 3, seed: 7, klSchedule: 'linear', warmupSteps: 500 },
      }),
    );
    expect(store.selectedIds.has('created-1')).toBe(true);
    expect(screen.getByTestId('form-success').textContent).toContain('created');
  });

  it("draws each kind's own fields from its schema, takes the new kind's defaults, and sends capacity when switched on", async () => {
    const { field, form, transport } = setup();
    for (const kind of ['vae', 'beta-vae', 'ladder', 'beta-tcvae', 'vq-vae'] as const) {
      await fireEvent.change(field('model.kind'), { target: { value: kind } });
      // Every field of the kind's schema that applies with its defaults, and no other model field.
      const own = MODEL_FIELDS[kind].fields.filter((f) => !f.network && !f.appliesWhen?.key.startsWith('posterior'));
      const expected = own.filter((f) => f.key !== 'emaDecay' || kind === 'vq-vae').map((f) => `model.${f.key}`);
      const shown = [...form.querySelectorAll<HTMLInputElement>('[name^="model."]')]
        .map((e) => e.name)
        .filter(
          (n) =>
            !['model.kind', 'model.hidden', 'model.likelihood', 'model.architecture', 'model.activation'].includes(n),
        );
      expect([kind, shown.sort()]).toEqual([kind, expected.sort()]);
      for (const spec of own.filter((f) => f.type !== 'object'))
        expect([spec.key, field(`model.${spec.key}`).value]).toEqual([
          spec.key,
          Array.isArray(spec.default) ? spec.default.join(', ') : String(spec.formStart ?? spec.default),
        ]);
    }
    // beta: the form starts a beta-VAE at 4 (meta.formStart; the schema default is 1), a beta-TCVAE
    // at 1; a value typed by hand stays across kinds, even one that is another kind's default.
    await fireEvent.change(field('model.kind'), { target: { value: 'beta-vae' } });
    expect(field('model.beta').value).toBe('4');
    await fireEvent.change(field('model.kind'), { target: { value: 'beta-tcvae' } });
    expect(field('model.beta').value).toBe('1');
    await fireEvent.change(field('model.kind'), { target: { value: 'beta-vae' } });
    expect(field('model.beta').value).toBe('4');
    await fireEvent.input(field('model.beta'), { target: { value: '1' } });
    await fireEvent.change(field('model.kind'), { target: { value: 'vae' } });
    await fireEvent.change(field('model.kind'), { target: { value: 'beta-vae' } });
    expect(field('model.beta').value).toBe('1');
    await fireEvent.input(field('model.beta'), { target: { value: '8' } });
    // Controlled capacity: off by default; on, its three fields show with the schema's defaults.
    expect(field('model.capacity.cMax')).toBeNull();
    await fireEvent.click(field('model.capacity'));
    await fireEvent.input(field('model.capacity.cMax'), { target: { value: '12' } });
    await fireEvent.click(screen.getByTestId('start-run'));
    await settle();
    const sent = transport.calls.filter((c) => c.method === 'createRun').at(-1)!.request as {
      config: { model: Record<string, unknown> };
    };
    expect(sent.config.model).toMatchObject({
      kind: 'beta-vae',
      beta: 8,
      capacity: { gamma: 1000, cMax: 12, steps: 100_000 },
    });
  });

  it('shows beta only for beta-vae', async () => {
    const { field } = setup();
    expect(field('model.beta')).toBeNull();
    await fireEvent.change(field('model.kind'), { target: { value: 'beta-vae' } });
    expect(field('model.beta')).toBeTruthy();
  });

  it('offers each variant its own fields and sends them: vq-vae, beta-tcvae, a flow posterior', async () => {
    const { field, transport } = setup();
    expect(field('model.codebookSize')).toBeNull();
    expect(field('model.flowLength')).toBeNull(); // a Gaussian posterior has no flow steps
    await fireEvent.change(field('model.posterior'), { target: { value: 'iaf' } });
    await fireEvent.input(field('model.flowLength'), { target: { value: '3' } });
    await fireEvent.click(screen.getByTestId('start-run'));
    await settle();
    await fireEvent.change(field('model.kind'), { target: { value: 'beta-tcvae' } });
    expect(field('model.posterior')).toBeNull();
    await fireEvent.input(field('model.beta'), { target: { value: '6' } });
    await fireEvent.input(field('model.alpha'), { target: { value: '0.5' } });
    await fireEvent.click(screen.getByTestId('start-run'));
    await settle();
    await fireEvent.change(field('model.kind'), { target: { value: 'vq-vae' } });
    expect(field('model.latentDim')).toBeNull(); // the latent is codePositions x codeDim
    expect(field('model.alpha')).toBeNull();
    await fireEvent.input(field('model.codebookSize'), { target: { value: '128' } });
    await fireEvent.change(field('model.codebookUpdate'), { target: { value: 'loss' } });
    await fireEvent.click(screen.getByTestId('start-run'));
    await settle();
    const configs = (transport.callsOf('createRun') as { config: { model: object } }[]).map((c) => c.config.model);
    expect(configs).toEqual([
      parseRunConfig({ model: { posterior: 'iaf', flowLength: 3 } }).model,
      parseRunConfig({ model: { kind: 'beta-tcvae', beta: 6, alpha: 0.5 } }).model,
      parseRunConfig({ model: { kind: 'vq-vae', codebookSize: 128, codebookUpdate: 'loss' } }).model,
    ]);
  });

  it('puts a server-side field error beside that field', async () => {
    const { field, errorOf, transport } = setup();
    transport.handlers.createRun = () => {
      throw new RemoteError(
        'must be at least eval.gridSize (8) for the reconstruction grid',
        'config.data.testSize',
        400,
      );
    };
    await fireEvent.click(screen.getByTestId('start-run'));
    await settle();
    expect(errorOf('data.testSize')).toContain('eval.gridSize');
    await fireEvent.input(field('data.testSize'), { target: { value: '500' } });
    expect(errorOf('data.testSize')).toBeNull();
  });

  it('starts a sweep with createGridSweep, asking for an experiment name first', async () => {
    const { field, errorOf, transport, store } = setup();
    await fireEvent.change(field('sweep.param'), { target: { value: 'train.seed' } });
    await fireEvent.input(field('sweep.values'), { target: { value: '0, 1, 2' } });
    await fireEvent.click(screen.getByTestId('start-run'));
    expect(errorOf('experiment')).toContain('experiment name');
    await fireEvent.input(field('experiment'), { target: { value: 'seeds' } });
    await fireEvent.click(screen.getByTestId('start-run'));
    await settle();
    expect(transport.callsOf('createGridSweep')).toEqual([
      { config: parseRunConfig({}), experiment: 'seeds', grid: [{ param: 'train.seed', values: [0, 1, 2] }] },
    ]);
    expect([...store.selectedIds]).toEqual(['sweep-0', 'sweep-1', 'sweep-2']);
  });

  it('starts a grid of two parameters x seeds, tags on every run, the count shown before it starts', async () => {
    const { field, transport } = setup();
    await fireEvent.change(field('model.kind'), { target: { value: 'beta-vae' } });
    await fireEvent.change(field('sweep.param'), { target: { value: 'model.beta' } });
    await fireEvent.input(field('sweep.values'), { target: { value: '1, 4, 16' } });
    await fireEvent.change(field('sweep.param2'), { target: { value: 'model.latentDim' } });
    await fireEvent.input(field('sweep.values2'), { target: { value: '2, 10' } });
    await fireEvent.input(field('sweep.seeds'), { target: { value: '0, 1' } });
    await fireEvent.input(field('experiment'), { target: { value: 'grid' } });
    await fireEvent.input(field('tags'), { target: { value: 'study, fmnist' } });
    await settle();
    expect(screen.getByTestId('sweep-count').getAttribute('data-runs')).toBe('12');
    expect(screen.getByTestId('start-run').textContent).toContain('12 runs');
    await fireEvent.click(screen.getByTestId('start-run'));
    await settle();
    const [request] = transport.callsOf('createGridSweep') as { grid: unknown; tags: string[] }[];
    expect(request.grid).toEqual([
      { param: 'model.beta', values: [1, 4, 16] },
      { param: 'model.latentDim', values: [2, 10] },
      { param: 'train.seed', values: [0, 1] },
    ]);
    expect(request.tags).toEqual(['study', 'fmnist']);
  });

  it('checks every sweep value against the schema', async () => {
    const { field, errorOf, transport } = setup();
    await fireEvent.change(field('sweep.param'), { target: { value: 'model.latentDim' } });
    await fireEvent.input(field('sweep.values'), { target: { value: '2, 1000' } });
    await fireEvent.input(field('experiment'), { target: { value: 'z' } });
    await fireEvent.click(screen.getByTestId('start-run'));
    expect(errorOf('sweep.values')).toMatch(/^1000: /);
    expect(transport.callsOf('createGridSweep')).toHaveLength(0);
  });

  it('offers "Run on: this machine | queue" only when the workbench hands runs to a queue, and sends runOn', async () => {
    const alone = setup();
    expect(alone.form.querySelector('[data-testid="run-on"]')).toBeNull();
    cleanup();
    const { field, transport } = setup({ queue: 'redis://:***@10.0.0.5:6379/0' });
    const runOn = field('runOn') as HTMLSelectElement;
    expect([...runOn.options].map((o) => o.textContent)).toEqual([
      'this machine',
      'queue (redis://:***@10.0.0.5:6379/0)',
    ]);
    await fireEvent.click(screen.getByTestId('start-run'));
    await settle();
    await fireEvent.change(runOn, { target: { value: 'queue' } });
    await fireEvent.click(screen.getByTestId('start-run'));
    await settle();
    const calls = transport.callsOf('createRun') as { runOn?: string }[];
    expect(calls.map((c) => c.runOn)).toEqual([undefined, 'queue']);
    expect(screen.getByTestId('form-success').textContent).toMatch(/on the queue/);
  });
});
