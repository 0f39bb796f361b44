// The desktop shell's own methods (issue #11 item 5): the renderer asks, through the same preload
// call as every workbench method, for a native save/open dialog, and main exports or imports what
// the user chose. Driven here through the exact IPC handler body with a real workbench, real
// bundles on disk and scripted dialogs in place of Electron's.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { AppInfo, DesktopResponseMap, RunSummary, WorkbenchEvent } from '../../../src-main/api/contract';
import { encodeIdx } from '../../../src-main/data/idx';
import {
  createDesktopApi,
  withZipExtension,
  type DesktopDialogs,
  type OpenDialogRequest,
  type SaveDialogRequest,
} from '../../../src-main/electron/desktopApi';
import { handleIpcCall } from '../../../src-main/electron/ipcHandler';
import { Workbench } from '../../../src-main/workbench/service';
import { electronTransport } from '../../../src-renderer/src/lib/transport';
import { tinyConfig } from '../../helpers/configs';

let dir: string;
let workbench: Workbench;
let run: RunSummary;

/** Dialogs that answer from a script and record what they were asked. */
class ScriptedDialogs implements DesktopDialogs {
  readonly opened: OpenDialogRequest[] = [];
  readonly saved: SaveDialogRequest[] = [];
  next: { canceled: boolean; path?: string } = { canceled: true };
  async showOpenDialog(options: OpenDialogRequest) {
    this.opened.push(options);
    return { canceled: this.next.canceled, filePaths: this.next.path ? [this.next.path] : [] };
  }
  async showSaveDialog(options: SaveDialogRequest) {
    this.saved.push(options);
    return { canceled: this.next.canceled, filePath: this.next.path };
  }
  defaultSaveDir() {
    return join(dir, 'Downloads');
  }
}

const dialogs = new ScriptedDialogs();
const desktop = createDesktopApi(() => workbench, dialogs);
const ipc = (method: string, payload: unknown) =>
  handleIpcCall(workbench, method, JSON.parse(JSON.stringify(payload ?? {})), desktop);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vaewb-desktop-api-'));
  workbench = await Workbench.open({ db: join(dir, 'data'), runQueue: true, concurrency: 1 });
  const created = await workbench.createRun({ config: tinyConfig({ epochs: 1 }), name: 'to export' });
  run = await workbench.waitForRun(created.id);
});

afterAll(async () => {
  await workbench?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('appInfo over IPC', () => {
  it('says the desktop window is the electron transport (the service alone says http)', async () => {
    const reply = await ipc('appInfo', {});
    expect(reply.ok).toBe(true);
    expect((reply as { result: AppInfo }).result.transport).toBe('electron');
    expect((await workbench.appInfo()).transport).toBe('http');
    const info = await electronTransport({ call: ipc, subscribe: () => () => undefined }).call('appInfo', {});
    expect(info).toMatchObject({ transport: 'electron', dataDir: join(dir, 'data') });
  });
});

describe('exportRunWithDialog', () => {
  it('exports into the .zip the save dialog chose, adding the extension', async () => {
    expect(run.status).toBe('completed');
    dialogs.next = { canceled: false, path: join(dir, 'mine') };
    const reply = await ipc('exportRunWithDialog', { runId: run.id, format: 'zip', checkpoint: 'latest' });
    expect(reply).toMatchObject({ ok: true });
    const outcome = (reply as { result: DesktopResponseMap['exportRunWithDialog'] }).result;
    expect(outcome.canceled).toBe(false);
    if (outcome.canceled) return;
    expect(outcome.path).toBe(join(dir, 'mine.zip'));
    expect(outcome.result.path).toBe(join(dir, 'mine.zip'));
    expect(outcome.result.runId).toBe(run.id);
    expect(statSync(join(dir, 'mine.zip')).size).toBe(outcome.result.bytes);
    expect(readFileSync(join(dir, 'mine.zip')).subarray(0, 2).toString()).toBe('PK');
    // The dialog started in Downloads with the run's file name, and asked before replacing.
    expect(dialogs.saved.at(-1)).toMatchObject({
      defaultPath: join(dir, 'Downloads', `vae-workbench-${run.id}.zip`),
      properties: ['createDirectory', 'showOverwriteConfirmation'],
    });
  });

  it('replaces a file the user agreed to overwrite, leaving no temporary file behind', async () => {
    const target = join(dir, 'replace', 'old.zip');
    mkdirSync(join(dir, 'replace'));
    writeFileSync(target, 'an older bundle');
    dialogs.next = { canceled: false, path: target };
    const reply = await ipc('exportRunWithDialog', { runId: run.id, format: 'zip' });
    expect(reply.ok).toBe(true);
    expect(readFileSync(target).subarray(0, 2).toString()).toBe('PK');
    expect(readdirSync(join(dir, 'replace'))).toEqual(['old.zip']);
  });

  it('exports into the folder the picker chose', async () => {
    const folder = join(dir, 'as-folder');
    dialogs.next = { canceled: false, path: folder };
    const reply = await ipc('exportRunWithDialog', { runId: run.id, format: 'folder' });
    expect(reply.ok).toBe(true);
    expect(dialogs.opened.at(-1)?.properties).toEqual(['openDirectory', 'createDirectory']);
    expect(readdirSync(folder)).toEqual(expect.arrayContaining(['manifest.json', 'checkpoint.safetensors']));
  });

  it('a cancelled dialog writes nothing and answers canceled', async () => {
    const before = readdirSync(dir).sort();
    dialogs.next = { canceled: true };
    expect(await ipc('exportRunWithDialog', { runId: run.id, format: 'zip' })).toEqual({
      ok: true,
      result: { canceled: true },
    });
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('a refused export removes its temporary file and keeps the old one', async () => {
    const target = join(dir, 'replace', 'old.zip');
    const old = readFileSync(target);
    dialogs.next = { canceled: false, path: target };
    const reply = await ipc('exportRunWithDialog', { runId: 'nosuchrun', format: 'zip' });
    expect(reply.ok).toBe(false);
    expect(readdirSync(join(dir, 'replace'))).toEqual(['old.zip']);
    expect(readFileSync(target).equals(old)).toBe(true);
  });

  it('validates the request against its schema before any dialog opens', async () => {
    const asked = dialogs.saved.length + dialogs.opened.length;
    const reply = await ipc('exportRunWithDialog', { runId: run.id, format: 'tar' });
    expect(reply).toMatchObject({ ok: false, error: { field: 'format' } });
    const extra = await ipc('exportRunWithDialog', { runId: run.id, format: 'zip', out: '/etc/x.zip' });
    expect(extra.ok).toBe(false);
    expect(dialogs.saved.length + dialogs.opened.length).toBe(asked);
  });
});

describe('importBundleWithDialog', () => {
  it('imports the .zip the open dialog chose, as a new run', async () => {
    dialogs.next = { canceled: false, path: join(dir, 'mine.zip') };
    const reply = await ipc('importBundleWithDialog', { format: 'zip' });
    expect(reply.ok).toBe(true);
    const outcome = (reply as { result: DesktopResponseMap['importBundleWithDialog'] }).result;
    if (outcome.canceled) throw new Error('expected an import');
    expect(outcome.path).toBe(join(dir, 'mine.zip'));
    expect(outcome.result.sourceRunId).toBe(run.id);
    expect(outcome.result.run.id).not.toBe(run.id);
    expect(outcome.result.metricPoints).toBeGreaterThan(0);
    expect(dialogs.opened.at(-1)).toMatchObject({
      properties: ['openFile'],
      filters: [{ name: 'Run bundle', extensions: ['zip'] }],
    });
    expect((await workbench.listRuns()).map((r) => r.id)).toContain(outcome.result.run.id);
  });

  it('imports a folder, and a cancel imports nothing', async () => {
    const count = (await workbench.listRuns()).length;
    dialogs.next = { canceled: true };
    expect(await ipc('importBundleWithDialog', { format: 'folder' })).toEqual({ ok: true, result: { canceled: true } });
    expect((await workbench.listRuns()).length).toBe(count);
    dialogs.next = { canceled: false, path: join(dir, 'as-folder') };
    const reply = await ipc('importBundleWithDialog', { format: 'folder' });
    expect(reply.ok).toBe(true);
    expect(dialogs.opened.at(-1)?.properties).toEqual(['openDirectory']);
    expect((await workbench.listRuns()).length).toBe(count + 1);
  });
});

describe('importDatasetWithDialog', () => {
  it('imports the data file the open dialog chose as dataset:<id>, tells the views, and a cancel imports nothing', async () => {
    const images = Uint8Array.from({ length: 12 * 4 * 5 }, (_, i) => (i * 37) % 256);
    const file = join(dir, 'tiny-images-idx3-ubyte');
    writeFileSync(file, encodeIdx([12, 4, 5], images));
    const events: WorkbenchEvent[] = [];
    const unsubscribe = workbench.subscribe((event) => events.push(event));
    try {
      dialogs.next = { canceled: true };
      expect(await ipc('importDatasetWithDialog', {})).toEqual({ ok: true, result: { canceled: true } });
      expect(await workbench.listDatasets({})).toEqual([]);

      dialogs.next = { canceled: false, path: file };
      const reply = await ipc('importDatasetWithDialog', { name: 'tiny digits' });
      expect(reply.ok).toBe(true);
      const outcome = (reply as { result: DesktopResponseMap['importDatasetWithDialog'] }).result;
      if (outcome.canceled) throw new Error('expected an import');
      const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
      expect(outcome).toMatchObject({
        path: file,
        result: { name: 'tiny digits', format: 'idx', count: 12, height: 4, width: 5, channels: 1, sha256 },
      });
      expect(outcome.result.ref).toBe(`dataset:ds-${sha256.slice(0, 12)}`);
      expect(dialogs.opened.at(-1)).toMatchObject({ title: 'Import a data set', properties: ['openFile'] });
      expect(await workbench.listDatasets({})).toEqual([outcome.result]);
      expect(events).toContainEqual({ type: 'dataset', dataset: outcome.result });
    } finally {
      unsubscribe();
    }
  });

  it('a file that is no data set is refused with its name, and nothing is recorded', async () => {
    const count = (await workbench.listDatasets({})).length;
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'not pixels at all');
    dialogs.next = { canceled: false, path: file };
    const reply = await ipc('importDatasetWithDialog', {});
    expect(reply).toMatchObject({ ok: false, error: { message: expect.stringContaining('notes.txt') } });
    expect((await workbench.listDatasets({})).length).toBe(count);
  });
});

describe("the desktop methods are the desktop window's only", () => {
  it('without desktop handlers (a plain dispatch) they are refused, and workbench methods never reach them', async () => {
    const reply = await handleIpcCall(workbench, 'importBundleWithDialog', { format: 'zip' });
    expect(reply).toMatchObject({ ok: false, error: { message: expect.stringContaining('desktop window') } });
    await expect(workbench.dispatch('exportRunWithDialog', { runId: run.id, format: 'zip' })).rejects.toThrow(
      /Unknown API method/,
    );
    expect(withZipExtension('/a/b.ZIP')).toBe('/a/b.ZIP');
    expect(withZipExtension('/a/b')).toBe('/a/b.zip');
  });
});
