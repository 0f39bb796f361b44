// Finds the optional native sgemm addon (package `vae-workbench-sgemm`, built from native/ by
// node-gyp at install). Absent when the machine had no BLAS or no compiler; callers fall back.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { prepareBlasCore, type BlasCoreChoice } from './blasCore';
import { switchedOff } from '../../api/envSwitch';

export interface SgemmAddon {
  /** See native/src/sgemm.cc: C[bi] = act(op(A[bi % batchA]) op(B[bi % batchB]) + bias), in place on `heap`. */
  gemm(
    heap: ArrayBuffer,
    aOffset: number,
    bOffset: number,
    cOffset: number,
    batch: number,
    batchA: number,
    batchB: number,
    m: number,
    n: number,
    k: number,
    transposeA: number,
    transposeB: number,
    biasOffset: number,
    biasSize: number,
    activation: number,
    alpha: number,
  ): void;
  /** Element-wise out = a op b (op 0 add, 1 sub, 2 mul, 3 div); aSize/bSize are n or 1. */
  binary(
    heap: ArrayBuffer,
    op: number,
    aOffset: number,
    aSize: number,
    bOffset: number,
    bSize: number,
    outOffset: number,
    n: number,
  ): void;
  /** out = f(x) (op 0 sqrt, 1 square, 2 softplus, 3 exp, 4 sigmoid). */
  unary(heap: ArrayBuffer, op: number, xOffset: number, outOffset: number, n: number): void;
  /** x is [outer, inner]: row sums (innerAxis 1) or column sums (0). */
  sum(heap: ArrayBuffer, xOffset: number, outer: number, inner: number, outOffset: number, innerAxis: number): void;
  /**
   * One fused Adam step over one variable, in place: p, m, v updated from g (n floats each), with
   * float32 scalars beta1, 1-beta1, beta2, 1-beta2, 1-beta1^t, 1-beta2^t, epsilon, -lr. Absent in
   * builds older than the fused optimizer.
   */
  adam(
    heap: ArrayBuffer,
    pOffset: number,
    mOffset: number,
    vOffset: number,
    gOffset: number,
    n: number,
    beta1: number,
    oneMinusBeta1: number,
    beta2: number,
    oneMinusBeta2: number,
    oneMinusAccBeta1: number,
    oneMinusAccBeta2: number,
    epsilon: number,
    negLearningRate: number,
  ): number | undefined;
  /**
   * The fused element-wise chains of the VAE step (native/src/sgemm.cc, Fused): op 0 Bernoulli
   * log-likelihood rows, 1 its gradient, 2 closed-form KL to N(0, I), 3 its gradient, 4 the
   * reparameterization, 5 its gradient, 6 the ReLU gradient; the rest are byte offsets and sizes.
   * Absent in builds older than the fused kernels.
   */
  fused?(heap: ArrayBuffer, op: number, ...args: number[]): void;
  /** This thread's profiler counters (time and flops in the BLAS products, time in element-wise kernels). */
  stats?(): AddonStats;
  resetStats?(): void;
  /**
   * NHWC im2col (op 0: x -> cols [B*oH*oW, fH*fW*C]) or col2im (op 1: cols added back into x, which
   * is overwritten), dilation 1. Absent in builds older than the native conv kernels.
   */
  conv?(
    heap: ArrayBuffer,
    op: number,
    xOffset: number,
    batch: number,
    height: number,
    width: number,
    channels: number,
    filterHeight: number,
    filterWidth: number,
    strideHeight: number,
    strideWidth: number,
    padTop: number,
    padLeft: number,
    outHeight: number,
    outWidth: number,
    colsOffset: number,
  ): void;
  /** The kernel family OpenBLAS chose at load (e.g. "SkylakeX", "Prescott"); "" for Accelerate. */
  coreName?(): string;
  /** Takes a share of the process-wide BLAS thread budget for this thread (released at thread exit). */
  acquire(): number;
  release(): number;
  /** Caps BLAS threads (0: only the fair share cores / users). Returns the resulting count. */
  setThreadsCap(threads: number): number;
  threadsPlan(): { users: number; cores: number; threads: number };
  setNumThreads(threads: number): boolean;
  getNumThreads(): number;
  /** e.g. "OpenBLAS 0.3.21 ... (Zen)" or "Accelerate". */
  info(): string;
}

export interface AddonStats {
  gemmNs: number;
  gemmFlops: number;
  gemmCalls: number;
  elementwiseNs: number;
  elementwiseCalls: number;
}

export type AddonLoad = { addon: SgemmAddon; reason: null } | { addon: null; reason: string };

let cached: AddonLoad | null = null;
let coreChoice: BlasCoreChoice | null = null;

/** How this process's OpenBLAS kernel family was chosen (null before the addon was looked for). */
export function blasCoreChoice(): BlasCoreChoice | null {
  return coreChoice;
}

/** The kernel family the loaded addon runs ("SkylakeX", "Haswell", "Zen", ... or "" for Accelerate). */
export function blasCoreName(addon: SgemmAddon): string {
  return typeof addon.coreName === 'function' ? addon.coreName() : '';
}

/** Forgets the loaded addon (tests: to re-read VAE_WORKBENCH_SGEMM). */
export function resetSgemmAddonCache(): void {
  cached = null;
}

/** Where the addon may be: the linked optional dependency, or native/ of a checkout. */
function addonCandidates(): string[] {
  const candidates = ['vae-workbench-sgemm'];
  // A checkout where the optional dependency was not linked: the addon's own folder.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const index = join(dir, 'native', 'index.cjs');
    if (existsSync(index)) {
      candidates.push(index);
      break;
    }
    dir = dirname(dir);
  }
  return candidates;
}

/**
 * Chooses this process's OpenBLAS kernel family (blasCore.ts) without loading the addon here: the
 * training pool calls it in the main thread before it starts workers. Null without the addon.
 */
export function prepareSgemmBlas(): BlasCoreChoice | null {
  if (switchedOff(process.env.VAE_WORKBENCH_SGEMM)) return null;
  const require = createRequire(import.meta.url);
  for (const id of addonCandidates()) {
    try {
      coreChoice = prepareBlasCore(require.resolve(id));
      return coreChoice;
    } catch {
      // not resolvable: the next candidate
    }
  }
  return null;
}

/** The addon, or null with the reason. Set VAE_WORKBENCH_SGEMM=off to act as if it were absent. */
export function loadSgemmAddon(): AddonLoad {
  if (cached) return cached;
  if (switchedOff(process.env.VAE_WORKBENCH_SGEMM)) {
    cached = { addon: null, reason: 'native sgemm disabled by VAE_WORKBENCH_SGEMM' };
    return cached;
  }
  const require = createRequire(import.meta.url);
  const candidates = addonCandidates();
  let reason = 'native sgemm addon not installed';
  for (const id of candidates) {
    let index: string;
    try {
      index = require.resolve(id);
    } catch {
      continue;
    }
    // OpenBLAS reads OPENBLAS_CORETYPE when it loads: choose it first (blasCore.ts).
    coreChoice = prepareBlasCore(index);
    try {
      const loaded = require(id) as { addon: SgemmAddon | null; loadError: string | null };
      if (loaded.addon) {
        cached = { addon: loaded.addon, reason: null };
        return cached;
      }
      reason = `native sgemm addon not built: ${loaded.loadError ?? 'unknown error'}`;
    } catch (error) {
      reason = `native sgemm addon unavailable: ${(error as Error).message.split('\n')[0]}`;
    }
  }
  cached = { addon: null, reason };
  return cached;
}
