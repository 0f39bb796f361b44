// `npm run bench -- --profile`: where one training step's time goes, and how close the step's
// matrix products come to the machine's sgemm limit.
//
// Per-kernel profile: every kernel registered for the wasm backend is wrapped with a timer
// (exclusive time: a kernel that calls another, as Conv2DBackpropFilter calls BatchMatMul, is
// charged only for its own part); the native addon counts the time and flops inside the BLAS
// products and inside its element-wise kernels (per thread, two clock reads per call); the
// backend's write (upload into the wasm heap) and readSync (read back) are timed as copies. What
// is left of the step's wall time is the engine (tape, tidy, gradient bookkeeping) and the
// model's JS (layers, noise generation): "outside kernels".
//
// sgemm ceiling: every product shape the step ran (batch, M, N, K, transposes) is timed again
// straight through the addon on a scratch buffer (same OpenBLAS, same thread count), best of many
// repeats; the step's limit is the sum of those best times, so "fraction of the limit" = limit
// time / step time. A 1024^3 product gives the machine's single-shape peak.
//
//   node --import tsx bench/profile.ts '{"architecture":"mlp","steps":20}'
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import {
  fusedMlpStepApplies,
  fusedStepProducts,
  loadSgemmAddon,
  planMatMul,
  type SgemmAddon,
} from '../src-main/training/accelerate';
import type { GemmShape, KernelTime, StepProfile } from './profileFormat';
import { setupBench, type TrainBenchOptions } from './train';

export type { GemmShape, KernelTime, StepProfile } from './profileFormat';

const now = () => performance.now();
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const round = (x: number, digits = 3) => Number(x.toFixed(digits));

type KernelFn = (args: {
  inputs: Record<string, tf.TensorInfo>;
  backend: unknown;
  attrs: Record<string, unknown>;
}) => unknown;

/** Wraps every wasm kernel with an exclusive timer; returns the tallies and an uninstall. */
/** Counts `count` more products of this shape in `shapes` (keyed by batch, m, n, k and the transposes). */
function tallyShape(shapes: Map<string, GemmShape>, shape: Omit<GemmShape, 'count'>, count: number): void {
  const key = `${shape.batch}:${shape.m}:${shape.n}:${shape.k}:${shape.transposeA}:${shape.transposeB}`;
  const seen = shapes.get(key) ?? { ...shape, count: 0 };
  seen.count += count;
  shapes.set(key, seen);
}

function instrumentKernels(shapes: Map<string, GemmShape>) {
  const exclusive = new Map<string, { calls: number; ms: number }>();
  const stack: number[] = [];
  const configs = tf.getKernelsForBackend('wasm');
  for (const config of configs) {
    const inner = config.kernelFunc as unknown as KernelFn;
    const name = config.kernelName;
    const isMatMul = name === 'BatchMatMul' || name === '_FusedMatMul';
    const wrapped: KernelFn = (args) => {
      if (isMatMul) {
        const { a, b } = args.inputs;
        const transposeA = Boolean(args.attrs.transposeA);
        const transposeB = Boolean(args.attrs.transposeB);
        const plan = a && b ? planMatMul(a.shape, b.shape, transposeA, transposeB) : null;
        if (plan) tallyShape(shapes, { ...plan, transposeA, transposeB }, 1);
      }
      const started = now();
      stack.push(0);
      try {
        return inner(args);
      } finally {
        const ms = now() - started;
        const children = stack.pop()!;
        const tally = exclusive.get(name) ?? { calls: 0, ms: 0 };
        tally.calls++;
        tally.ms += ms - children;
        exclusive.set(name, tally);
        if (stack.length) stack[stack.length - 1] += ms;
      }
    };
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...config, kernelFunc: wrapped as unknown as tf.KernelFunc });
  }
  return {
    exclusive,
    uninstall() {
      for (const config of configs) {
        tf.unregisterKernel(config.kernelName, 'wasm');
        tf.registerKernel(config);
      }
    },
  };
}

/** Times backend.write and backend.readSync (the copies into and out of the wasm heap). */
function instrumentCopies(backend: BackendWasm) {
  const tally = { ms: 0, calls: 0 };
  const target = backend as unknown as Record<string, (...args: unknown[]) => unknown>;
  const originals: Record<string, (...args: unknown[]) => unknown> = {};
  for (const method of ['write', 'readSync']) {
    const original = target[method];
    originals[method] = original;
    target[method] = function (this: unknown, ...args: unknown[]) {
      const started = now();
      try {
        return original.apply(this, args);
      } finally {
        tally.ms += now() - started;
        tally.calls++;
      }
    };
  }
  return {
    tally,
    uninstall() {
      for (const [method, original] of Object.entries(originals)) target[method] = original;
    },
  };
}

/** Best time of one call of `shape` straight through the addon, on a scratch heap. */
function timeGemm(addon: SgemmAddon, shape: Omit<GemmShape, 'count'>, budgetMs: number): number {
  const { batch, m, n, k } = shape;
  const aFloats = batch * m * k;
  const bFloats = batch * k * n;
  const cFloats = batch * m * n;
  const heap = new ArrayBuffer((aFloats + bFloats + cFloats) * 4);
  const view = new Float32Array(heap);
  for (let i = 0; i < aFloats + bFloats; i++) view[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  const call = () =>
    addon.gemm(
      heap,
      0,
      aFloats * 4,
      (aFloats + bFloats) * 4,
      batch,
      batch,
      batch,
      m,
      n,
      k,
      shape.transposeA ? 1 : 0,
      shape.transposeB ? 1 : 0,
      -1,
      0,
      0,
      0,
    );
  for (let i = 0; i < 3; i++) call();
  let best = Infinity;
  const until = now() + budgetMs;
  // At least 20 repeats (the best of them: other work on the machine only ever adds time).
  for (let reps = 0; reps < 20 || (now() < until && reps < 5000); reps++) {
    const started = now();
    call();
    best = Math.min(best, now() - started);
  }
  return best;
}

export function sgemmCeiling(addon: SgemmAddon, shapes: GemmShape[], stepMs: number, batchSize: number) {
  let limitStepMs = 0;
  let flops = 0;
  for (const shape of shapes) {
    shape.bestMs = timeGemm(addon, shape, 60);
    const shapeFlops = 2 * shape.batch * shape.m * shape.n * shape.k;
    shape.gflops = round(shapeFlops / shape.bestMs / 1e6, 2);
    shape.bestMs = round(shape.bestMs, 4);
    limitStepMs += shape.count * shape.bestMs;
    flops += shape.count * shapeFlops;
  }
  const square = { batch: 1, m: 1024, n: 1024, k: 1024, transposeA: false, transposeB: false };
  const peakMs = timeGemm(addon, square, 300);
  return {
    threads: addon.getNumThreads(),
    limitStepMs: round(limitStepMs),
    limitSamplesPerSec: Math.round((batchSize * 1000) / limitStepMs),
    gflops: round(flops / limitStepMs / 1e6, 2),
    peakGflops: round((2 * 1024 ** 3) / peakMs / 1e6, 2),
    fractionOfLimit: round(limitStepMs / stepMs),
  };
}

export async function profileStep(options: TrainBenchOptions): Promise<StepProfile> {
  const steps = options.steps;
  const warmup = options.warmup ?? 5;
  const { info, config, batchSize, step, model, optimizer, lossOptions } = await setupBench(options);
  const addon = info.accelerator === 'native-sgemm' ? loadSgemmAddon().addon : null;
  // The whole-step path (accelerate/mlpStep.ts) calls sgemm and the fused chains directly, not
  // through tfjs kernels: its products come from the step itself, and its native time is not
  // inside any kernel's.
  const fusedStep = fusedMlpStepApplies(model, optimizer, lossOptions(0));
  let i = 0;
  for (; i < warmup; i++) step(i);
  // Unprofiled steps first: the reference wall time.
  const plain: number[] = [];
  for (let j = 0; j < steps; j++, i++) {
    const started = now();
    step(i);
    plain.push(now() - started);
  }
  const shapes = new Map<string, GemmShape>();
  const kernels = instrumentKernels(shapes);
  const apply = optimizer.applyGradients.bind(optimizer);
  let optimizerMs = 0;
  optimizer.applyGradients = (gradients) => {
    const started = now();
    apply(gradients);
    optimizerMs += now() - started;
  };
  const copies = instrumentCopies(tf.backend() as unknown as BackendWasm);
  addon?.resetStats?.();
  let wall = 0;
  for (let j = 0; j < steps; j++, i++) {
    const started = now();
    step(i);
    wall += now() - started;
  }
  kernels.uninstall();
  copies.uninstall();
  const stats = addon?.stats?.() ?? { gemmNs: 0, gemmFlops: 0, gemmCalls: 0, elementwiseNs: 0, elementwiseCalls: 0 };
  const per = (ms: number) => round(ms / steps);
  const list: KernelTime[] = [...kernels.exclusive.entries()]
    .map(([name, t]) => ({ name, calls: round(t.calls / steps, 1), ms: per(t.ms) }))
    .sort((a, b) => b.ms - a.ms);
  if (fusedStep)
    for (const p of fusedStepProducts(model, batchSize) ?? []) tallyShape(shapes, { batch: 1, ...p }, steps);
  const sgemmMs = stats.gemmNs / 1e6 / steps;
  const nativeElementwiseMs = stats.elementwiseNs / 1e6 / steps;
  const matmulMs = list
    .filter((k) => k.name === 'BatchMatMul' || k.name === '_FusedMatMul')
    .reduce((a, k) => a + k.ms, 0);
  const kernelMs = list.reduce((a, k) => a + k.ms, 0);
  const profiledStepMs = wall / steps;
  const stepMs = median(plain);
  const flopsPerStep = stats.gemmFlops / steps;
  const shapeList = [...shapes.values()].map((s) => ({ ...s, count: round(s.count / steps, 2) }));
  model.dispose();
  optimizer.dispose();
  // Native work outside kernels (the fused step's products and chains, and the fused Adam, which
  // runs inside applyGradients but in no kernel) is its own line, not "outside kernels".
  const directNativeMs = fusedStep ? sgemmMs + nativeElementwiseMs : 0;
  return {
    architecture: config.architecture,
    backend: info.name,
    accelerator: info.accelerator,
    ...(info.acceleratorDetail ? { acceleratorDetail: info.acceleratorDetail } : {}),
    batchSize,
    steps,
    fusedStep,
    stepMs: round(stepMs),
    profiledStepMs: round(profiledStepMs),
    breakdown: {
      sgemmMs: round(sgemmMs),
      matmulKernelMs: round(fusedStep ? matmulMs : Math.max(0, matmulMs - sgemmMs)),
      otherKernelsMs: round(kernelMs - matmulMs),
      nativeElementwiseMs: round(nativeElementwiseMs),
      optimizerMs: per(optimizerMs),
      copiesMs: per(copies.tally.ms),
      outsideKernelsMs: round(profiledStepMs - kernelMs - copies.tally.ms / steps - directNativeMs),
    },
    kernelCallsPerStep: round(
      list.reduce((a, k) => a + k.calls, 0),
      1,
    ),
    kernels: list,
    gemm: {
      flopsPerStep,
      gflopsInSgemm: sgemmMs > 0 ? round(flopsPerStep / sgemmMs / 1e6, 2) : 0,
      gflopsOfStep: round(flopsPerStep / stepMs / 1e6, 2),
      shapes: shapeList,
    },
    ceiling: addon ? sgemmCeiling(addon, shapeList, stepMs, batchSize) : null,
  };
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const options = JSON.parse(process.argv[2] ?? '{}') as Partial<TrainBenchOptions>;
  const profile = await profileStep({ backend: 'wasm', accelerator: 'native-sgemm', steps: 20, ...options });
  process.stdout.write(`${JSON.stringify(profile)}\n`);
}
