// Fused element-wise chains of the VAE step for the wasm backend with the native addon.
//
// After the matrix products, a step's time went to chains of small element-wise kernels, each a
// full pass plus tfjs's per-kernel dispatch (bench --profile). Here each chain is one native pass
// forward and one backward (native/src/sgemm.cc, Fused), registered as wasm kernels and wrapped
// in tf.customGrad, so the tape holds one node per chain:
//   Bernoulli log-likelihood  sum_j x l - softplus(l)           (was Mul, Softplus, Sub, Sum + 6 backward)
//   closed-form KL to N(0,I)  1/2 (mu^2 + e^lv - (lv + 1))      (was Square, Exp, Add, Add, Sub, Mul + 9 backward)
//   reparameterization        mu + e^(lv/2) eps                 (was Mul, Exp, Mul, Add + 5 backward)
//   ReLU gradient             dy * step(x)                      (was Step, Cast, Mul)
//   log N(z; 0, I), log N(z; mu, e^lv) summed over the last axis (was 4 and 9 kernels, + backward)
// The forward chains compute the same float32 operations in the same order as the native
// element-wise kernels they replace; the gradients are tfjs's gradients of those chains. They are
// installed into the models' hook (models/fusedOps.ts) and the ReLU gradient is registered over
// tfjs's, falling back to the original formula anywhere the native kernels are not active.
// VAE_WORKBENCH_FUSED=off switches all of them (and the fused gradient norm) off.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { setFusedOps, type FusedOps } from '../../models/fusedOps';
import type { SgemmAddon } from './addon';
import { activeMatMulKernels, heapOf, offsetOf } from './kernels';
import { switchedOff } from '../../api/envSwitch';

type TensorInfo = tf.TensorInfo;
type CustomGradientFunc = Parameters<typeof tf.customGrad>[0];
type KernelArgs = { inputs: Record<string, TensorInfo>; backend: BackendWasm; attrs: Record<string, unknown> };

const BACKEND = 'wasm';
const FUSED_ENV = 'VAE_WORKBENCH_FUSED';
/** native/src/sgemm.cc, Fused: the op numbers of the chains. */
export const FUSED_OP = {
  bernoulli: 0,
  bernoulliGrad: 1,
  kl: 2,
  klGrad: 3,
  reparam: 4,
  reparamGrad: 5,
  reluGrad: 6,
  logStdNormal: 7,
  logStdNormalGrad: 8,
  logNormalDiag: 9,
  logNormalDiagGrad: 10,
} as const;
export const FUSED_KERNELS = {
  bernoulli: 'VaeFusedBernoulli',
  bernoulliGrad: 'VaeFusedBernoulliGrad',
  kl: 'VaeFusedKl',
  klGrad: 'VaeFusedKlGrad',
  reparam: 'VaeFusedReparam',
  reparamGrad: 'VaeFusedReparamGrad',
  reluGrad: 'VaeFusedReluGrad',
  logStdNormal: 'VaeFusedLogStdNormal',
  logStdNormalGrad: 'VaeFusedLogStdNormalGrad',
  logNormalDiag: 'VaeFusedLogNormalDiag',
  logNormalDiagGrad: 'VaeFusedLogNormalDiagGrad',
} as const;

/** False when VAE_WORKBENCH_FUSED is off/0/false/no: the chains run as tfjs ops. */
export function fusedKernelsEnabled(): boolean {
  return !switchedOff(process.env[FUSED_ENV]);
}

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

function registerKernels(addon: SgemmAddon): void {
  const fused = addon.fused!.bind(addon);
  const define = (name: string, kernelFunc: (args: KernelArgs) => TensorInfo | TensorInfo[]) => {
    if (tf.getKernel(name, BACKEND)) tf.unregisterKernel(name, BACKEND);
    tf.registerKernel({ kernelName: name, backendName: BACKEND, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  };
  define(FUSED_KERNELS.bernoulli, ({ inputs: { x, logits }, backend }) => {
    const cols = x.shape[x.shape.length - 1];
    const rowsShape = x.shape.slice(0, -1);
    const out = backend.makeOutput(rowsShape, 'float32');
    fused(
      heapOf(backend),
      FUSED_OP.bernoulli,
      offsetOf(backend, x),
      offsetOf(backend, logits),
      sizeOf(rowsShape),
      cols,
      offsetOf(backend, out),
    );
    return out;
  });
  define(FUSED_KERNELS.bernoulliGrad, ({ inputs: { dy, x, logits }, backend }) => {
    const cols = x.shape[x.shape.length - 1];
    const dx = backend.makeOutput(x.shape, 'float32');
    const dl = backend.makeOutput(x.shape, 'float32');
    fused(
      heapOf(backend),
      FUSED_OP.bernoulliGrad,
      offsetOf(backend, dy),
      offsetOf(backend, x),
      offsetOf(backend, logits),
      sizeOf(x.shape) / cols,
      cols,
      offsetOf(backend, dx),
      offsetOf(backend, dl),
    );
    return [dx, dl];
  });
  define(FUSED_KERNELS.kl, ({ inputs: { mu, logVar }, backend }) => {
    const out = backend.makeOutput(mu.shape, 'float32');
    fused(
      heapOf(backend),
      FUSED_OP.kl,
      offsetOf(backend, mu),
      offsetOf(backend, logVar),
      sizeOf(mu.shape),
      offsetOf(backend, out),
    );
    return out;
  });
  define(FUSED_KERNELS.klGrad, ({ inputs: { dy, mu, logVar }, backend }) => {
    const dmu = backend.makeOutput(mu.shape, 'float32');
    const dlv = backend.makeOutput(mu.shape, 'float32');
    fused(
      heapOf(backend),
      FUSED_OP.klGrad,
      offsetOf(backend, dy),
      offsetOf(backend, mu),
      offsetOf(backend, logVar),
      sizeOf(mu.shape),
      offsetOf(backend, dmu),
      offsetOf(backend, dlv),
    );
    return [dmu, dlv];
  });
  define(FUSED_KERNELS.reparam, ({ inputs: { mu, logVar, eps }, backend }) => {
    const z = backend.makeOutput(mu.shape, 'float32');
    fused(
      heapOf(backend),
      FUSED_OP.reparam,
      offsetOf(backend, mu),
      offsetOf(backend, logVar),
      offsetOf(backend, eps),
      sizeOf(mu.shape),
      offsetOf(backend, z),
    );
    return z;
  });
  define(FUSED_KERNELS.reparamGrad, ({ inputs: { dz, logVar, eps }, backend }) => {
    const dlv = backend.makeOutput(dz.shape, 'float32');
    const deps = backend.makeOutput(dz.shape, 'float32');
    fused(
      heapOf(backend),
      FUSED_OP.reparamGrad,
      offsetOf(backend, dz),
      offsetOf(backend, logVar),
      offsetOf(backend, eps),
      sizeOf(dz.shape),
      offsetOf(backend, dlv),
      offsetOf(backend, deps),
    );
    return [dlv, deps];
  });
  const lastAxis = (t: TensorInfo) => ({ rows: sizeOf(t.shape.slice(0, -1)), cols: t.shape[t.shape.length - 1] });
  define(FUSED_KERNELS.logStdNormal, ({ inputs: { z }, backend }) => {
    const { rows, cols } = lastAxis(z);
    const out = backend.makeOutput(z.shape.slice(0, -1), 'float32');
    fused(heapOf(backend), FUSED_OP.logStdNormal, offsetOf(backend, z), rows, cols, offsetOf(backend, out));
    return out;
  });
  define(FUSED_KERNELS.logStdNormalGrad, ({ inputs: { dy, z }, backend }) => {
    const { rows, cols } = lastAxis(z);
    const dz = backend.makeOutput(z.shape, 'float32');
    fused(
      heapOf(backend),
      FUSED_OP.logStdNormalGrad,
      offsetOf(backend, dy),
      offsetOf(backend, z),
      rows,
      cols,
      offsetOf(backend, dz),
    );
    return dz;
  });
  define(FUSED_KERNELS.logNormalDiag, ({ inputs: { z, mu, logVar }, backend }) => {
    const { rows, cols } = lastAxis(z);
    const out = backend.makeOutput(z.shape.slice(0, -1), 'float32');
    fused(
      heapOf(backend),
      FUSED_OP.logNormalDiag,
      offsetOf(backend, z),
      offsetOf(backend, mu),
      offsetOf(backend, logVar),
      rows,
      cols,
      offsetOf(backend, out),
    );
    return out;
  });
  define(FUSED_KERNELS.logNormalDiagGrad, ({ inputs: { dy, z, mu, logVar }, backend }) => {
    const { rows, cols } = lastAxis(z);
    const dz = backend.makeOutput(z.shape, 'float32');
    const dmu = backend.makeOutput(z.shape, 'float32');
    const dlv = backend.makeOutput(z.shape, 'float32');
    fused(
      heapOf(backend),
      FUSED_OP.logNormalDiagGrad,
      offsetOf(backend, dy),
      offsetOf(backend, z),
      offsetOf(backend, mu),
      offsetOf(backend, logVar),
      rows,
      cols,
      offsetOf(backend, dz),
      offsetOf(backend, dmu),
      offsetOf(backend, dlv),
    );
    return [dz, dmu, dlv];
  });
  define(FUSED_KERNELS.reluGrad, ({ inputs: { dy, x }, backend }) => {
    const dx = backend.makeOutput(x.shape, 'float32');
    fused(
      heapOf(backend),
      FUSED_OP.reluGrad,
      offsetOf(backend, dy),
      offsetOf(backend, x),
      sizeOf(x.shape),
      offsetOf(backend, dx),
    );
    return dx;
  });
}

/** Whether the fused kernels can run on these tensors here and now. */
function usable(...tensors: tf.Tensor[]): boolean {
  if (!fusedKernelsEnabled() || tf.getBackend() !== BACKEND || activeMatMulKernels() !== 'native-sgemm') return false;
  if (!tf.getKernel(FUSED_KERNELS.bernoulli, BACKEND)) return false;
  const shape = tensors[0].shape;
  return tensors.every((t) => t.dtype === 'float32' && tf.util.arraysEqual(t.shape, shape)) && sizeOf(shape) > 0;
}

const run = (name: string, inputs: tf.NamedTensorMap) =>
  tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, {}) as tf.Tensor | tf.Tensor[];

const bernoulli = tf.customGrad(((x: tf.Tensor, logits: tf.Tensor, save: tf.GradSaveFunc) => {
  save([x, logits]);
  return {
    value: run(FUSED_KERNELS.bernoulli, { x, logits }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      run(FUSED_KERNELS.bernoulliGrad, { dy, x: saved[0], logits: saved[1] }) as tf.Tensor[],
  };
}) as unknown as CustomGradientFunc);

const kl = tf.customGrad(((mu: tf.Tensor, logVar: tf.Tensor, save: tf.GradSaveFunc) => {
  save([mu, logVar]);
  return {
    value: run(FUSED_KERNELS.kl, { mu, logVar }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      run(FUSED_KERNELS.klGrad, { dy, mu: saved[0], logVar: saved[1] }) as tf.Tensor[],
  };
}) as unknown as CustomGradientFunc);

const reparam = tf.customGrad(((mu: tf.Tensor, logVar: tf.Tensor, eps: tf.Tensor, save: tf.GradSaveFunc) => {
  save([logVar, eps]);
  return {
    value: run(FUSED_KERNELS.reparam, { mu, logVar, eps }) as tf.Tensor,
    gradFunc: (dz: tf.Tensor, saved: tf.Tensor[]) => {
      const [dlv, deps] = run(FUSED_KERNELS.reparamGrad, { dz, logVar: saved[0], eps: saved[1] }) as tf.Tensor[];
      // d/dmu is dz itself; a copy, since the tape disposes each gradient it is handed.
      return [tf.clone(dz), dlv, deps];
    },
  };
}) as unknown as CustomGradientFunc);

const logStdNormal = tf.customGrad(((z: tf.Tensor, save: tf.GradSaveFunc) => {
  save([z]);
  return {
    value: run(FUSED_KERNELS.logStdNormal, { z }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
      run(FUSED_KERNELS.logStdNormalGrad, { dy, z: saved[0] }) as tf.Tensor,
    ],
  };
}) as unknown as CustomGradientFunc);

const logNormalDiag = tf.customGrad(((z: tf.Tensor, mu: tf.Tensor, logVar: tf.Tensor, save: tf.GradSaveFunc) => {
  save([z, mu, logVar]);
  return {
    value: run(FUSED_KERNELS.logNormalDiag, { z, mu, logVar }) as tf.Tensor,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
      run(FUSED_KERNELS.logNormalDiagGrad, { dy, z: saved[0], mu: saved[1], logVar: saved[2] }) as tf.Tensor[],
  };
}) as unknown as CustomGradientFunc);

const OPS: FusedOps = {
  logStandardNormal: (z) => (usable(z) && z.rank >= 1 ? logStdNormal(z) : null),
  logNormalDiag: (z, mu, logVar) =>
    typeof logVar !== 'number' && usable(z, mu, logVar) && z.rank >= 1 ? logNormalDiag(z, mu, logVar) : null,
  bernoulliLogLikelihood: (x, logits) => (usable(x, logits) && x.rank >= 1 ? bernoulli(x, logits) : null),
  klStandardNormalPerDim: (mu, logVar) => (usable(mu, logVar) ? kl(mu, logVar) : null),
  reparameterize: (mu, logVar, eps) => (usable(mu, logVar, eps) ? reparam(mu, logVar, eps) : null),
};

let originalReluGrad: tf.GradConfig | null = null;

/** tfjs's ReLU gradient, dy * step(x), as one native pass where the fused kernels run. */
function installReluGradient(): void {
  originalReluGrad ??= tf.getGradient('Relu') ?? null;
  const original = originalReluGrad;
  tf.registerGradient({
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const dyTensor = dy as tf.Tensor;
      const [x] = saved;
      if (usable(dyTensor, x)) return { x: () => run(FUSED_KERNELS.reluGrad, { dy: dyTensor, x }) as tf.Tensor };
      if (original) return original.gradFunc(dy, saved, attrs);
      return { x: () => tf.mul(dyTensor, tf.cast(tf.step(x), 'float32')) };
    },
  });
}

/**
 * Registers the fused kernels for this thread's wasm backend and installs the chains into the
 * models' hook (addon builds without `fused` change nothing). Safe to call more than once; each op
 * checks at call time that the native kernels are active and VAE_WORKBENCH_FUSED is not off.
 */
export function installFusedOps(addon: SgemmAddon): boolean {
  if (typeof addon.fused !== 'function') return false;
  registerKernels(addon);
  installReluGradient();
  setFusedOps(OPS);
  return true;
}
