// The desktop shell's own methods (contract.ts, desktopRequestSchemas): a native dialog, then the
// workbench method with the path the user chose. The renderer asks for them through the preload
// bridge; the File menu uses the same functions. Electron's dialogs are handed in (main.ts), so
// this module imports no Electron and the tests drive it under Node with scripted dialogs.
import { existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DatasetInfo, DesktopApi, ExportResult, ImportResult } from '../api/contract';
import type { Workbench } from '../workbench/service';

/** The subset of Electron's dialog options this module uses (Electron.OpenDialogOptions et al.). */
export interface OpenDialogRequest {
  title: string;
  properties: ('openFile' | 'openDirectory' | 'createDirectory')[];
  filters?: { name: string; extensions: string[] }[];
}
export interface SaveDialogRequest {
  title: string;
  defaultPath: string;
  filters: { name: string; extensions: string[] }[];
  properties: ('createDirectory' | 'showOverwriteConfirmation')[];
}

export interface DesktopDialogs {
  showOpenDialog(options: OpenDialogRequest): Promise<{ canceled: boolean; filePaths: string[] }>;
  showSaveDialog(options: SaveDialogRequest): Promise<{ canceled: boolean; filePath?: string }>;
  /** Where a save dialog starts (the user's Downloads folder). */
  defaultSaveDir(): string;
}

/** A chosen save path with the .zip extension the bundle needs. */
export function withZipExtension(path: string): string {
  return path.toLowerCase().endsWith('.zip') ? path : `${path}.zip`;
}

export function createDesktopApi(
  workbench: () => Pick<Workbench, 'dispatch'> | null,
  dialogs: DesktopDialogs,
): DesktopApi {
  const service = (): Pick<Workbench, 'dispatch'> => {
    const current = workbench();
    if (!current) throw new Error('The workbench is closing');
    return current;
  };
  return {
    async exportRunWithDialog({ runId, checkpoint, format }) {
      let out: string;
      if (format === 'zip') {
        const saved = await dialogs.showSaveDialog({
          title: 'Export run bundle',
          defaultPath: join(dialogs.defaultSaveDir(), `vae-workbench-${runId}.zip`),
          filters: [{ name: 'Run bundle', extensions: ['zip'] }],
          properties: ['createDirectory', 'showOverwriteConfirmation'],
        });
        if (saved.canceled || !saved.filePath) return { canceled: true };
        out = withZipExtension(saved.filePath);
      } else {
        const picked = await dialogs.showOpenDialog({
          title: 'Export run bundle into an empty folder',
          properties: ['openDirectory', 'createDirectory'],
        });
        if (picked.canceled || picked.filePaths.length === 0) return { canceled: true };
        out = picked.filePaths[0];
      }
      // The save dialog already asked about replacing a file; exportRun refuses existing paths,
      // so write beside it and move it over the old one once the bundle is complete.
      const replacing = format === 'zip' && existsSync(out);
      const target = replacing ? join(dirname(out), `.vae-workbench-export-${process.pid}-${Date.now()}.zip`) : out;
      let result: ExportResult;
      try {
        result = (await service().dispatch('exportRun', { runId, checkpoint, out: target })) as ExportResult;
      } catch (error) {
        if (replacing) rmSync(target, { force: true });
        throw error;
      }
      if (replacing) {
        rmSync(out, { force: true });
        renameSync(target, out);
      }
      return { canceled: false, path: out, result: { ...result, path: out } };
    },

    async importBundleWithDialog({ format }) {
      const picked = await dialogs.showOpenDialog(
        format === 'zip'
          ? {
              title: 'Import a run bundle',
              properties: ['openFile'],
              filters: [{ name: 'Run bundle', extensions: ['zip'] }],
            }
          : { title: 'Import a run bundle folder', properties: ['openDirectory'] },
      );
      if (picked.canceled || picked.filePaths.length === 0) return { canceled: true };
      const path = picked.filePaths[0];
      // Every hash is verified before anything is written; the new run reaches every view as an event.
      const result = (await service().dispatch('importBundle', { path })) as ImportResult;
      return { canceled: false, path, result };
    },

    async importDatasetWithDialog({ name }) {
      const picked = await dialogs.showOpenDialog({
        title: 'Import a data set',
        properties: ['openFile'],
        filters: [
          { name: 'IDX or .npy data file', extensions: ['gz', 'npy', 'idx', 'idx3-ubyte', 'ubyte'] },
          { name: 'All files', extensions: ['*'] },
        ],
      });
      if (picked.canceled || picked.filePaths.length === 0) return { canceled: true };
      const path = picked.filePaths[0];
      // Copied into the data folder, decoded in full and hashed; runs then name it 'dataset:<id>'.
      const result = (await service().dispatch('importDataset', { path, name })) as DatasetInfo;
      return { canceled: false, path, result };
    },
  };
}
