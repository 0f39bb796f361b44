// The main thread's handle on the bundle worker (bundleWorker.ts): the same functions as bundle.ts,
// asynchronous, run in one worker thread per process. Errors arrive with their type (BundleError).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ThreadClient } from '../rpc';
import { BundleError, ExchangeError } from './bundle';
import type { bundleMethods } from './bundleWorker';

/** Next to this module when bundled (out/main/bundleWorker.js), else the source entry run through tsx. */
function findEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const name of ['bundleWorker.js', 'bundleWorker-source.mjs']) {
    const candidate = join(here, name);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`Bundle worker not found next to ${here} (expected bundleWorker.js or bundleWorker-source.mjs)`);
}

let entry: string | null = null;

export const bundleThread = new ThreadClient<typeof bundleMethods>('bundle', () => (entry ??= findEntry()), [
  BundleError,
  ExchangeError,
]);
