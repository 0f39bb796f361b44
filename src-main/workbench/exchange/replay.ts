// Replay: the same config (and so the same seed) trained again, linked to the original by
// replay_of; and the comparison of two runs metric by metric.
import { createRequire } from 'node:module';
import type { Run, Store } from '../../store';
import type { MetricDifference, ReplayPlan, RunComparison } from '../../api/contract';
import type { BackendPreference } from '../../training/backend';
import { blasCoreName, loadSgemmAddon } from '../../training/accelerate/addon';
import { loadRunDataset } from '../../training/runData';

/** Metrics that measure the machine, not the model: never equal between two runs, left out of `identical`. */
export const TIMING_METRICS = ['train/samples_per_sec'];

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

/** What a replay of `run` will differ in; loads the data set (no tfjs) to compare its hash. */
export async function planReplay(run: Run, backendOverride?: BackendPreference): Promise<ReplayPlan> {
  const warnings: string[] = [];
  const backend = expectedBackend(backendOverride ?? run.config.train.backend);
  let datasetHash: string | null = null;
  try {
    datasetHash = (await loadRunDataset(run.config)).hash;
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

/** For each metric of either run: the largest absolute difference over the steps both logged. */
export function compareRuns(store: Store, first: string, second: string): RunComparison {
  const names = [
    ...new Set([...store.metrics.listMetricNames(first), ...store.metrics.listMetricNames(second)]),
  ].sort();
  const metrics = names.map((metric): MetricDifference => {
    const a = store.metrics.readSeriesRaw(first, metric);
    const b = new Map(store.metrics.readSeriesRaw(second, metric).map((p) => [p.step, p.value]));
    let maxAbsDiff = 0;
    let atStep: number | null = null;
    let points = 0;
    let onlyInFirst = 0;
    let bitEqual = true;
    for (const p of a) {
      const other = b.get(p.step);
      if (other === undefined) {
        onlyInFirst++;
        continue;
      }
      points++;
      if (!Object.is(p.value, other)) bitEqual = false;
      const diff = Math.abs(p.value - other);
      if (atStep === null || diff > maxAbsDiff) {
        maxAbsDiff = diff;
        atStep = p.step;
      }
    }
    const onlyInSecond = b.size - points;
    const identical = bitEqual && onlyInFirst === 0 && onlyInSecond === 0;
    return {
      metric,
      maxAbsDiff,
      atStep,
      points,
      onlyInFirst,
      onlyInSecond,
      identical,
      timing: TIMING_METRICS.includes(metric),
    };
  });
  return { runIds: [first, second], metrics, identical: metrics.every((m) => m.timing || m.identical) };
}
