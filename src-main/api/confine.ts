// What a remote shell may ask for (issue #13). Browser mode is a web API and the app's window runs
// web content: neither names paths on the machine. Bundles go in by upload (/upload/import) and out
// by download (/download/export/<runId>.zip), or in Electron through the native dialog, whose path
// the person chose; data sets are the built-ins or ones imported into the data folder, by id. The
// CLI keeps taking paths: it runs as its user and calls the service directly.
import { ApiError, type RunSummary } from './contract';
import { isConfinedDatasetRef } from './datasetRef';

/** Methods whose requests carry a path on the machine: only trusted shells call them. */
export const PATH_METHODS: Readonly<Record<string, string>> = {
  exportRun: 'download the bundle from /download/export/<runId>.zip (File › Export in the desktop app)',
  importBundle: 'upload the bundle .zip to /upload/import (File › Import in the desktop app)',
  importDataset: 'upload the data file to /upload/dataset (or run `vae-workbench import-dataset FILE`)',
};

/** Methods that train or load a stored run's data set: that data set must not be a path either. */
const RUN_DATA_METHODS = new Set([
  'duplicateRun',
  'replayRun',
  'planReplay',
  'resumeRun',
  'interpolateLatent',
  'getTestImage',
]);

function refuseDataset(dataset: unknown, field: string): void {
  if (typeof dataset === 'string' && !isConfinedDatasetRef(dataset)) {
    throw new ApiError(
      403,
      `${field}: '${dataset.slice(0, 200)}' is a path on the machine; here a data set is mnist, fashion-mnist, shapes, or one imported into the data folder ('dataset:<id>', see listDatasets)`,
      field,
    );
  }
}

/** Methods whose payload carries a run config (and so a data set). */
const RUN_CREATING_METHODS = new Set(['createRun', 'createSweep', 'createGridSweep']);

/**
 * Refuses, before dispatch, a remote request that would make the server read or write a path of
 * its own choosing. `getRun` answers for runs named by a request (their stored config's data set).
 */
export async function confineRequest(
  method: string,
  payload: unknown,
  getRun: (runId: string) => Promise<Pick<RunSummary, 'config'>>,
): Promise<void> {
  const hint = PATH_METHODS[method];
  if (hint) throw new ApiError(403, `${method} takes a path on the machine and is not offered here: ${hint}`);
  const body = (payload ?? {}) as {
    config?: { data?: { dataset?: unknown } };
    runId?: unknown;
    grid?: { param?: unknown; values?: unknown }[];
  };
  if (RUN_CREATING_METHODS.has(method)) {
    refuseDataset(body.config?.data?.dataset, 'config.data.dataset');
    // A grid sweep may vary the data set itself: each of its values is a data set too.
    for (const [i, axis] of (Array.isArray(body.grid) ? body.grid : []).entries())
      if (axis?.param === 'data.dataset' && Array.isArray(axis.values))
        for (const value of axis.values) refuseDataset(value, `grid.${i}.values`);
  }
  if (RUN_DATA_METHODS.has(method) && typeof body.runId === 'string') {
    let run: Pick<RunSummary, 'config'>;
    try {
      run = await getRun(body.runId);
    } catch {
      return; // an unknown run: the method itself answers 404
    }
    refuseDataset(run.config.data.dataset, `the data set of run ${body.runId}`);
  }
}
