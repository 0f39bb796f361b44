// The desktop window's export and import panels (issue #11 item 5): they ask main for a native
// save/open dialog through the transport's desktop calls (the preload bridge), instead of pointing
// at the File menu; browser mode keeps its download link and upload field.
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, describe, expect, it } from 'vitest';
import type { DesktopMethodName, DesktopRequestOf, DesktopResponseMap, ExportResult, RunDetail } from '@api/contract';
import ExportBundle from '../../src-renderer/src/components/ExportBundle.svelte';
import ImportBundle from '../../src-renderer/src/components/ImportBundle.svelte';
import { RunsStore } from '../../src-renderer/src/lib/stores/runs.svelte';
import { RemoteError, type Transport } from '../../src-renderer/src/lib/transport';
import { FakeTransport, makeRun, settle } from './fakeTransport';

afterEach(() => cleanup());

type DesktopHandlers = {
  [M in DesktopMethodName]?: (request: DesktopRequestOf<M>) => Promise<DesktopResponseMap[M]>;
};

/** The FakeTransport's workbench calls plus desktop calls answered by `handlers`, as the Electron window has. */
function desktopTransport(fake: FakeTransport, handlers: DesktopHandlers) {
  const asked: { method: DesktopMethodName; request: unknown }[] = [];
  const transport: Transport = {
    kind: 'electron',
    call: (method, request) => fake.call(method, request),
    subscribe: (listener) => fake.subscribe(listener),
    desktop: {
      async call(method, request) {
        asked.push({ method, request });
        const handler = handlers[method] as ((r: unknown) => Promise<never>) | undefined;
        if (!handler) throw new Error(`no desktop handler for ${method}`);
        return handler(request);
      },
    },
  };
  return { transport, asked };
}

const checkpoints: RunDetail['checkpoints'] = [
  { id: 1, step: 8, epoch: 1, kind: 'epoch', size: 10, sha256: 'x', createdAt: 0 },
  { id: 2, step: 16, epoch: 2, kind: 'latest', size: 10, sha256: 'y', createdAt: 0 },
];

const exported = (path: string): ExportResult => ({
  path,
  format: 'zip',
  bytes: 2_345_678,
  runId: 'r1',
  checkpointStep: 8,
  files: [
    { path: 'manifest.json', size: 1, sha256: 'a' },
    { path: 'checkpoint.safetensors', size: 2, sha256: 'b' },
  ],
});

describe('ExportBundle in the desktop window', () => {
  it('asks main for the save dialog with the chosen checkpoint, and shows where the bundle went', async () => {
    const run = makeRun({ id: 'r1' });
    const { transport, asked } = desktopTransport(new FakeTransport(), {
      exportRunWithDialog: async ({ format }) =>
        format === 'zip'
          ? { canceled: false, path: '/home/u/Downloads/r1.zip', result: exported('/home/u/Downloads/r1.zip') }
          : { canceled: true },
    });
    render(ExportBundle, { props: { run, checkpoints, transport } });
    expect(screen.queryByText(/File ›/)).toBeNull();
    const select = screen.getByTestId('export-checkpoint') as HTMLSelectElement;
    select.value = '8';
    await fireEvent.change(select);
    await fireEvent.click(screen.getByTestId('run-export'));
    await settle();
    expect(asked).toEqual([{ method: 'exportRunWithDialog', request: { runId: 'r1', checkpoint: 8, format: 'zip' } }]);
    const result = screen.getByTestId('export-result');
    expect(result.getAttribute('data-status')).toBe('done');
    expect(result.textContent).toMatch(
      /Saved 2 files \(2\.3 MB, checkpoint at step\s+8\) to \/home\/u\/Downloads\/r1\.zip/,
    );

    // A cancelled folder picker leaves nothing on screen.
    await fireEvent.click(screen.getByTestId('run-export-folder'));
    await settle();
    expect(asked.at(-1)).toEqual({
      method: 'exportRunWithDialog',
      request: { runId: 'r1', checkpoint: 8, format: 'folder' },
    });
    expect(screen.queryByTestId('export-result')).toBeNull();
  });

  it('shows a refused export as an alert', async () => {
    const { transport } = desktopTransport(new FakeTransport(), {
      exportRunWithDialog: async () => {
        throw new RemoteError('Run r1 not found');
      },
    });
    render(ExportBundle, { props: { run: makeRun({ id: 'r1' }), checkpoints, transport } });
    await fireEvent.click(screen.getByTestId('run-export'));
    await settle();
    const result = screen.getByTestId('export-result');
    expect(result.getAttribute('role')).toBe('alert');
    expect(result.textContent).toContain('Export failed: Run r1 not found');
  });

  it('browser mode keeps the download link', () => {
    render(ExportBundle, { props: { run: makeRun({ id: 'r2' }), checkpoints, transport: new FakeTransport() } });
    const link = screen.getByTestId('run-export') as HTMLAnchorElement;
    expect(link.tagName).toBe('A');
    expect(link.getAttribute('href')).toBe('/download/export/r2.zip?checkpoint=latest');
    expect(screen.queryByTestId('run-export-folder')).toBeNull();
  });
});

describe('ImportBundle in the desktop window', () => {
  it('asks main for the open dialog, then adds, selects and focuses the imported run', async () => {
    const fake = new FakeTransport({ listRuns: () => [makeRun({ id: 'orig' })] });
    const imported = makeRun({ id: 'imp', name: 'imported' });
    const { transport, asked } = desktopTransport(fake, {
      importBundleWithDialog: async ({ format }) =>
        format === 'folder'
          ? {
              canceled: false,
              path: '/data/bundles/run-7',
              result: { run: imported, sourceRunId: 'r7', warnings: [], metricPoints: 12, images: 2 },
            }
          : { canceled: true },
    });
    const runs = new RunsStore(transport);
    await runs.load();
    render(ImportBundle, { props: { runs } });
    expect(screen.queryByTestId('import-input')).toBeNull();

    await fireEvent.click(screen.getByTestId('import-zip-dialog'));
    await settle();
    expect(screen.queryByTestId('import-result')).toBeNull(); // cancelled: nothing changed
    expect(runs.runs.map((r) => r.id)).toEqual(['orig']);

    await fireEvent.click(screen.getByTestId('import-folder-dialog'));
    await settle();
    expect(asked.map((a) => a.request)).toEqual([{ format: 'zip' }, { format: 'folder' }]);
    const result = screen.getByTestId('import-result');
    expect(result.getAttribute('data-status')).toBe('done');
    expect(result.getAttribute('data-run-id')).toBe('imp');
    expect(result.textContent).toMatch(
      /Imported “imported” as run imp \(from\s+r7\):\s+12 metric points, 2 image grids/,
    );
    expect(runs.runs.map((r) => r.id)).toEqual(['orig', 'imp']);
    expect(runs.focused?.id).toBe('imp');
  });
});
