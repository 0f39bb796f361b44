// Adam with a fused native update for the wasm backend with the native addon.
//
// tf.train.adam's applyGradients runs ~14 element-wise kernels per variable (each a full pass over
// the array plus tfjs's per-op overhead). FusedAdamOptimizer is a tf.AdamOptimizer (same
// hyperparameters, same slots m and v per variable, same beta powers, same getWeights/setWeights,
// so checkpoints written by either restore into either) whose update is one native pass per
// variable, in place on the wasm heap, computing the same float32 operations in the same order
// (native/src/sgemm.cc, AdamLoop). Anywhere else (another backend, the built-in or fast-path
// kernels, a gradient that is not a plain float32 array) it defers to tfjs's own applyGradients.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { loadSgemmAddon, type SgemmAddon } from './addon';
import { activeMatMulKernels, heapOf } from './kernels';
import { fusedKernelsEnabled } from './fused';
import { switchedOff } from '../../api/envSwitch';

type NamedGradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];
type NamedTensor = { name: string; tensor: tf.Tensor };
interface Slot {
  originalName: string;
  variable: tf.Variable;
}
/** tf.AdamOptimizer's private state (tfjs-core 4.x, optimizers/adam_optimizer.ts). */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Slot[];
  accumulatedSecondMoment: Slot[];
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

const FUSED_ENV = 'VAE_WORKBENCH_FUSED_ADAM';

/** False when VAE_WORKBENCH_FUSED_ADAM is off/0/false/no (benchmarks: the unfused update for comparison). */
export function fusedAdamEnabled(): boolean {
  return !switchedOff(process.env[FUSED_ENV]);
}

export class FusedAdamOptimizer extends tf.AdamOptimizer {
  /** Steps that took the native path / that deferred to tfjs (tests, diagnostics). */
  readonly stats = { fused: 0, deferred: 0, copies: 0 };
  /**
   * sum(g^2) over every gradient of the last applyGradients, read by the native pass itself (in
   * double); null when that step deferred to tfjs. trainStep takes the gradient norm from here
   * instead of running a Square and a Sum per variable.
   */
  lastGradientSquares: number | null = null;
  private readonly addon: SgemmAddon;

  constructor(learningRate: number, addon: SgemmAddon, beta1 = 0.9, beta2 = 0.999, epsilon: number | null = null) {
    // epsilon null: the backend's epsilon (1e-7 on wasm/cpu), fixed at construction as tfjs does.
    super(learningRate, beta1, beta2, epsilon as number);
    this.addon = addon;
  }

  override applyGradients(variableGradients: NamedGradients): void {
    this.lastGradientSquares = null;
    if (!this.fuse(variableGradients)) {
      this.stats.deferred++;
      super.applyGradients(variableGradients);
    }
  }

  /** The native update; false (having changed nothing) when it does not apply. */
  private fuse(variableGradients: NamedGradients): boolean {
    if (tf.getBackend() !== 'wasm' || activeMatMulKernels() !== 'native-sgemm') return false;
    const backend = tf.backend() as unknown as BackendWasm;
    const state = this as unknown as AdamState;
    const list = Array.isArray(variableGradients);
    const names = list ? (variableGradients as NamedTensor[]).map((v) => v.name) : Object.keys(variableGradients);
    const registered = tf.engine().registeredVariables;
    const gradients: (tf.Tensor | null)[] = names.map((name, i) =>
      list
        ? ((variableGradients as NamedTensor[])[i].tensor ?? null)
        : ((variableGradients as unknown as tf.NamedTensorMap)[name] ?? null),
    );
    // Check everything before touching anything, so deferring never sees a half-applied step.
    for (let i = 0; i < names.length; i++) {
      const value = registered[names[i]];
      const g = gradients[i];
      if (!value || value.dtype !== 'float32') return false;
      if (g === null) continue;
      if (g.dtype !== 'float32' || g.size !== value.size || !tf.util.arraysEqual(g.shape, value.shape)) return false;
      for (const slot of [state.accumulatedFirstMoment[i], state.accumulatedSecondMoment[i]]) {
        if (slot && (slot.variable.dtype !== 'float32' || slot.variable.size !== value.size)) return false;
      }
    }
    // Bias corrections from the running powers, as tfjs: sub(1, accBeta) in float32.
    const oneMinusAccBeta1 = Math.fround(1 - state.accBeta1.dataSync()[0]);
    const oneMinusAccBeta2 = Math.fround(1 - state.accBeta2.dataSync()[0]);
    const f = Math.fround;
    const b1 = f(state.beta1);
    const b2 = f(state.beta2);
    const omb1 = f(1 - state.beta1);
    const omb2 = f(1 - state.beta2);
    const eps = f(state.epsilon);
    const negLr = f(-state.learningRate);
    let squares: number | null = 0;
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      const value = registered[name];
      // Slots created exactly as tfjs creates them (names, order, zeros, not trainable).
      if (state.accumulatedFirstMoment[i] == null) {
        state.accumulatedFirstMoment[i] = {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
      }
      if (state.accumulatedSecondMoment[i] == null) {
        state.accumulatedSecondMoment[i] = {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
      }
      const g = gradients[i];
      if (g === null) continue;
      const m = state.accumulatedFirstMoment[i].variable;
      const v = state.accumulatedSecondMoment[i].variable;
      // Written in place: each of p, m, v must own its buffer (a variable made from a tensor, e.g.
      // by setWeights, or a buffer shared by the copy-free Identity, is copied first).
      for (const target of [value, m, v]) this.own(backend, target);
      const offset = (t: tf.Tensor) => backend.dataIdMap.get(t.dataId).memoryOffset;
      // The heap after any allocation above (growth replaces the ArrayBuffer).
      const heap = heapOf(backend);
      const gradientSquares = this.addon.adam(
        heap,
        offset(value),
        offset(m),
        offset(v),
        offset(g),
        value.size,
        b1,
        omb1,
        b2,
        omb2,
        oneMinusAccBeta1,
        oneMinusAccBeta2,
        eps,
        negLr,
      );
      // Builds older than the fused gradient norm return nothing: the norm is then tfjs's.
      squares = squares !== null && typeof gradientSquares === 'number' ? squares + gradientSquares : null;
    }
    tf.tidy(() => {
      state.accBeta1.assign(tf.mul(state.accBeta1, state.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, state.beta2));
    });
    this.incrementIterations();
    this.stats.fused++;
    this.lastGradientSquares = squares;
    return true;
  }

  /** Gives `variable` a buffer of its own (a bit-exact copy) when its buffer is shared. */
  private own(backend: BackendWasm, variable: tf.Variable): void {
    if (backend.refCount(variable.dataId) === 1) return;
    const copy = tf.mul(variable, tf.scalar(1, 'float32'));
    variable.assign(copy);
    copy.dispose();
    this.stats.copies++;
  }
}

/**
 * The optimizer of a training run: the fused Adam when this thread's wasm backend runs the native
 * kernels (and the addon has the update; VAE_WORKBENCH_FUSED_ADAM=off opts out), else tfjs Adam.
 * Either way the hyperparameters are tf.train.adam(lr)'s: beta1 0.9, beta2 0.999, the backend's epsilon.
 */
export function createAdam(learningRate: number): tf.AdamOptimizer {
  if (fusedAdamEnabled() && tf.getBackend() === 'wasm' && activeMatMulKernels() === 'native-sgemm') {
    const { addon } = loadSgemmAddon();
    if (addon && typeof addon.adam === 'function') return new FusedAdamOptimizer(learningRate, addon);
  }
  return tf.train.adam(learningRate);
}

/**
 * sum(g^2) of the optimizer's last update when the fused native Adam read it in its pass (and
 * VAE_WORKBENCH_FUSED is not off); else null and the caller computes the gradient norm itself.
 */
export function fusedGradientSquares(optimizer: tf.Optimizer): number | null {
  if (!fusedKernelsEnabled()) return null;
  const squares = (optimizer as Partial<FusedAdamOptimizer>).lastGradientSquares;
  return typeof squares === 'number' ? squares : null;
}
