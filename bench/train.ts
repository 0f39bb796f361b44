// One benchmark training run of the product's model and step: createModel (784-512-32 MLP VAE,
// Bernoulli likelihood) and the trainer's own step and optimizer (src-main/training/step.ts:
// tf.variableGrads -> grad norm -> Adam, one read back per step; the optimizer of
// accelerate/adam.ts), on a chosen backend and matmul accelerator. Prints one JSON line.
// VAE_WORKBENCH_FUSED_ADAM=off measures tfjs's own Adam update instead of the fused one.
//
//   node --import tsx bench/train.ts '{"backend":"wasm","accelerator":"native-sgemm","steps":40}'
//   node --import tsx bench/train.ts '{"parallel":2,"backend":"wasm","accelerator":"native-sgemm","steps":40}'
//
// With "parallel": n, n worker threads train at the same time, each on its own backend instance.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { ModelConfigSchema } from '../src-main/api/config';
import { createModel } from '../src-main/models';
import type { LossOptions } from '../src-main/models/types';
import { initBackend, type BackendPreference } from '../src-main/training/backend';
import { createAdam, type FusedAdamOptimizer, type Accelerator } from '../src-main/training/accelerate';
import { trainStep } from '../src-main/training/step';

export interface TrainBenchOptions {
  backend: BackendPreference;
  accelerator?: Accelerator | 'auto';
  steps: number;
  warmup?: number;
  batchSize?: number;
  hidden?: number[];
  latentDim?: number;
  threads?: number;
  seed?: number;
  parallel?: number;
  /** 'mlp' (default: the product's 784-512-32 MLP VAE) or 'conv' (the product's conv VAE on 28x28). */
  architecture?: 'mlp' | 'conv';
}

export interface TrainBenchResult {
  backend: string;
  accelerator: string;
  acceleratorDetail?: string;
  /** 'fused-adam' (native update) or 'tfjs-adam'. */
  optimizer: string;
  skipped: string[];
  steps: number;
  batchSize: number;
  /** batch / median step time */
  samplesPerSec: number;
  /** total samples / total time of the timed steps */
  meanSamplesPerSec: number;
  medianStepMs: number;
  losses: number[];
  maxRssMb: number;
}

const INPUT_DIM = 784;

function createRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Binary "images" (Bernoulli pixels): speed does not depend on the values. */
function syntheticBatches(count: number, batch: number, seed: number): Float32Array[] {
  const random = createRandom(seed);
  return Array.from({ length: count }, () => {
    const x = new Float32Array(batch * INPUT_DIM);
    for (let i = 0; i < x.length; i++) x[i] = random() < 0.13 ? 1 : 0;
    return x;
  });
}

/** The model, optimizer and data of a benchmark run, on an initialized backend; `step(i)` runs step i. */
export async function setupBench(options: TrainBenchOptions) {
  const batchSize = options.batchSize ?? 128;
  const seed = options.seed ?? 7;
  const info = await initBackend(options.backend, { accelerator: options.accelerator, threads: options.threads });
  const config = ModelConfigSchema.parse({
    kind: 'vae',
    architecture: options.architecture ?? 'mlp',
    hidden: options.hidden ?? [512],
    latentDim: options.latentDim ?? 32,
    likelihood: 'bernoulli',
  });
  const model = createModel(config, [28, 28, 1], seed);
  // The trainer's optimizer: tf.train.adam(1e-3), fused natively on wasm + native sgemm.
  const optimizer = createAdam(1e-3);
  const variables = model.trainableVariables();
  const batches = syntheticBatches(8, batchSize, seed);
  const lossOptions = (step: number): LossOptions => ({
    klWeight: 1,
    freeBits: 0,
    capacity: null,
    objective: 'elbo',
    samples: 1,
    seed: seed * 1000 + step,
  });
  const step = (i: number): number[] =>
    trainStep(model, optimizer, variables, batches[i % batches.length], batchSize, lossOptions(i));
  return { info, config, model, optimizer, batchSize, step, lossOptions };
}

export async function trainBench(options: TrainBenchOptions): Promise<TrainBenchResult> {
  const warmup = options.warmup ?? 3;
  const { info, model, optimizer, batchSize, step: runStep } = await setupBench(options);
  const losses: number[] = [];
  const times: number[] = [];
  for (let step = 0; step < warmup + options.steps; step++) {
    const started = performance.now();
    const values = runStep(step);
    const ms = performance.now() - started;
    losses.push(values[0]);
    if (step >= warmup) times.push(ms);
  }
  model.dispose();
  optimizer.dispose();
  const sorted = [...times].sort((a, b) => a - b);
  const medianStepMs = sorted[Math.floor(sorted.length / 2)];
  const total = times.reduce((a, b) => a + b, 0);
  return {
    backend: info.name,
    accelerator: info.accelerator,
    ...(info.acceleratorDetail ? { acceleratorDetail: info.acceleratorDetail } : {}),
    // (not instanceof: tf.Optimizer's Symbol.hasInstance accepts any optimizer)
    optimizer: (optimizer as Partial<FusedAdamOptimizer>).stats?.deferred === 0 ? 'fused-adam' : 'tfjs-adam',
    skipped: info.skipped,
    steps: options.steps,
    batchSize,
    samplesPerSec: (batchSize * 1000) / medianStepMs,
    meanSamplesPerSec: (batchSize * times.length * 1000) / total,
    medianStepMs,
    losses,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

async function parallel(options: TrainBenchOptions): Promise<{ runs: TrainBenchResult[]; maxRssMb: number }> {
  const n = options.parallel ?? 2;
  const runs = await Promise.all(
    Array.from({ length: n }, (_, i) => {
      const worker = new Worker(new URL('./train-worker.mjs', import.meta.url), {
        workerData: { ...options, parallel: undefined, seed: (options.seed ?? 7) + i },
      });
      return new Promise<TrainBenchResult>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
    }),
  );
  return { runs, maxRssMb: process.resourceUsage().maxRSS / 1024 };
}

if (!isMainThread && parentPort && (workerData as TrainBenchOptions | null)?.backend) {
  parentPort.postMessage(await trainBench(workerData as TrainBenchOptions));
} else if (isMainThread && process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const options = JSON.parse(process.argv[2] ?? '{}') as TrainBenchOptions;
  const result = options.parallel ? await parallel(options) : await trainBench(options);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
