// The whole optimizer step of the common case, the ReLU MLP VAE with a Bernoulli decoder trained
// on the ELBO, as one pass over the wasm heap: forward, backward and the fused Adam, with no tfjs
// tape and no per-op dispatch.
//
// bench --profile showed that, with the products in native sgemm and the element-wise chains
// fused (fused.ts), a third of the step was still tfjs itself: the tape recording ~150 kernels
// forward and backward, their dispatch, and the bookkeeping of every intermediate tensor. Here the
// same arithmetic runs through the same native kernels (sgemm with bias and ReLU, the fused
// Bernoulli, KL and reparameterization chains and their gradients, column sums), called directly
// on buffers allocated once per step, so only the products and a few element-wise passes remain.
//
// The gradients are those tfjs's autodiff computes for the same graph (models/vae/index.ts,
// objective.ts): loss = mean_b -log p(x_b|z_b) + klWeight * sum_j max(freeBits, mean_b KL_bj)
// (free bits per dimension, or per layer, or off), with z = mu + exp(logVar/2) * eps and eps the
// model's own noise stream, so a run's figures agree with the tfjs path to float32 rounding
// (tests/unit/accelerate/mlpStep.test.ts holds them to 1e-5 over many steps). Runs replay bit for
// bit because every step of a run takes the same path. Anything else (another model, posterior,
// likelihood, activation, objective, controlled capacity, backend) returns null and the caller
// runs the tfjs step. VAE_WORKBENCH_FUSED_STEP=off (or VAE_WORKBENCH_FUSED=off) switches it off.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { LossOptions, VaeModel } from '../../models/types';
import { capacityOf } from '../../api/modelReads';
import type { StepArgs } from '../step';
import { standardNormalValues } from '../../models/noise';
import { layerNoiseSeed } from '../../models/vae';
import { loadSgemmAddon, type SgemmAddon } from './addon';
import { FusedAdamOptimizer, fusedGradientSquares } from './adam';
import { FUSED_OP, fusedKernelsEnabled } from './fused';
import { ACTIVATION_CODES, activeMatMulKernels, heapOf, offsetOf } from './kernels';
import { switchedOff } from '../../api/envSwitch';

const STEP_ENV = 'VAE_WORKBENCH_FUSED_STEP';
/** The wasm backend's FusableActivation codes (native/src/sgemm.cc, Activate). */
const { relu: RELU, linear: LINEAR } = ACTIVATION_CODES;

/** False when VAE_WORKBENCH_FUSED_STEP (or VAE_WORKBENCH_FUSED) is off/0/false/no. */
function fusedStepEnabled(): boolean {
  return fusedKernelsEnabled() && !switchedOff(process.env[STEP_ENV]);
}

interface DenseLayer {
  kernel: tf.Variable;
  bias: tf.Variable;
  inputs: number;
  units: number;
  relu: boolean;
}

interface Plan {
  encoder: DenseLayer[];
  decoder: DenseLayer[];
  latent: number;
  inputDim: number;
  /** The variables the step updates (every layer's kernel and bias), by name. */
  variableNames: Set<string>;
}

const plans = new WeakMap<VaeModel, Plan | null>();

type LayerLike = tf.layers.Layer & { getClassName(): string };

/** A Sequential of [Dense (linear, with bias) -> ReLU]... -> Dense (linear): its dense layers, else null. */
function denseChain(net: tf.LayersModel | undefined): DenseLayer[] | null {
  if (!net) return null;
  const layers = net.layers as LayerLike[];
  const out: DenseLayer[] = [];
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i];
    if (layer.getClassName() !== 'Dense') return null;
    const config = layer.getConfig() as { activation?: string; useBias?: boolean };
    if (config.activation !== 'linear' || config.useBias === false) return null;
    const weights = layer.trainableWeights;
    if (weights.length !== 2) return null;
    const kernel = weights[0].read() as tf.Variable;
    const bias = weights[1].read() as tf.Variable;
    if (kernel.rank !== 2 || bias.rank !== 1 || kernel.dtype !== 'float32') return null;
    const next = layers[i + 1];
    let relu = false;
    if (next !== undefined) {
      if (next.getClassName() !== 'Activation') return null;
      if ((next.getConfig() as { activation?: string }).activation !== 'relu') return null;
      relu = true;
      i++;
    }
    const [inputs, units] = kernel.shape as [number, number];
    out.push({ kernel, bias, inputs, units, relu });
  }
  // Every layer but the last ends in the ReLU; the last is the linear head.
  if (out.length === 0 || out[out.length - 1].relu || out.slice(0, -1).some((l) => !l.relu)) return null;
  for (let j = 1; j < out.length; j++) if (out[j].inputs !== out[j - 1].units) return null;
  return out;
}

/** The step's layout for `model`, or null when the model is not the case this step computes. */
function planFor(model: VaeModel): Plan | null {
  const cached = plans.get(model);
  if (cached !== undefined) return cached;
  let plan: Plan | null = null;
  const c = model.config;
  const applies =
    (c.kind === 'vae' || c.kind === 'beta-vae') &&
    c.architecture === 'mlp' &&
    c.activation === 'relu' &&
    c.likelihood === 'bernoulli' &&
    c.posterior === 'gaussian' &&
    capacityOf(c) === null &&
    model.latentDims.length === 1;
  if (applies) {
    const nets = model.networks();
    const names = Object.keys(nets).sort().join(',');
    const encoder = denseChain(nets.encoder);
    const decoder = denseChain(nets.decoder);
    const latent = model.latentDims[0];
    const inputDim = model.inputShape[0] * model.inputShape[1] * model.inputShape[2];
    if (
      names === 'decoder,encoder' &&
      encoder &&
      decoder &&
      encoder[0].inputs === inputDim &&
      encoder[encoder.length - 1].units === 2 * latent &&
      decoder[0].inputs === latent &&
      decoder[decoder.length - 1].units === inputDim
    )
      plan = {
        encoder,
        decoder,
        latent,
        inputDim,
        variableNames: new Set([...encoder, ...decoder].flatMap((l) => [l.kernel.name, l.bias.name])),
      };
  }
  plans.set(model, plan);
  return plan;
}

function addonForStep(): SgemmAddon | null {
  if (tf.getBackend() !== 'wasm' || activeMatMulKernels() !== 'native-sgemm') return null;
  const { addon } = loadSgemmAddon();
  return addon && typeof addon.fused === 'function' ? addon : null;
}

/** The plan and addon of a fused step for this model, options and backend; null when it does not apply. */
function stepSetup(
  model: VaeModel,
  optimizer: tf.Optimizer,
  options: LossOptions,
): { plan: Plan; addon: SgemmAddon } | null {
  if (!fusedStepEnabled() || options.objective !== 'elbo' || options.capacity !== null) return null;
  if (!(optimizer instanceof FusedAdamOptimizer)) return null;
  const addon = addonForStep();
  const plan = addon && planFor(model);
  return addon && plan ? { plan, addon } : null;
}

/** True when fusedMlpStep computes this model's step with these options on this thread's backend. */
export function fusedMlpStepApplies(model: VaeModel, optimizer: tf.Optimizer, options: LossOptions): boolean {
  return stepSetup(model, optimizer, options) !== null;
}

/**
 * The matrix products one fused step runs for a batch of `count` (bench --profile times them
 * against the sgemm limit), as [m x k] . [k x n] with transposes; null when the step does not apply.
 */
export function fusedStepProducts(
  model: VaeModel,
  count: number,
): { m: number; n: number; k: number; transposeA: boolean; transposeB: boolean }[] | null {
  const plan = planFor(model);
  if (!plan) return null;
  const layers = [...plan.encoder, ...plan.decoder];
  const out = layers.flatMap((l) => [
    { m: count, n: l.units, k: l.inputs, transposeA: false, transposeB: false }, // forward
    { m: l.inputs, n: l.units, k: count, transposeA: true, transposeB: false }, // dW
  ]);
  // d input of every layer but the encoder's first (whose input is the data).
  layers.slice(1).forEach((l) => out.push({ m: count, n: l.inputs, k: l.units, transposeA: false, transposeB: true }));
  return out;
}

/**
 * One step of the fused path: returns trainStep's vector [loss, elbo, recon, kl, gradNorm, klLayer,
 * ...klPerDim] after Adam updated the variables, or null (having changed nothing) when it does not apply.
 */
export function fusedMlpStep(...[model, optimizer, variables, pixels, count, options]: StepArgs): number[] | null {
  const setup = stepSetup(model, optimizer, options);
  if (!setup) return null;
  const { plan, addon } = setup;
  const layers = [...plan.encoder, ...plan.decoder];
  // The optimizer must update exactly the model's variables, each once.
  const own = plan.variableNames;
  if (variables.length !== own.size || variables.some((v) => !own.has(v.name))) return null;

  const backend = tf.backend() as unknown as BackendWasm;
  const B = count;
  const d = plan.latent;
  const D = plan.inputDim;
  if (pixels.length !== B * D) throw new Error(`fused step: ${pixels.length} pixels for ${B} x ${D}`);
  const infos: tf.TensorInfo[] = [];
  const allocShaped = (shape: number[]): tf.TensorInfo => {
    const info = backend.makeOutput(shape, 'float32');
    infos.push(info);
    return info;
  };
  const alloc = (floats: number) => allocShaped([Math.max(1, floats)]);
  try {
    // Every buffer first: an allocation may grow the heap, which replaces its ArrayBuffer.
    const x = alloc(B * D);
    const acts = layers.map((l) => alloc(B * l.units)); // each layer's output (after ReLU where it has one)
    const mu = alloc(B * d);
    const logVar = alloc(B * d);
    const eps = alloc(B * d);
    const z = alloc(B * d);
    const logLik = alloc(B);
    const klElem = alloc(B * d);
    const rowGrad = alloc(B);
    const widest = Math.max(D, 2 * d, ...layers.map((l) => l.units));
    const dyA = alloc(B * widest);
    const dyB = alloc(B * widest);
    const dZ = alloc(B * d);
    const dKlElem = alloc(B * d);
    const dKlMu = alloc(B * d);
    const dKlLogVar = alloc(B * d);
    const dLogVarReparam = alloc(B * d);
    const grads = layers.map((l) => ({ kernel: allocShaped(l.kernel.shape), bias: allocShaped(l.bias.shape) }));
    const heap = heapOf(backend);
    const at = (t: tf.TensorInfo): number => offsetOf(backend, t);
    const view = (t: tf.TensorInfo, floats: number) => new Float32Array(heap, at(t), floats);
    const fused = (op: number, ...args: number[]) => addon.fused!(heap, op, ...args);
    const gemm = (
      a: number,
      b: number,
      c: number,
      m: number,
      n: number,
      k: number,
      ta: number,
      tb: number,
      bias = -1,
      biasSize = 0,
      activation = LINEAR,
    ) => addon.gemm(heap, a, b, c, 1, 1, 1, m, n, k, ta, tb, bias, biasSize, activation, 0);

    view(x, B * D).set(pixels);
    // eps: the VAE's noise stream of layer 0 at sample offset 0.
    view(eps, B * d).set(standardNormalValues(B * d, layerNoiseSeed(options.seed, 0), 0));

    // ---- forward: encoder, split head, reparameterize, decoder ----
    const forward = (first: number, last: number, input: tf.TensorInfo) => {
      let inOff = at(input);
      for (let j = first; j <= last; j++) {
        const l = layers[j];
        gemm(inOff, at(l.kernel), at(acts[j]), B, l.units, l.inputs, 0, 0, at(l.bias), l.units, l.relu ? RELU : LINEAR);
        inOff = at(acts[j]);
      }
    };
    const nEnc = plan.encoder.length;
    forward(0, nEnc - 1, x);
    const head = view(acts[nEnc - 1], B * 2 * d); // [mu | logVar] per row (networks.ts, splitHead)
    const muV = view(mu, B * d);
    const lvV = view(logVar, B * d);
    for (let b = 0; b < B; b++) {
      muV.set(head.subarray(b * 2 * d, b * 2 * d + d), b * d);
      lvV.set(head.subarray(b * 2 * d + d, (b + 1) * 2 * d), b * d);
    }
    fused(FUSED_OP.reparam, at(mu), at(logVar), at(eps), B * d, at(z));
    forward(nEnc, layers.length - 1, z);
    const logits = acts[layers.length - 1];

    // ---- the loss terms ----
    fused(FUSED_OP.bernoulli, at(x), at(logits), B, D, at(logLik));
    fused(FUSED_OP.kl, at(mu), at(logVar), B * d, at(klElem));
    const logLikV = view(logLik, B);
    const klV = view(klElem, B * d);
    const f = Math.fround;
    let logLikSum = 0;
    for (let b = 0; b < B; b++) logLikSum += logLikV[b];
    const recon = f(-logLikSum / B);
    const klPerDim = new Array<number>(d).fill(0);
    for (let b = 0; b < B; b++) for (let j = 0; j < d; j++) klPerDim[j] += klV[b * d + j];
    for (let j = 0; j < d; j++) klPerDim[j] = f(klPerDim[j] / B);
    const kl = klPerDim.reduce((a, b) => a + b, 0);
    const { klWeight, freeBits } = options;
    let penalised = kl;
    // d loss / d (batch-mean KL of dimension j): klWeight where its group is at or above the floor
    // (tf.maximum passes the gradient to its first argument on ties, as here).
    const dimWeight = new Array<number>(d).fill(klWeight);
    if (freeBits > 0) {
      if ((options.freeBitsPer ?? 'dimension') === 'layer') {
        penalised = Math.max(kl, freeBits);
        if (!(kl >= freeBits)) dimWeight.fill(0);
      } else {
        penalised = 0;
        for (let j = 0; j < d; j++) {
          penalised += Math.max(klPerDim[j], freeBits);
          if (!(klPerDim[j] >= freeBits)) dimWeight[j] = 0;
        }
      }
    }
    const loss = recon + klWeight * penalised;

    // ---- backward ----
    // Through dense layers last..first: `cur` holds d loss / d (layer j's pre-activation).
    const backward = (
      first: number,
      last: number,
      input: tf.TensorInfo,
      cur: tf.TensorInfo,
      dInput: tf.TensorInfo | null,
    ) => {
      const spare = cur === dyA ? dyB : dyA;
      for (let j = last; j >= first; j--) {
        const l = layers[j];
        const inOff = j === first ? at(input) : at(acts[j - 1]);
        gemm(inOff, at(cur), at(grads[j].kernel), l.inputs, l.units, B, 1, 0); // dW = in^T dy
        addon.sum(heap, at(cur), B, l.units, at(grads[j].bias), 0); // db = column sums of dy
        if (j > first) {
          gemm(at(cur), at(l.kernel), at(spare), B, l.inputs, l.units, 0, 1); // d in = dy W^T
          fused(FUSED_OP.reluGrad, at(spare), at(acts[j - 1]), B * l.inputs, at(cur)); // through the ReLU
        } else if (dInput !== null) {
          gemm(at(cur), at(l.kernel), at(dInput), B, l.inputs, l.units, 0, 1);
        }
      }
    };
    // d loss / d log p(x_b|z_b) = -1/B; the Bernoulli chain's gradient gives d loss / d logits.
    view(rowGrad, B).fill(-1 / B);
    fused(FUSED_OP.bernoulliGrad, at(rowGrad), at(x), at(logits), B, D, -1, at(dyA));
    backward(nEnc, layers.length - 1, z, dyA, dZ);
    // z = mu + exp(logVar/2) eps: d mu = dz; d logVar from the reparameterization chain.
    fused(FUSED_OP.reparamGrad, at(dZ), at(logVar), at(eps), B * d, at(dLogVarReparam), -1);
    // The KL: d loss / d KL_bj = dimWeight_j / B; its chain's gradient adds to d mu and d logVar.
    const dKlV = view(dKlElem, B * d);
    for (let b = 0; b < B; b++) for (let j = 0; j < d; j++) dKlV[b * d + j] = dimWeight[j] / B;
    fused(FUSED_OP.klGrad, at(dKlElem), at(mu), at(logVar), B * d, at(dKlMu), at(dKlLogVar));
    // d head = [d mu | d logVar] per row, into dyA (the encoder's head gradient).
    const dHead = view(dyA, B * 2 * d);
    const dZV = view(dZ, B * d);
    const dKlMuV = view(dKlMu, B * d);
    const dKlLvV = view(dKlLogVar, B * d);
    const dLvReV = view(dLogVarReparam, B * d);
    for (let b = 0; b < B; b++)
      for (let j = 0; j < d; j++) {
        dHead[b * 2 * d + j] = dZV[b * d + j] + dKlMuV[b * d + j];
        dHead[b * 2 * d + d + j] = dLvReV[b * d + j] + dKlLvV[b * d + j];
      }
    backward(0, nEnc - 1, x, dyA, null);

    // ---- Adam on the gradients, fused (it reads sum g^2 for the norm in the same pass) ----
    // In the order of `variables`, as tf.variableGrads gives them: Adam's slots follow that order.
    const gradOf = new Map<string, tf.TensorInfo>();
    layers.forEach((l, j) => {
      gradOf.set(l.kernel.name, grads[j].kernel);
      gradOf.set(l.bias.name, grads[j].bias);
    });
    const named: tf.NamedTensorMap = {};
    for (const variable of variables) {
      const info = gradOf.get(variable.name)!;
      infos.splice(infos.indexOf(info), 1); // owned by its tensor from here
      named[variable.name] = tf.engine().makeTensorFromTensorInfo(info);
    }
    try {
      optimizer.applyGradients(named);
    } finally {
      tf.dispose(Object.values(named));
    }
    const gradNorm = Math.sqrt(fusedGradientSquares(optimizer) ?? NaN);
    const elbo = -(recon + kl); // elbo = E_q[log p(x|z)] - KL
    return [loss, elbo, recon, kl, gradNorm, kl, ...klPerDim].map(f);
  } finally {
    for (const info of infos) backend.disposeData(info.dataId);
  }
}
