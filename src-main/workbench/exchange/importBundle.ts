// Import: verify every hash first, check the content, then write the run, its metrics, images and
// checkpoint in one transaction. Any failure writes nothing and leaves no file behind.
import { rm } from 'node:fs/promises';
import type { BundleManifest } from './bundle';
import { bundleThread } from './bundleThread';
import type { ExchangeContext } from './common';

/** What an import wrote: the new run's id, and what the API's ImportResult reports besides the run. */
export interface ImportedBundle {
  runId: string;
  sourceRunId: string;
  manifest: BundleManifest;
  warnings: string[];
  metricPoints: number;
  images: number;
}

export async function importBundle(ctx: ExchangeContext, path: string): Promise<ImportedBundle> {
  // 1. Integrity, in the bundle worker: the bundle is unpacked into a staging folder beside the
  //    checkpoints (same file system, so the checkpoint is renamed, not copied) and every hash checked.
  const { staging, manifest } = await bundleThread.call('unpackBundle', path, ctx.checkpointsDir);
  try {
    // 2a. The checkpoint against the model its config builds (tfjs, in the bundle worker; issue #13).
    await bundleThread.call('checkStagedBundle', { path, staging, manifest, backend: ctx.backend });
    // 2b and 3. Content checked, then written all or nothing, in the store worker (runFiles.ts).
    const imported = await ctx.store.importStagedRun({ path, staging, manifest, checkpointsDir: ctx.checkpointsDir });
    return { ...imported, manifest };
  } finally {
    await rm(staging, { recursive: true, force: true }); // the staging folder always goes
  }
}
