// Worker-thread entry for bench/train.ts's parallel mode: a loader in execArgv does not apply to a
// worker's entry file, so this .mjs loads train.ts through tsx itself (as training/worker-source.mjs does).
import { tsImport } from 'tsx/esm/api';

await tsImport('./train.ts', import.meta.url);
