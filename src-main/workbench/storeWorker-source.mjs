// Development entry of the store worker: runs storeWorker.ts through tsx inside the thread (tests,
// the CLI from a checkout). The built app uses out/main/storeWorker.js instead.
import { tsImport } from 'tsx/esm/api';

await tsImport('./storeWorker.ts', import.meta.url);
