// Image grids (samples, reconstructions, latent traversals) per run: metadata lists loaded once
// per run and kept live from `image` events; PNG data URLs fetched on demand and cached by id.
import type { ImageKind, ImageMeta, WorkbenchEvent } from '@api/contract';
import type { Transport } from '../transport';

export class ImagesStore {
  /** Bumped when any run's image list changes. */
  version = $state(0);
  /** Bumped when a data URL arrives. */
  urlVersion = $state(0);

  #metas = new Map<string, ImageMeta[]>();
  #loading = new Map<string, Promise<void>>();
  #errors = new Map<string, string>();
  #urls = new Map<number, string>();
  #urlRequests = new Map<number, Promise<string | null>>();

  constructor(readonly transport: Transport) {}

  /** Loads the image lists of runs not loaded yet (in parallel). */
  async ensureRuns(runIds: readonly string[]): Promise<void> {
    await Promise.all(runIds.map((id) => this.#ensureRun(id)));
  }

  #ensureRun(runId: string): Promise<void> {
    if (this.#metas.has(runId)) return Promise.resolve();
    let pending = this.#loading.get(runId);
    if (!pending) {
      pending = this.transport
        .call('listImages', { runId })
        .then((list) => {
          // Images pushed while the list was on its way are merged, not lost.
          const merged = new Map(list.map((m) => [m.id, m]));
          for (const m of this.#metas.get(runId) ?? []) merged.set(m.id, m);
          this.#metas.set(runId, sortImages([...merged.values()]));
          this.#errors.delete(runId);
        })
        .catch((error: Error) => {
          this.#errors.set(runId, error.message);
        })
        .finally(() => {
          this.#loading.delete(runId);
          this.version++;
        });
      this.#loading.set(runId, pending);
    }
    return pending;
  }

  isLoading(runId: string): boolean {
    void this.version;
    return this.#loading.has(runId);
  }

  errorOf(runId: string): string | null {
    void this.version;
    return this.#errors.get(runId) ?? null;
  }

  /** Images of a run of one kind, oldest first. */
  list(runId: string, kind: ImageKind): ImageMeta[] {
    void this.version;
    return (this.#metas.get(runId) ?? []).filter((m) => m.kind === kind);
  }

  /** Sorted union of the epochs that have an image of this kind in any of the runs. */
  epochs(runIds: readonly string[], kind: ImageKind): number[] {
    void this.version;
    const set = new Set<number>();
    for (const id of runIds) for (const m of this.#metas.get(id) ?? []) if (m.kind === kind) set.add(m.epoch);
    return [...set].sort((a, b) => a - b);
  }

  /** The run's image of this kind at `epoch`, or its latest one before it (runs log at different epochs). */
  at(runId: string, kind: ImageKind, epoch: number): ImageMeta | null {
    let best: ImageMeta | null = null;
    for (const m of this.list(runId, kind)) {
      if (m.epoch > epoch) break;
      best = m;
    }
    return best;
  }

  /** The cached data URL of an image, tracked by `urlVersion`; call load() to fetch it. */
  url(imageId: number): string | null {
    void this.urlVersion;
    return this.#urls.get(imageId) ?? null;
  }

  /** Fetches an image's data URL once; concurrent callers share the request. */
  load(imageId: number): Promise<string | null> {
    const cached = this.#urls.get(imageId);
    if (cached) return Promise.resolve(cached);
    let pending = this.#urlRequests.get(imageId);
    if (!pending) {
      pending = this.transport
        .call('getImage', { imageId })
        .then(({ dataUrl }) => {
          this.#urls.set(imageId, dataUrl);
          this.urlVersion++;
          return dataUrl;
        })
        .catch(() => null)
        .finally(() => this.#urlRequests.delete(imageId));
      this.#urlRequests.set(imageId, pending);
    }
    return pending;
  }

  handleEvent(event: WorkbenchEvent): void {
    if (event.type === 'image') this.add(event.image);
    else if (event.type === 'run-deleted') this.drop(event.runId);
  }

  /** A new image: kept when its run's list is loaded or loading, ignored otherwise (fetched on demand). */
  add(image: ImageMeta): void {
    const list = this.#metas.get(image.runId);
    if (list) {
      if (list.some((m) => m.id === image.id)) return;
      this.#metas.set(image.runId, sortImages([...list, image]));
    } else if (this.#loading.has(image.runId)) {
      this.#metas.set(image.runId, [image]);
    } else {
      return;
    }
    this.version++;
  }

  drop(runId: string): void {
    const list = this.#metas.get(runId);
    if (!list) return;
    for (const m of list) this.#urls.delete(m.id);
    this.#metas.delete(runId);
    this.version++;
  }
}

function sortImages(list: ImageMeta[]): ImageMeta[] {
  return list.sort((a, b) => a.epoch - b.epoch || a.step - b.step || a.id - b.id);
}
