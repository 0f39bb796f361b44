// The store worker thread: owns the one SQLite connection of this process and answers the main
// thread's requests (storeThread.ts) with the Store's methods and its composite operations.
import { openStore, type Store } from '../store';
import { storeOperations } from '../store/operations';
import { compareRuns } from './exchange/compare';
import { importStagedRun, writeRunFiles, type StagedImport } from './exchange/runFiles';
import { serveRequests } from './rpc';
import { STORE_METHODS, type StoreThreadOptions, type StoreWorkerMethods } from './storeThread';

let store: Store | null = null;
const open = (): Store => {
  if (!store) throw new Error('The store worker has no open store');
  return store;
};

const methods: StoreWorkerMethods = {
  open: (options) => {
    const { file, appVersion, nativeBinding } = options as StoreThreadOptions;
    store = openStore(file, { appVersion, nativeBinding });
    return store.file;
  },
  close: () => {
    store?.close();
    store = null;
  },
  compareRuns: (...args) => compareRuns(open(), ...(args as [string, string])),
  writeRunFiles: (...args) => writeRunFiles(open(), ...(args as [string, string])),
  importStagedRun: (input) => importStagedRun(open(), input as StagedImport),
};
for (const [group, names] of Object.entries(STORE_METHODS)) {
  for (const name of names) {
    methods[`${group}.${name}`] = (...args) => {
      const target = open()[group as keyof typeof STORE_METHODS] as unknown as Record<
        string,
        (...a: unknown[]) => unknown
      >;
      return target[name](...args);
    };
  }
}
for (const [name, operation] of Object.entries(storeOperations)) {
  methods[`ops.${name}`] = (...args) => (operation as (store: Store, ...a: unknown[]) => unknown)(open(), ...args);
}

serveRequests(methods);
