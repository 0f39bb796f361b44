// Metric series for the compare view, cached per (run, metric). The server downsamples each
// series to at most `maxBuckets` buckets; live points are appended in place as one-point buckets
// so curves grow while a run trains, and a series whose appended tail grows long is refetched
// (throttled) so it goes back to server-side buckets. Buckets live outside Svelte's proxies
// (large arrays); `version` is the one signal readers depend on.
import type { MetricPoint, SeriesBucket, WorkbenchEvent } from '@api/contract';
import { ACTIVE_STATUSES } from '../apiConstants';
import type { Transport } from '../transport';

export interface SeriesEntry {
  readonly runId: string;
  readonly metric: string;
  /** Sorted by step; server buckets followed by live one-point buckets. */
  buckets: SeriesBucket[];
  /** Bumped on every change of `buckets`, for memoised derivations. */
  rev: number;
  state: 'loading' | 'ready' | 'error';
  error: string | null;
  /** Live points appended since the last fetch. */
  appended: number;
  /** maxBuckets of the last fetch. */
  resolution: number;
  /** Every fetched bucket holds one point: no finer resolution exists. */
  complete: boolean;
}

export interface SeriesStoreOptions {
  maxBuckets?: number;
  /** Minimum time between two refetches of grown series. */
  refetchMs?: number;
}

/** getSeries accepts at most this many runs per request. */
const MAX_RUNS_PER_REQUEST = 200;

const key = (runId: string, metric: string) => `${runId}\u0000${metric}`;

const numericOrder = new Intl.Collator('en', { numeric: true });

/** train/* first, then test/*, then the rest; per-dimension names in numeric order. */
export function sortMetricNames(names: Iterable<string>): string[] {
  const rank = (n: string) => (n.startsWith('train/') ? 0 : n.startsWith('test/') ? 1 : 2);
  return [...new Set(names)].sort((a, b) => rank(a) - rank(b) || numericOrder.compare(a, b));
}

export class SeriesStore {
  /** Bumped whenever any cached series changes. */
  version = $state(0);
  /** Union of the metric names of the runs last passed to loadMetricNames. */
  metricNames = $state.raw<string[]>([]);
  namesError = $state<string | null>(null);

  readonly maxBuckets: number;
  readonly refetchMs: number;
  #entries = new Map<string, SeriesEntry>();
  #namesFor = new Set<string>();
  #nameSet = new Set<string>();
  #namesRequest = 0;
  #dirty = new Set<string>();
  #refetchTimer: ReturnType<typeof setTimeout> | null = null;
  #lastRefetch = 0;

  constructor(
    readonly transport: Transport,
    options: SeriesStoreOptions = {},
  ) {
    this.maxBuckets = options.maxBuckets ?? 1000;
    this.refetchMs = options.refetchMs ?? 500;
  }

  /** The cached series of a run, tracked by `version`. */
  get(runId: string, metric: string): SeriesEntry | undefined {
    void this.version;
    return this.#entries.get(key(runId, metric));
  }

  /**
   * Fetches, in one request, the series of `runIds` for `metric` that are not cached yet, at
   * `maxBuckets` buckets each (at most the store's maxBuckets). A view that overlays many runs asks
   * for fewer buckets per run, which saves transfer and JSON parsing; a cached series fetched
   * coarser than asked now (and not complete) is fetched again at the finer resolution, while
   * the coarse one stays drawn.
   */
  async ensure(runIds: readonly string[], metric: string, maxBuckets = this.maxBuckets): Promise<void> {
    const want = Math.max(2, Math.min(this.maxBuckets, Math.floor(maxBuckets)));
    const missing: string[] = [];
    const coarse: string[] = [];
    for (const id of runIds) {
      const entry = this.#entries.get(key(id, metric));
      if (!entry) missing.push(id);
      else if (entry.state === 'ready' && !entry.complete && entry.resolution < want) coarse.push(id);
    }
    if (missing.length === 0 && coarse.length === 0) return;
    for (const runId of missing) {
      this.#entries.set(key(runId, metric), {
        runId,
        metric,
        buckets: [],
        rev: 0,
        state: 'loading',
        error: null,
        appended: 0,
        resolution: want,
        complete: false,
      });
    }
    // Asked for once: the effects that call ensure again meanwhile do not ask twice.
    for (const runId of coarse) this.#entries.get(key(runId, metric))!.resolution = want;
    if (missing.length > 0) this.version++;
    await this.#fetch([...missing, ...coarse], metric, want);
  }

  async #fetch(runIds: readonly string[], metric: string, maxBuckets = this.maxBuckets): Promise<void> {
    for (let i = 0; i < runIds.length; i += MAX_RUNS_PER_REQUEST) {
      const chunk = runIds.slice(i, i + MAX_RUNS_PER_REQUEST);
      try {
        const results = await this.transport.call('getSeries', { runIds: [...chunk], metric, maxBuckets });
        const byRun = new Map(results.map((r) => [r.runId, r.buckets]));
        for (const runId of chunk) this.#replace(runId, metric, byRun.get(runId) ?? [], maxBuckets);
      } catch (error) {
        for (const runId of chunk) {
          const entry = this.#entries.get(key(runId, metric));
          // A failed refetch keeps what was shown; only a first load turns into an error.
          if (entry?.state === 'loading') {
            entry.state = 'error';
            entry.error = (error as Error).message;
            entry.rev++;
          }
        }
      }
      this.version++;
    }
  }

  /** Server buckets replace the cache; live points newer than the last server bucket are kept. */
  #replace(runId: string, metric: string, fetched: SeriesBucket[], resolution: number): void {
    const entry = this.#entries.get(key(runId, metric));
    if (!entry) return; // dropped (run deleted) while the request was out
    entry.resolution = resolution;
    entry.complete = fetched.every((b) => b.count <= 1);
    const lastStep = fetched.length > 0 ? fetched[fetched.length - 1].step : -Infinity;
    let i = entry.buckets.length;
    while (i > 0 && entry.buckets[i - 1].step > lastStep) i--;
    const tail = entry.buckets.slice(i);
    entry.buckets = tail.length > 0 ? fetched.concat(tail) : fetched;
    entry.appended = tail.length;
    entry.state = 'ready';
    entry.error = null;
    entry.rev++;
  }

  /** Loads the union of metric names of these runs (the newest request wins). */
  async loadMetricNames(runIds: readonly string[]): Promise<void> {
    const request = ++this.#namesRequest;
    this.#namesFor = new Set(runIds);
    if (runIds.length === 0) {
      this.metricNames = [];
      this.#nameSet = new Set();
      return;
    }
    try {
      const names = await this.transport.call('listMetricNames', { runIds: runIds.slice(0, MAX_RUNS_PER_REQUEST) });
      if (request !== this.#namesRequest) return;
      this.metricNames = sortMetricNames(names);
      this.#nameSet = new Set(this.metricNames);
      this.namesError = null;
    } catch (error) {
      if (request === this.#namesRequest) this.namesError = (error as Error).message;
    }
  }

  handleEvent(event: WorkbenchEvent): void {
    if (event.type === 'metrics') this.append(event.runId, event.points);
    else if (event.type === 'run-deleted') this.drop(event.runId);
    else if (event.type === 'run' && !ACTIVE_STATUSES.includes(event.run.status)) this.settle(event.run.id);
  }

  /**
   * A run that stopped: its series that grew from live points are fetched once more, so the
   * curve ends on exactly what the store holds (a point whose event was missed included).
   */
  settle(runId: string): void {
    for (const entry of this.#entries.values())
      if (entry.runId === runId && entry.state === 'ready' && entry.appended > 0) this.#markDirty(entry);
  }

  /** Appends live points to every cached series of the run they belong to. */
  append(runId: string, points: readonly MetricPoint[]): void {
    let changed = false;
    let newNames: string[] | null = null;
    for (const p of points) {
      if (this.#namesFor.has(runId) && !this.#nameSet.has(p.name)) {
        this.#nameSet.add(p.name);
        (newNames ??= []).push(p.name);
      }
      const entry = this.#entries.get(key(runId, p.name));
      if (!entry || entry.state === 'error') continue;
      const last = entry.buckets[entry.buckets.length - 1];
      if (last && p.step <= last.step) continue; // already there (or a rewind that the next fetch settles)
      entry.buckets.push({
        step: p.step,
        epoch: p.epoch,
        wallTime: p.wallTime,
        min: p.value,
        max: p.value,
        last: p.value,
        mean: p.value,
        count: 1,
      });
      entry.appended++;
      entry.rev++;
      changed = true;
      if (entry.state === 'ready' && entry.appended > this.maxBuckets / 4) this.#markDirty(entry);
    }
    if (newNames) this.metricNames = sortMetricNames([...this.metricNames, ...newNames]);
    if (changed) this.version++;
  }

  drop(runId: string): void {
    let changed = false;
    for (const [k, entry] of this.#entries) {
      if (entry.runId === runId) {
        this.#entries.delete(k);
        this.#dirty.delete(k);
        changed = true;
      }
    }
    if (changed) this.version++;
  }

  /** Forgets every cached series (e.g. after a reconnect). */
  clear(): void {
    this.#entries.clear();
    this.#dirty.clear();
    this.version++;
  }

  #markDirty(entry: SeriesEntry): void {
    this.#dirty.add(key(entry.runId, entry.metric));
    if (this.#refetchTimer) return;
    const wait = Math.max(0, this.#lastRefetch + this.refetchMs - Date.now());
    this.#refetchTimer = setTimeout(() => void this.#refetchDirty(), wait);
  }

  async #refetchDirty(): Promise<void> {
    this.#refetchTimer = null;
    this.#lastRefetch = Date.now();
    const byMetric = new Map<string, string[]>();
    for (const k of this.#dirty) {
      const entry = this.#entries.get(k);
      if (!entry) continue;
      const list = byMetric.get(entry.metric);
      if (list) list.push(entry.runId);
      else byMetric.set(entry.metric, [entry.runId]);
    }
    this.#dirty.clear();
    await Promise.all([...byMetric].map(([metric, runIds]) => this.#fetch(runIds, metric)));
  }

  dispose(): void {
    if (this.#refetchTimer) clearTimeout(this.#refetchTimer);
    this.#refetchTimer = null;
  }
}
