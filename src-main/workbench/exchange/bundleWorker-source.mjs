// Development entry of the bundle worker: runs bundleWorker.ts through tsx inside the thread (tests,
// the CLI from a checkout). The built app uses out/main/bundleWorker.js instead.
import { tsImport } from 'tsx/esm/api';

await tsImport('./bundleWorker.ts', import.meta.url);
