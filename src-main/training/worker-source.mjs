// Development entry of the training worker: runs worker.ts through tsx inside the thread (tests,
// the CLI from a checkout). The built app uses out/main/worker.js instead.
import { tsImport } from 'tsx/esm/api';

await tsImport('./worker.ts', import.meta.url);
