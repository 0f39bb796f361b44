// Accelerated matmul kernels for the tfjs wasm backend; see kernels.ts. backend.ts picks one.
import { blasCoreChoice, blasCoreName, loadSgemmAddon, resetSgemmAddonCache, type SgemmAddon } from './addon';
import { activeMatMulKernels, installMatMulKernels, type Accelerator } from './kernels';
import { installFusedOps } from './fused';
import { installNativeConvKernels } from './conv';

export {
  blasCoreChoice,
  blasCoreName,
  loadSgemmAddon,
  resetSgemmAddonCache,
  activeMatMulKernels,
  installMatMulKernels,
  type Accelerator,
  type SgemmAddon,
};
export { planMatMul } from './kernels';
export { createAdam, FusedAdamOptimizer, fusedAdamEnabled, fusedGradientSquares } from './adam';
export { fusedKernelsEnabled, installFusedOps, FUSED_KERNELS } from './fused';
export { fusedMlpStep, fusedMlpStepApplies, fusedStepProducts } from './mlpStep';

export interface AcceleratorChoice {
  accelerator: Accelerator;
  /** Why a faster option was not used (for the run's record). */
  notes: string[];
  /** e.g. "OpenBLAS 0.3.21 ..., 2 BLAS threads" */
  detail: string | null;
  /** The BLAS kernel family (e.g. "SkylakeX"), for the run's backend string; null without the addon. */
  core?: string | null;
  /** BLAS threads per product at the start of the run. */
  threads?: number;
}

/**
 * Installs the best matmul kernels available for the wasm backend of this thread: the native sgemm
 * when the addon loads, else the transposed-product fast path. `want` forces one ('none' keeps the
 * built-in kernels); a forced 'native-sgemm' that cannot load throws. `threads` >= 1 pins the BLAS
 * threads (for the whole process: OpenBLAS has one count); 0 or undefined: the fair share of the
 * cores among the threads using the addon.
 */
export function chooseAccelerator(want: Accelerator | 'auto' = 'auto', threads?: number): AcceleratorChoice {
  const notes: string[] = [];
  if (want === 'auto' || want === 'native-sgemm') {
    const load = loadSgemmAddon();
    if (load.addon) {
      const addon = load.addon;
      addon.acquire();
      if (threads !== undefined) addon.setThreadsCap(Math.max(0, Math.floor(threads)));
      const share = threads === undefined || Math.floor(threads) <= 0;
      installMatMulKernels('native-sgemm', addon);
      installFusedOps(addon);
      installNativeConvKernels(addon);
      const plan = addon.threadsPlan();
      const core = blasCoreName(addon);
      const choice = blasCoreChoice();
      return {
        accelerator: 'native-sgemm',
        notes,
        core: core || null,
        threads: plan.threads,
        detail: `${addon.info()}${choice ? ` [${choice.reason}]` : ''}; ${plan.threads} BLAS thread(s) of ${plan.cores} cores, ${plan.users} user(s)${share ? ' (fair share, re-evaluated per product)' : ' (pinned)'}`,
      };
    }
    if (want === 'native-sgemm') throw new Error(load.reason);
    notes.push(load.reason);
  }
  const kind: Accelerator = want === 'none' ? 'none' : 'wasm-transpose-fast-path';
  installMatMulKernels(kind);
  return { accelerator: kind, notes, detail: null };
}
