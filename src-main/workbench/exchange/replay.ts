// Replay: the same config (and so the same seed) trained again, linked to the original by
// replay_of; and the comparison of two runs metric by metric.
import { createRequire } from 'node:module';
import type { Run } from '../../store';
import type { ReplayPlan } from '../../api/contract';
import type { BackendPreference } from '../../training/backend';
import { blasCoreName, loadSgemmAddon } from '../../training/accelerate/addon';
import { bundleThread } from './bundleThread';
import { describeAdapter, findAdapter, prepareWebGpuEnvironment } from '../../training/webgpu';

/** Predicts the backend the training chain will pick here for a preference (it cannot be sure without loading tfjs-node in a worker). */
export function expectedBackend(preference: BackendPreference): string {
  if (preference === 'wasm') return `wasm+${expectedWasmAccelerator()}`;
  if (preference !== 'auto') return preference;
  const require = createRequire(import.meta.url);
  const chain = [
    ['@tensorflow/tfjs-node', 'tensorflow'],
    ['@tensorflow/tfjs-backend-wasm', 'wasm'],
  ] as const;
  for (const [module, name] of chain) {
    try {
      require.resolve(module);
      return name === 'wasm' ? `wasm+${expectedWasmAccelerator()}` : name;
    } catch {
      // not installed: the chain skips it
    }
  }
  return 'cpu';
}

/** The wasm matmul kernels a worker will install (as the trainer records them in the run's backend). */
function expectedWasmAccelerator(): string {
  const forced = process.env.VAE_WORKBENCH_ACCELERATOR;
  if (forced && forced !== 'auto' && forced !== 'native-sgemm') return forced;
  const { addon } = loadSgemmAddon();
  if (!addon) return forced === 'native-sgemm' ? 'native-sgemm' : 'wasm-transpose-fast-path';
  // The BLAS kernel family joins the name, as the trainer records it (training/trainer.ts describeBackend).
  const core = blasCoreName(addon);
  return core ? `native-sgemm(${core})` : 'native-sgemm';
}

/**
 * The webgpu backend as a run here would record it, adapter included: Dawn is asked for its adapter
 * (it is not tfjs; no model is built), so a replay on another GPU warns before it starts.
 */
async function expectedWebgpuBackend(): Promise<string> {
  prepareWebGpuEnvironment();
  const found = await findAdapter();
  return 'adapter' in found
    ? `webgpu(${describeAdapter(found.adapter)})`
    : `webgpu, unavailable here (${found.failure})`;
}

/** What a replay of `run` will differ in; loads the data set (no tfjs) to compare its hash. */
export async function planReplay(
  run: Run,
  backendOverride?: BackendPreference,
  datasetsDir?: string,
): Promise<ReplayPlan> {
  const warnings: string[] = [];
  let backend = expectedBackend(backendOverride ?? run.config.train.backend);
  if (backend === 'webgpu') backend = await expectedWebgpuBackend();
  let datasetHash: string | null = null;
  try {
    // loaded and hashed off the main thread
    datasetHash = await bundleThread.call('datasetHash', run.config, datasetsDir);
  } catch (error) {
    warnings.push(
      `Data set ${run.config.data.dataset} cannot be loaded here (${(error as Error).message}); the replay will fail.`,
    );
  }
  if (run.backend && run.backend !== backend) {
    warnings.push(
      `Backend differs: the original trained on '${run.backend}', this replay will use '${backend}'; curves will be close but not bit-identical.`,
    );
  }
  if (!run.backend)
    warnings.push(`The original run recorded no backend (it never started); nothing to compare the replay with.`);
  if (run.datasetHash && datasetHash && run.datasetHash !== datasetHash) {
    warnings.push(
      `Data set hash differs: the original trained on ${run.config.data.dataset} with sha256 ${run.datasetHash.slice(0, 12)}…, ` +
        `here it loads as ${datasetHash.slice(0, 12)}…; the replay trains on different data.`,
    );
  }
  return {
    runId: run.id,
    original: { backend: run.backend, datasetHash: run.datasetHash },
    expected: { backend, datasetHash },
    warnings,
  };
}

export { compareRuns, TIMING_METRICS } from './compare';
