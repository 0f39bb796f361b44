// The store on its own worker thread (storeWorker.ts), after Signal Desktop's SQL worker: the
// main thread sends {seq, method, args} and gets {seq, error, response}, so no window or HTTP
// request ever waits on SQLite. RemoteStore mirrors the Store's groups (runs, metrics, images,
// checkpoints, notes, tags) with each method asynchronous, plus the composite operations
// (store/operations.ts) that run as one transaction each. Store errors keep their type.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as storeErrors from '../store/errors';
import type { Store } from '../store';
import type { storeOperations } from '../store/operations';
import { ThreadClient } from './rpc';
import { BundleError } from './exchange/bundle';
import type { compareRuns } from './exchange/compare';
import type { importStagedRun, writeRunFiles } from './exchange/runFiles';

/** The Store methods the workbench calls, by group: the worker serves exactly these. */
export const STORE_METHODS = {
  runs: [
    'get',
    'require',
    'resolveId',
    'list',
    'summary',
    'updateStatus',
    'claimNext',
    'heartbeat',
    'markInterrupted',
    'setInfo',
    'delete',
    'recordEnd',
  ],
  metrics: ['readSeries', 'readSeriesRaw', 'listMetricNames', 'finalMetrics', 'summary'],
  images: ['add', 'list', 'get', 'atOrBefore'],
  checkpoints: ['add', 'list', 'latest', 'delete'],
  notes: ['get', 'set'],
  tags: ['add', 'remove', 'list'],
  datasets: ['add', 'get', 'list', 'bySha256'],
  workspaces: ['get', 'set'],
  latents: ['put', 'steps', 'get'],
  remote: ['claim', 'get', 'inFlight', 'beginAttempt', 'attempts', 'streamPosition', 'saveProgress', 'ingested'],
} as const;

type Group = keyof typeof STORE_METHODS;
type Remote<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
type DropStore<F> = F extends (store: Store, ...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;

export type RemoteStore = {
  [G in Group]: { [M in (typeof STORE_METHODS)[G][number]]: Remote<Store[G][M & keyof Store[G]]> };
} & {
  ops: { [K in keyof typeof storeOperations]: DropStore<(typeof storeOperations)[K]> };
  compareRuns: DropStore<typeof compareRuns>;
  writeRunFiles: DropStore<typeof writeRunFiles>;
  importStagedRun: DropStore<typeof importStagedRun>;
  /** Absolute path of the database file. */
  file: string;
  close(): Promise<void>;
};

export interface StoreThreadOptions {
  file: string;
  appVersion: string;
  nativeBinding?: string;
}

/** What the worker serves: `open`, `close`, and one entry per 'group.method', 'ops.name' and compareRuns. */
export type StoreWorkerMethods = Record<string, (...args: unknown[]) => unknown>;

/** Next to this module when bundled (out/main/storeWorker.js), else the source entry run through tsx. */
function findEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const name of ['storeWorker.js', 'storeWorker-source.mjs']) {
    const candidate = join(here, name);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`Store worker not found next to ${here} (expected storeWorker.js or storeWorker-source.mjs)`);
}

let entry: string | null = null;
const ERROR_TYPES = [
  ...Object.values(storeErrors).filter(
    (value): value is typeof storeErrors.StoreError => typeof value === 'function' && value.prototype instanceof Error,
  ),
  BundleError, // a refused import's content (exchange/runFiles.ts)
];

/** Opens the store in a new worker thread; fails with the store's own error (DatabaseTooNewError, ...). */
export async function openStoreThread(options: StoreThreadOptions): Promise<RemoteStore> {
  const client = new ThreadClient<StoreWorkerMethods>('store', () => (entry ??= findEntry()), ERROR_TYPES);
  let file: string;
  try {
    file = (await client.call('open', options)) as string;
  } catch (error) {
    await client.close();
    throw error;
  }
  const group = (name: string, methods: readonly string[]) =>
    Object.fromEntries(
      methods.map((method) => [method, (...args: unknown[]) => client.call(`${name}.${method}`, ...args)]),
    );
  const remote = Object.fromEntries(
    Object.entries(STORE_METHODS).map(([name, methods]) => [name, group(name, methods)]),
  ) as Record<Group, unknown>;
  const ops = new Proxy(
    {},
    {
      get:
        (_target, name) =>
        (...args: unknown[]) =>
          client.call(`ops.${String(name)}`, ...args),
    },
  );
  return {
    ...(remote as Pick<RemoteStore, Group>),
    ops: ops as RemoteStore['ops'],
    compareRuns: ((...args: unknown[]) => client.call('compareRuns', ...args)) as RemoteStore['compareRuns'],
    writeRunFiles: ((...args: unknown[]) => client.call('writeRunFiles', ...args)) as RemoteStore['writeRunFiles'],
    importStagedRun: ((...args: unknown[]) =>
      client.call('importStagedRun', ...args)) as RemoteStore['importStagedRun'],
    file,
    close: async () => {
      await client.call('close');
      await client.close();
    },
  };
}
