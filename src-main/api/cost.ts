// What a run config costs in memory, estimated before anything is stored or trained. Each field of
// a config may be in range while the whole is not (hidden 4096,4096, latent 512, batch 4096, IWAE
// with 256 samples asks for ~100 GB of activations at step 0), so the product is checked once, at
// the boundary, against a documented budget. Pure: no tfjs, no I/O.
import type { RunConfig } from './config';
import { CODE_PRIOR_SUCCESSORS } from './constants';
import { latentSizesOf } from './modelReads';

/**
 * The memory budget of one run: 2 GiB. A config whose estimate is larger is refused with the
 * estimate in the message. The estimate is an upper-end guess, not an exact count (tfjs keeps a few
 * intermediates per layer); it is meant to separate "trains on a laptop" from "cannot".
 */
export const RUN_MEMORY_BUDGET_BYTES = 2 * 1024 ** 3;

/** Input shapes of the built-in data sets (mnist and fashion-mnist 28x28, shapes 32x32 by default). */
export const BUILTIN_INPUT_SHAPES: Record<string, [number, number, number]> = {
  mnist: [28, 28, 1],
  'fashion-mnist': [28, 28, 1],
  shapes: [32, 32, 1],
};
/** Assumed for a data set whose shape is not known yet (checked again once it is loaded). */
const ASSUMED_INPUT_SHAPE: [number, number, number] = [28, 28, 1];

/** The IWAE evaluation's working set per call, as in trainer.ts: 50 examples x chunk samples. */
const EVAL_EXAMPLES_PER_CALL = 50;
const EVAL_OUTPUT_VALUES = 2_000_000;
/** Bytes per float32 value. */
const F32 = 4;
/** Adam keeps, per parameter: the weight, its gradient, and two moments. */
const BYTES_PER_PARAMETER = 4 * F32;
/** Per activation value: the forward value, the pre-activation kept for backprop, and its gradient. */
const BYTES_PER_ACTIVATION = 3 * F32;

export interface RunCost {
  parameters: number;
  /** Activation values of one training step (encoder rows = batch, decoder rows = batch x samples). */
  trainActivations: number;
  /** Activation values of one IWAE evaluation call. */
  evalActivations: number;
  /** The larger of training and evaluation, in bytes, parameters and optimizer state included. */
  bytes: number;
  inputShape: [number, number, number];
}

export function inputShapeOf(dataset: string): [number, number, number] {
  return BUILTIN_INPUT_SHAPES[dataset] ?? ASSUMED_INPUT_SHAPE;
}

function dense(widths: number[]): number {
  let parameters = 0;
  for (let i = 1; i < widths.length; i++) parameters += widths[i - 1] * widths[i] + widths[i];
  return parameters;
}

/** Parameters and per-row activation widths of the encoder and decoder(s) the config builds. */
function networkSize(config: RunConfig, inputShape: [number, number, number]) {
  const { model } = config;
  const [h, w, c] = inputShape;
  const d = h * w * c;
  const latents = latentSizesOf(model);
  const latent = latents.reduce((a, b) => a + b, 0);
  const hidden = model.hidden;
  let parameters: number;
  let encoderWidth: number;
  let decoderWidth: number;
  if (model.architecture === 'conv') {
    const grid2 = (h / 2) * (w / 2) * 32;
    const grid4 = (h / 4) * (w / 4) * 64;
    // conv 4x4 c->32, conv 4x4 32->64; deconv 4x4 64->32, deconv 4x4 32->c (kernels + biases).
    const convParameters = 16 * c * 32 + 32 + 16 * 32 * 64 + 64 + (16 * 64 * 32 + 32) + (16 * 32 * c + c);
    parameters =
      convParameters + dense([grid4, ...hidden, 2 * latent]) + dense([latent, ...[...hidden].reverse(), grid4]);
    encoderWidth = d + grid2 + grid4 + hidden.reduce((a, b) => a + b, 0) + 2 * latent;
    decoderWidth = latent + hidden.reduce((a, b) => a + b, 0) + grid4 + grid2 + d;
  } else {
    parameters = dense([d, ...hidden, 2 * latent]) + dense([latent, ...[...hidden].reverse(), d]);
    encoderWidth = d + hidden.reduce((a, b) => a + b, 0) + 2 * latent;
    decoderWidth = latent + hidden.reduce((a, b) => a + b, 0) + d;
  }
  if (model.kind === 'ladder') {
    // Top-down layers between the stochastic layers: roughly one more dense pair per layer (the
    // ladder count is within about 20% of the model's; the single-layer counts are exact).
    for (let l = 1; l < latents.length; l++) parameters += 2 * dense([latents[l], hidden[0], 2 * latents[l - 1]]);
    decoderWidth += latents.length * (hidden[0] + 2 * latent);
  }
  if (model.kind === 'vq-vae') {
    // P code positions of D values in place of the Gaussian's 2 x latentDim; the codebook [K, D],
    // its EMA state (counts, sums, steps unused), the moving-average prior [P, K] and the
    // autoregressive prior (marginal [P, K], successors 2 x [max(1, P - 1), K, T]).
    const [k, codeDim, p] = [model.codebookSize, model.codeDim, model.codePositions];
    const codes = p * codeDim;
    parameters = dense([d, ...hidden, codes]) + dense([codes, ...[...hidden].reverse(), d]);
    parameters += 2 * k * codeDim + 2 * k + 2 * p * k + 2 * Math.max(1, p - 1) * k * CODE_PRIOR_SUCCESSORS;
    encoderWidth = d + hidden.reduce((a, b) => a + b, 0) + codes + k; // + the distances to the K codes per row
    decoderWidth = codes + hidden.reduce((a, b) => a + b, 0) + d;
  }
  if (model.likelihood === 'gaussian' && model.gaussianVariance === 'learned') parameters += d;
  return { parameters, encoderWidth, decoderWidth, d };
}

/** The memory estimate of a run config on data of `inputShape` (default: the data set's known shape). */
export function estimateRunCost(config: RunConfig, inputShape = inputShapeOf(config.data.dataset)): RunCost {
  const { parameters, encoderWidth, decoderWidth, d } = networkSize(config, inputShape);
  const batch = config.train.batchSize;
  const samples = config.train.objective === 'iwae' ? config.train.objectiveSamples : 1;
  const trainActivations = batch * encoderWidth + batch * samples * decoderWidth;
  const chunk = Math.max(1, Math.min(config.eval.iwaeK, Math.floor(EVAL_OUTPUT_VALUES / (d * EVAL_EXAMPLES_PER_CALL))));
  const evalActivations = EVAL_EXAMPLES_PER_CALL * encoderWidth + EVAL_EXAMPLES_PER_CALL * chunk * decoderWidth;
  // Evaluation runs without gradients: one value per activation (plus what tfjs keeps alive meanwhile).
  const bytes =
    parameters * BYTES_PER_PARAMETER + Math.max(trainActivations * BYTES_PER_ACTIVATION, evalActivations * 2 * F32);
  return { parameters, trainActivations, evalActivations, bytes, inputShape };
}

const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(0)} MiB`;

/** Null when the config fits the budget; otherwise the reason, with the estimate, for a person to act on. */
export function costProblem(
  config: RunConfig,
  inputShape?: [number, number, number],
  budget = RUN_MEMORY_BUDGET_BYTES,
): string | null {
  const cost = estimateRunCost(config, inputShape);
  if (cost.bytes <= budget) return null;
  const samples = config.train.objective === 'iwae' ? config.train.objectiveSamples : 1;
  return (
    `the run would need about ${mib(cost.bytes)} (estimate: ${cost.parameters.toLocaleString('en-US')} parameters, ` +
    `${cost.trainActivations.toLocaleString('en-US')} activation values per step = batch ${config.train.batchSize} x ` +
    `${samples} sample(s) through layers of hidden [${config.model.hidden.join(', ')}] on ${cost.inputShape.join('x')} inputs), ` +
    `over the memory budget of ${mib(budget)}; lower train.batchSize, train.objectiveSamples or model.hidden` +
    (config.model.kind === 'vq-vae' ? ', or model.codebookSize, model.codeDim or model.codePositions' : '')
  );
}
