// The new-run form's data set picker (issue #13): the built-ins and the data sets imported into
// the data folder, by id and name with their counts and hash; "Import data set…" uploads a file in
// browser mode and asks main for the native dialog in the Electron window; a run started on an
// imported data set names it 'dataset:<id>', never a path.
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DatasetInfo, DesktopMethodName } from '@api/contract';
import NewRunForm from '../../src-renderer/src/components/NewRunForm.svelte';
import { DatasetsStore } from '../../src-renderer/src/lib/stores/datasets.svelte';
import { RunsStore } from '../../src-renderer/src/lib/stores/runs.svelte';
import { RemoteError, type Transport } from '../../src-renderer/src/lib/transport';
import { FakeTransport, makeRun, settle } from './fakeTransport';

afterEach(() => cleanup());
beforeAll(async () => {
  await import('../../src-renderer/src/lib/runFormValidate');
});

function dataset(id: string, name: string, count: number, sha: string): DatasetInfo {
  return {
    id,
    ref: `dataset:${id}`,
    name,
    format: 'idx',
    size: 16 + count * 784,
    sha256: sha.repeat(64 / sha.length),
    count,
    height: 28,
    width: 28,
    channels: 1,
    createdAt: 1_700_000_000_000,
  };
}
const digits = dataset('ds-0123456789ab', 'my digits', 12_000, '3f2a');
const letters = dataset('ds-ba9876543210', 'letters', 500, 'c0de');

function setup(
  options: { listed?: DatasetInfo[]; upload?: (file: Blob & { name?: string }) => Promise<DatasetInfo> } = {},
  transportOf: (fake: FakeTransport) => Transport = (fake) => fake,
) {
  const fake = new FakeTransport({
    listRuns: () => [],
    listDatasets: () => options.listed ?? [digits],
    createRun: (request) =>
      makeRun({ id: 'created-1', name: 'created', status: 'queued', config: request.config as never }),
  });
  const transport = transportOf(fake);
  const datasets = new DatasetsStore(transport, options.upload);
  render(NewRunForm, { props: { runs: new RunsStore(transport), datasets } });
  const picker = screen.getByTestId('dataset-picker') as HTMLSelectElement;
  const optionTexts = () => [...picker.querySelectorAll('option')].map((o) => [o.value, o.textContent?.trim()]);
  return { fake, datasets, picker, optionTexts };
}

async function startRun(fake: FakeTransport): Promise<string> {
  await fireEvent.click(screen.getByTestId('start-run'));
  await settle(10);
  const calls = fake.callsOf('createRun') as { config: { data: { dataset: string } } }[];
  expect(calls).toHaveLength(1);
  return calls[0].config.data.dataset;
}

describe('data set picker', () => {
  it('lists the built-ins, then the imported data sets by name and id with their count and hash', async () => {
    const { picker, optionTexts } = setup({ listed: [digits, letters] });
    await settle();
    expect(optionTexts().map(([value]) => value)).toEqual([
      'mnist',
      'mnist-10k',
      'fashion-mnist',
      'shapes',
      'dataset:ds-0123456789ab',
      'dataset:ds-ba9876543210',
    ]);
    expect(optionTexts()[4][1]).toBe('my digits (ds-0123456789ab): 12,000 images, 28x28, sha256 3f2a3f2a…');
    expect(optionTexts()[5][1]).toBe('letters (ds-ba9876543210): 500 images, 28x28, sha256 c0dec0de…');
    expect(picker.querySelector('optgroup[label="Imported"]')?.children).toHaveLength(2);
    // No path to type: browser mode and the window take none.
    expect(optionTexts().some(([value]) => value === 'path')).toBe(false);
  });

  it('a run started on an imported data set names it dataset:<id>, and the choice shows its full record', async () => {
    const { fake, picker } = setup();
    await settle();
    await fireEvent.change(picker, { target: { value: 'dataset:ds-0123456789ab' } });
    const chosen = screen.getByTestId('dataset-chosen');
    expect(chosen.getAttribute('data-ref')).toBe('dataset:ds-0123456789ab');
    expect(chosen.textContent).toMatch(/12,000 images of 28x28 \(idx\), sha256 3f2a3f2a3f2a3f2a…/);
    expect(await startRun(fake)).toBe('dataset:ds-0123456789ab');
  });

  it('browser mode uploads the chosen file, lists the new data set, selects it and starts a run on it', async () => {
    const uploaded: string[] = [];
    const { fake, picker } = setup({
      listed: [],
      upload: async (file) => {
        uploaded.push(file.name ?? '');
        return letters;
      },
    });
    await settle();
    expect(screen.queryByTestId('imported-datasets')).toBeNull();
    const input = screen.getByTestId('dataset-import-input') as HTMLInputElement;
    const file = new File([new Uint8Array([0, 0, 8, 3])], 'letters-idx3-ubyte');
    Object.defineProperty(input, 'files', { value: [file], configurable: true });
    await fireEvent.change(input);
    await settle();
    expect(uploaded).toEqual(['letters-idx3-ubyte']);
    expect(picker.value).toBe('dataset:ds-ba9876543210');
    expect(screen.getByTestId('imported-datasets').children).toHaveLength(1);
    expect(screen.queryByTestId('dataset-import-dialog')).toBeNull();
    expect(await startRun(fake)).toBe('dataset:ds-ba9876543210');
  });

  it("a refused upload says why, beside the picker, and keeps the form's choice", async () => {
    const { picker } = setup({
      upload: async () => {
        throw new RemoteError('upload.bin: not an IDX file (plain or .gz) nor a .npy file; only those can be imported');
      },
    });
    await settle();
    const input = screen.getByTestId('dataset-import-input') as HTMLInputElement;
    Object.defineProperty(input, 'files', { value: [new File(['hello'], 'notes.txt')], configurable: true });
    await fireEvent.change(input);
    await settle();
    expect(screen.getByTestId('dataset-import-error').textContent).toMatch(
      /notes\.txt was not imported: .*not an IDX file/,
    );
    expect(picker.value).toBe('mnist');
  });

  it('a data set imported elsewhere (the File menu, another tab) appears by event, once', async () => {
    const { fake, optionTexts } = setup();
    await settle();
    fake.emit({ type: 'dataset', dataset: letters });
    fake.emit({ type: 'dataset', dataset: letters });
    await settle();
    expect(optionTexts().filter(([value]) => value.startsWith('dataset:'))).toHaveLength(2);
  });

  it('the desktop window asks main for the open dialog and selects what was imported; a cancel changes nothing', async () => {
    const asked: DesktopMethodName[] = [];
    let answer: 'cancel' | 'import' = 'cancel';
    const { picker } = setup({ listed: [] }, (fake) => ({
      kind: 'electron',
      call: (method, request) => fake.call(method, request),
      subscribe: (listener) => fake.subscribe(listener),
      desktop: {
        call: async (method) => {
          asked.push(method);
          return (
            answer === 'cancel' ? { canceled: true } : { canceled: false, path: '/home/u/letters.idx', result: letters }
          ) as never;
        },
      },
    }));
    await settle();
    expect(screen.queryByTestId('dataset-import-input')).toBeNull();
    await fireEvent.click(screen.getByTestId('dataset-import-dialog'));
    await settle();
    expect(picker.value).toBe('mnist');
    answer = 'import';
    await fireEvent.click(screen.getByTestId('dataset-import-dialog'));
    await settle();
    expect(asked).toEqual(['importDatasetWithDialog', 'importDatasetWithDialog']);
    expect(picker.value).toBe('dataset:ds-ba9876543210');
  });
});
