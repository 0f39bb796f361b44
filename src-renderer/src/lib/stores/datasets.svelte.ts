// The data sets the new-run form offers (issue #13): the built-ins, and those imported into the
// data folder, by id. Importing one is an upload in browser mode (/upload/dataset) and a native
// open dialog in the Electron window (main copies what the person chose); neither names a path on
// the machine. An import from anywhere (the File menu, another tab) arrives as a 'dataset' event.
import type { DatasetInfo, WorkbenchEvent } from '@api/contract';
import { uploadDataset } from '../transfer';
import type { Transport } from '../transport';

export type DatasetImportState =
  | { status: 'idle' }
  | { status: 'importing'; fileName: string }
  | { status: 'done'; fileName: string; dataset: DatasetInfo }
  | { status: 'error'; fileName: string; message: string };

const message = (error: unknown) => (error instanceof Error ? error.message : String(error));

export class DatasetsStore {
  /** Imported data sets, oldest first (as listDatasets gives them). */
  list = $state.raw<DatasetInfo[]>([]);
  loadError = $state<string | null>(null);
  importState = $state.raw<DatasetImportState>({ status: 'idle' });

  constructor(
    readonly transport: Transport,
    private readonly upload: (file: Blob & { name?: string }) => Promise<DatasetInfo> = (file) => uploadDataset(file),
  ) {}

  /** Browser mode uploads a chosen file. */
  get canUpload(): boolean {
    return this.transport.kind === 'http';
  }

  /** The Electron window asks main for an open dialog instead. */
  get nativeDialog(): boolean {
    return this.transport.desktop !== undefined;
  }

  get busy(): boolean {
    return this.importState.status === 'importing';
  }

  byRef(ref: string): DatasetInfo | undefined {
    return this.list.find((d) => d.ref === ref);
  }

  async load(): Promise<void> {
    try {
      const listed = await this.transport.call('listDatasets', {});
      // Events that came while the list was in flight stay.
      const known = new Set(listed.map((d) => d.id));
      this.list = [...listed, ...this.list.filter((d) => !known.has(d.id))];
      this.loadError = null;
    } catch (error) {
      this.loadError = `Could not list the imported data sets: ${message(error)}`;
    }
  }

  handleEvent(event: WorkbenchEvent): void {
    if (event.type === 'dataset') this.#add(event.dataset);
  }

  #add(dataset: DatasetInfo): void {
    // The same bytes imported twice give the same record: replace it, never list it twice.
    const at = this.list.findIndex((d) => d.id === dataset.id);
    this.list = at < 0 ? [...this.list, dataset] : this.list.map((d, i) => (i === at ? dataset : d));
  }

  /** Browser mode: uploads the file; resolves to the imported data set, or null (the error is in importState). */
  async importFile(file: Blob & { name?: string }): Promise<DatasetInfo | null> {
    const fileName = file.name ?? 'data file';
    this.importState = { status: 'importing', fileName };
    try {
      const dataset = await this.upload(file);
      this.#add(dataset);
      this.importState = { status: 'done', fileName, dataset };
      return dataset;
    } catch (error) {
      this.importState = { status: 'error', fileName, message: message(error) };
      return null;
    }
  }

  /** The Electron window: main shows the open dialog and imports what was chosen; a cancel changes nothing. */
  async importWithDialog(): Promise<DatasetInfo | null> {
    const desktop = this.transport.desktop;
    if (!desktop || this.busy) return null;
    this.importState = { status: 'importing', fileName: 'the chosen file' };
    try {
      const outcome = await desktop.call('importDatasetWithDialog', {});
      if (outcome.canceled) {
        this.importState = { status: 'idle' };
        return null;
      }
      const fileName = outcome.path.split(/[\\/]/).filter(Boolean).pop() ?? outcome.path;
      this.#add(outcome.result);
      this.importState = { status: 'done', fileName, dataset: outcome.result };
      return outcome.result;
    } catch (error) {
      this.importState = { status: 'error', fileName: 'data file', message: message(error) };
      return null;
    }
  }
}

/** An image's shape as the picker writes it: '28x28', or '32x32x3' with colour channels. */
export function datasetShape(d: Pick<DatasetInfo, 'height' | 'width' | 'channels'>): string {
  return `${d.height}x${d.width}${d.channels > 1 ? `x${d.channels}` : ''}`;
}

/** "digits (ds-0123456789ab): 12,000 images, 28x28, sha256 3f2a9c1e…" for the picker. */
export function datasetLabel(d: DatasetInfo): string {
  return `${d.name} (${d.id}): ${d.count.toLocaleString('en-US')} images, ${datasetShape(d)}, sha256 ${d.sha256.slice(0, 8)}…`;
}
