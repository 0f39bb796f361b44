// Runs training jobs in worker threads, one thread per run. The queue itself (which run goes
// next, the concurrency limit) lives in the workbench service; this only starts, signals and
// watches workers.
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareSgemmBlas } from './accelerate/addon';
import { CONTROL, type FinishStatus, type TrainerEvent, type TrainJob } from './events';
import { prepareWebGpuEnvironment } from './webgpu';

export interface RunningJob {
  runId: string;
  cancel(): void;
  pause(): void;
  /** Resolves with how the run ended; a worker that dies without a word resolves 'failed'. */
  done: Promise<{ status: FinishStatus; error: string | null }>;
}

/**
 * Where the worker's code is: next to this module when bundled (out/main/worker.js), or the
 * TypeScript source run through tsx (tests, the CLI from a checkout).
 */
function findWorkerEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const built = join(here, 'worker.js');
  if (existsSync(built)) return built;
  // A loader given in execArgv does not apply to the worker's entry file, so the source entry is a
  // small .mjs that loads worker.ts through tsx itself.
  const source = join(here, 'worker-source.mjs');
  if (existsSync(source)) return source;
  throw new Error(`Training worker not found next to ${here} (expected worker.js or worker-source.mjs)`);
}

/** Looked up once per process, on the first run. */
let workerEntry: string | null = null;

export function startJob(job: TrainJob, onEvent: (event: TrainerEvent) => void): RunningJob {
  const control = new SharedArrayBuffer(4);
  const flag = new Int32Array(control);
  workerEntry ??= findWorkerEntry();
  // OpenBLAS reads OPENBLAS_CORETYPE from the C environment when a worker first loads it; only the
  // main thread can set that (accelerate/blasCore.ts), so the choice is made here, once.
  prepareSgemmBlas();
  // The Vulkan loader reads VK_ICD_FILENAMES from the C environment, which only the main thread sets.
  prepareWebGpuEnvironment();
  const worker = new Worker(workerEntry, { workerData: { job, control } });
  let finish: { status: FinishStatus; error: string | null } | null = null;
  const done = new Promise<{ status: FinishStatus; error: string | null }>((resolve) => {
    worker.on('message', (event: TrainerEvent) => {
      if (event.type === 'finished') finish = { status: event.status, error: event.error };
      onEvent(event);
    });
    worker.on('error', (error) => {
      finish ??= { status: 'failed', error: `Training worker crashed: ${error.message}` };
    });
    worker.on('exit', (code) => {
      resolve(finish ?? { status: 'failed', error: `Training worker exited with code ${code} before finishing` });
    });
  });
  return {
    runId: job.runId,
    cancel: () => Atomics.store(flag, 0, CONTROL.cancel),
    pause: () => Atomics.store(flag, 0, CONTROL.pause),
    done,
  };
}
