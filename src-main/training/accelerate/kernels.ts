// Replacement BatchMatMul and _FusedMatMul kernels for the tfjs wasm backend.
//
// tfjs-backend-wasm 4.22 multiplies with XNNPACK only when neither operand is transposed; the
// transposed products of backpropagation (dy·Wᵀ, xᵀ·dy) fall to a scalar loop (~0.3-1 GFLOP/s).
// Two remedies, registered over the built-in kernels (which stay the fallback for anything not
// handled here):
//   'native-sgemm'              the system sgemm (OpenBLAS/Accelerate) through the optional N-API
//                               addon, reading operands from and writing the result to the wasm
//                               heap in place (dataIdMap.get(dataId).memoryOffset, makeOutput).
//   'wasm-transpose-fast-path'  no addon: transpose the transposed operand with the wasm Transpose
//                               kernel, then call the built-in kernel on the XNNPACK path.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { SgemmAddon } from './addon';

export type Accelerator = 'native-sgemm' | 'wasm-transpose-fast-path' | 'none';

type TensorInfo = tf.TensorInfo;
type KernelConfig = tf.KernelConfig;
type KernelArgs = {
  inputs: Record<string, TensorInfo | undefined>;
  backend: BackendWasm;
  attrs: Record<string, unknown>;
};
type KernelFn = (args: KernelArgs) => TensorInfo;

const BACKEND = 'wasm';
const MATMUL_KERNELS = ['BatchMatMul', '_FusedMatMul'] as const;
const MOVEMENT_KERNELS = ['Identity', 'Tile'] as const;
const BINARY_OPS: Record<string, number> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 };
const UNARY_OPS: Record<string, number> = { Sqrt: 0, Square: 1, Softplus: 2, Exp: 3, Sigmoid: 4 };
const ELEMENTWISE_KERNELS = [...Object.keys(BINARY_OPS), ...Object.keys(UNARY_OPS), 'Sum'];
const KERNELS = [...MATMUL_KERNELS, ...MOVEMENT_KERNELS, ...ELEMENTWISE_KERNELS] as const;
/** Below this many elements the built-in element-wise kernels are as fast; leave them be. */
const ELEMENTWISE_MIN = 256;
/** The wasm backend's FusableActivation codes (kernels/types.js); prelu (3) is left to the built-in kernel. */
export const ACTIVATION_CODES: Record<string, number> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  leakyrelu: 4,
  sigmoid: 5,
  elu: 6,
};

let originals: Record<string, KernelConfig> | null = null;
let active: Accelerator = 'none';

function captureOriginals(): Record<string, KernelConfig> {
  if (originals) return originals;
  const found: Record<string, KernelConfig> = {};
  for (const name of KERNELS) {
    const config = tf.getKernel(name, BACKEND);
    if (!config)
      throw new Error(
        `the wasm backend has no ${name} kernel to accelerate (is @tensorflow/tfjs-backend-wasm imported?)`,
      );
    found[name] = config;
  }
  originals = found;
  return found;
}

function register(name: string, kernelFunc: KernelFn | tf.KernelFunc, setupFunc?: tf.KernelSetupFunc): void {
  tf.unregisterKernel(name, BACKEND);
  tf.registerKernel({
    kernelName: name,
    backendName: BACKEND,
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
    setupFunc,
  });
}

const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);

interface Plan {
  outShape: number[];
  batch: number;
  batchA: number;
  batchB: number;
  m: number;
  n: number;
  k: number;
}

/** Shapes of op(a)·op(b) with tfjs semantics, or null when the built-in kernel should decide (and report errors). */
export function planMatMul(aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean): Plan | null {
  const ra = aShape.length;
  const rb = bShape.length;
  if (ra < 2 || rb < 2) return null;
  const k = transposeA ? aShape[ra - 2] : aShape[ra - 1];
  const kb = transposeB ? bShape[rb - 1] : bShape[rb - 2];
  if (k !== kb) return null;
  const m = transposeA ? aShape[ra - 1] : aShape[ra - 2];
  const n = transposeB ? bShape[rb - 2] : bShape[rb - 1];
  const outerA = aShape.slice(0, -2);
  const outerB = bShape.slice(0, -2);
  let outer: number[];
  try {
    outer = tf.backend_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return null;
  }
  const batch = sizeOf(outer);
  const batchA = sizeOf(outerA);
  const batchB = sizeOf(outerB);
  // One side broadcast whole, or both full: anything else goes to the built-in kernel.
  if ((batchA !== 1 && batchA !== batch) || (batchB !== 1 && batchB !== batch)) return null;
  return { outShape: [...outer, m, n], batch, batchA, batchB, m, n, k };
}

/** Byte offset of a tensor's data in the wasm heap. */
export function offsetOf(backend: BackendWasm, t: TensorInfo): number {
  return backend.dataIdMap.get(t.dataId).memoryOffset;
}

/** The wasm heap; read it after any allocation, which may grow (replace) the memory. */
export function heapOf(backend: BackendWasm): ArrayBuffer {
  return (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8.buffer as ArrayBuffer;
}

function nativeKernels(addon: SgemmAddon, original: Record<string, KernelConfig>): Record<string, KernelFn> {
  const builtinBatch = original.BatchMatMul.kernelFunc as unknown as KernelFn;
  const builtinFused = original._FusedMatMul.kernelFunc as unknown as KernelFn;
  const run = (
    backend: BackendWasm,
    a: TensorInfo,
    b: TensorInfo,
    plan: Plan,
    transposeA: boolean,
    transposeB: boolean,
    bias: TensorInfo | undefined,
    activation: number,
    alpha: number,
  ): TensorInfo => {
    const out = backend.makeOutput(plan.outShape, 'float32');
    // Read the heap after makeOutput: the allocation may have grown (replaced) the wasm memory.
    const heap = heapOf(backend);
    addon.gemm(
      heap,
      offsetOf(backend, a),
      offsetOf(backend, b),
      offsetOf(backend, out),
      plan.batch,
      plan.batchA,
      plan.batchB,
      plan.m,
      plan.n,
      plan.k,
      transposeA ? 1 : 0,
      transposeB ? 1 : 0,
      bias ? offsetOf(backend, bias) : -1,
      bias ? sizeOf(bias.shape) : 0,
      activation,
      alpha,
    );
    return out;
  };
  return {
    BatchMatMul(args) {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      const transposeA = Boolean(args.attrs.transposeA);
      const transposeB = Boolean(args.attrs.transposeB);
      const plan =
        a.dtype === 'float32' && b.dtype === 'float32' ? planMatMul(a.shape, b.shape, transposeA, transposeB) : null;
      if (!plan) return builtinBatch(args);
      return run(args.backend, a, b, plan, transposeA, transposeB, undefined, 0, 0);
    },
    _FusedMatMul(args) {
      const { a, b, bias, preluActivationWeights } = args.inputs;
      const transposeA = Boolean(args.attrs.transposeA);
      const transposeB = Boolean(args.attrs.transposeB);
      const activation = ACTIVATION_CODES[String(args.attrs.activation ?? 'linear')];
      const usable =
        a &&
        b &&
        a.dtype === 'float32' &&
        b.dtype === 'float32' &&
        activation !== undefined &&
        !preluActivationWeights &&
        (!bias || (bias.shape.length === 1 && bias.dtype === 'float32'));
      const plan = usable ? planMatMul(a.shape, b.shape, transposeA, transposeB) : null;
      if (!plan || !a || !b) return builtinFused(args);
      const alpha = Number(args.attrs.leakyreluAlpha ?? 0) || 0;
      return run(args.backend, a, b, plan, transposeA, transposeB, bias, activation, alpha);
    },
  };
}

/**
 * With the addon: the element-wise kernels that dominate a training step after the matmuls (Adam's
 * updates, the gradient norm, the Bernoulli log-likelihood), done natively in place on the heap
 * for large float32 tensors; everything else goes to the built-in kernels.
 */
function nativeElementwiseKernels(addon: SgemmAddon, original: Record<string, KernelConfig>): Record<string, KernelFn> {
  const kernels: Record<string, KernelFn> = {};
  for (const [name, op] of Object.entries(BINARY_OPS)) {
    const builtin = original[name].kernelFunc as unknown as KernelFn;
    kernels[name] = (args) => {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      if (a.dtype !== 'float32' || b.dtype !== 'float32') return builtin(args);
      const sizeA = sizeOf(a.shape);
      const sizeB = sizeOf(b.shape);
      const n = Math.max(sizeA, sizeB);
      if (n < ELEMENTWISE_MIN || (sizeA !== n && sizeA !== 1) || (sizeB !== n && sizeB !== 1)) return builtin(args);
      let shape: number[];
      try {
        shape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
      } catch {
        return builtin(args);
      }
      if (sizeOf(shape) !== n) return builtin(args);
      const backend = args.backend;
      const out = backend.makeOutput(shape, 'float32');
      addon.binary(
        heapOf(backend),
        op,
        offsetOf(backend, a),
        sizeA,
        offsetOf(backend, b),
        sizeB,
        offsetOf(backend, out),
        n,
      );
      return out;
    };
  }
  for (const [name, op] of Object.entries(UNARY_OPS)) {
    const builtin = original[name].kernelFunc as unknown as KernelFn;
    kernels[name] = (args) => {
      const x = args.inputs.x as TensorInfo;
      const n = sizeOf(x.shape);
      if (x.dtype !== 'float32' || n < ELEMENTWISE_MIN) return builtin(args);
      const backend = args.backend;
      const out = backend.makeOutput(x.shape, 'float32');
      addon.unary(heapOf(backend), op, offsetOf(backend, x), offsetOf(backend, out), n);
      return out;
    };
  }
  const builtinSum = original.Sum.kernelFunc as unknown as KernelFn;
  kernels.Sum = (args) => {
    const x = args.inputs.x as TensorInfo;
    const n = sizeOf(x.shape);
    if (x.dtype !== 'float32' || n < ELEMENTWISE_MIN) return builtinSum(args);
    const rank = x.shape.length;
    const axes = [...tf.util.parseAxisParam(args.attrs.axis as number | number[], x.shape)].sort((p, q) => p - q);
    if (axes.length === 0 || axes.some((axis, i) => i > 0 && axis === axes[i - 1])) return builtinSum(args);
    const trailing = axes.every((axis, i) => axis === rank - axes.length + i);
    const leading = axes.every((axis, i) => axis === i);
    if (!trailing && !leading) return builtinSum(args);
    const split = trailing ? rank - axes.length : axes.length;
    const outer = sizeOf(x.shape.slice(0, split));
    const inner = sizeOf(x.shape.slice(split));
    const kept = x.shape.filter((_, i) => !axes.includes(i));
    const shape = args.attrs.keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : kept;
    const backend = args.backend;
    const out = backend.makeOutput(shape, 'float32');
    addon.sum(heapOf(backend), offsetOf(backend, x), outer, inner, offsetOf(backend, out), trailing ? 1 : 0);
    return out;
  };
  return kernels;
}

/** Swaps the last two axes with the wasm Transpose kernel (a new buffer the caller disposes). */
function swapLastTwo(backend: BackendWasm, x: TensorInfo): TensorInfo {
  const rank = x.shape.length;
  const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
  const transpose = tf.getKernel('Transpose', BACKEND).kernelFunc as unknown as KernelFn;
  return transpose({ inputs: { x }, backend, attrs: { perm } });
}

function transposeFastPathKernels(original: Record<string, KernelConfig>): Record<string, KernelFn> {
  const route =
    (builtin: KernelFn): KernelFn =>
    (args) => {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      const transposeA = Boolean(args.attrs.transposeA);
      const transposeB = Boolean(args.attrs.transposeB);
      if (
        (!transposeA && !transposeB) ||
        a.dtype !== 'float32' ||
        b.dtype !== 'float32' ||
        a.shape.length < 2 ||
        b.shape.length < 2
      )
        return builtin(args);
      const temps: TensorInfo[] = [];
      const a2 = transposeA ? swapLastTwo(args.backend, a) : a;
      if (transposeA) temps.push(a2);
      const b2 = transposeB ? swapLastTwo(args.backend, b) : b;
      if (transposeB) temps.push(b2);
      try {
        return builtin({
          ...args,
          inputs: { ...args.inputs, a: a2, b: b2 },
          attrs: { ...args.attrs, transposeA: false, transposeB: false },
        });
      } finally {
        for (const t of temps) args.backend.disposeData(t.dataId);
      }
    };
  return {
    BatchMatMul: route(original.BatchMatMul.kernelFunc as unknown as KernelFn),
    _FusedMatMul: route(original._FusedMatMul.kernelFunc as unknown as KernelFn),
  };
}

// Copy-free data movement for both accelerated modes. The built-in wasm Identity copies its input
// (the engine clones every tensor it saves for backpropagation) and the built-in Tile runs a
// generic element loop even for reps of all 1 (tf.tile(x, [1, 1]) in the VAE's sample step).
// Tensors are immutable, so sharing the buffer is what the cpu backend and wasm's own Reshape do.
function dataMovementKernels(original: Record<string, KernelConfig>): Record<string, KernelFn> {
  const builtinIdentity = original.Identity.kernelFunc as unknown as KernelFn;
  const builtinTile = original.Tile.kernelFunc as unknown as KernelFn;
  const share = (backend: BackendWasm, x: TensorInfo, shape: number[]): TensorInfo => {
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape, dtype: x.dtype };
  };
  return {
    Identity(args) {
      const x = args.inputs.x as TensorInfo;
      if (x.dtype === 'string') return builtinIdentity(args);
      return share(args.backend, x, x.shape);
    },
    Tile(args) {
      const x = args.inputs.x as TensorInfo;
      const reps = args.attrs.reps as number[];
      if (x.dtype === 'string' || !Array.isArray(reps) || reps.length !== x.shape.length) return builtinTile(args);
      if (reps.every((r) => r === 1)) return share(args.backend, x, x.shape);
      // Only the first axis repeats: the output is the input's bytes back to back.
      if (reps.slice(1).every((r) => r === 1) && reps[0] >= 1) {
        const backend = args.backend;
        const out = backend.makeOutput([x.shape[0] * reps[0], ...x.shape.slice(1)], x.dtype);
        const heap = (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8;
        const bytes = sizeOf(x.shape) * (x.dtype === 'bool' ? 1 : 4);
        const from = offsetOf(backend, x);
        const to = offsetOf(backend, out);
        for (let r = 0; r < reps[0]; r++) heap.copyWithin(to + r * bytes, from, from + bytes);
        return out;
      }
      return builtinTile(args);
    },
  };
}

/**
 * Registers the chosen matmul kernels (and, with either accelerator, the copy-free Identity and
 * Tile) for the wasm backend of this thread ('none' restores all built-in ones). Call after importing @tensorflow/tfjs-backend-wasm; before or after the backend
 * initializes (the built-in setup functions run either way).
 */
export function installMatMulKernels(kind: Accelerator, addon?: SgemmAddon | null): void {
  const original = captureOriginals();
  if (kind === 'native-sgemm' && !addon) throw new Error("the 'native-sgemm' kernels need the addon");
  const matmul =
    kind === 'native-sgemm'
      ? nativeKernels(addon!, original)
      : kind === 'wasm-transpose-fast-path'
        ? transposeFastPathKernels(original)
        : null;
  const kernels: Record<string, KernelFn> | null = matmul
    ? {
        ...matmul,
        ...dataMovementKernels(original),
        ...(kind === 'native-sgemm' ? nativeElementwiseKernels(addon!, original) : {}),
      }
    : null;
  for (const name of KERNELS) {
    const builtin = original[name];
    register(name, kernels?.[name] ?? builtin.kernelFunc, builtin.setupFunc);
  }
  active = kind;
}

/** Which matmul kernels the wasm backend of this thread uses. */
export function activeMatMulKernels(): Accelerator {
  return active;
}
