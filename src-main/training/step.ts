// One optimizer step of a VAE: the loss terms, their gradients, the gradient norm and Adam's
// update, read back in a single transfer. The trainer and the benchmark both run exactly this.
import * as tf from '@tensorflow/tfjs';
import type { LossOptions, VaeModel } from '../models/types';
import { fusedGradientSquares, fusedMlpStep } from './accelerate';

/**
 * Returns [loss, elbo, recon, kl, gradNorm, ...klPerLayer, ...klPerDim] for the batch `pixels`
 * ([count, D] in [0,1]); one GPU/wasm-to-JS sync per step.
 */
export function trainStep(...args: StepArgs): number[] {
  // The ReLU MLP VAE on wasm + native sgemm: the whole step in one native pass (accelerate/mlpStep.ts).
  const fused = fusedMlpStep(...args);
  if (fused !== null) return fused;
  const packed = stepTensor(...args);
  const values = Array.from(packed.dataSync());
  packed.dispose();
  return values;
}

/** The same step, read back asynchronously: the webgpu backend has no synchronous read in Node. */
export async function trainStepAsync(...args: StepArgs): Promise<number[]> {
  const fused = fusedMlpStep(...args);
  if (fused !== null) return fused;
  const packed = stepTensor(...args);
  try {
    return Array.from(await packed.data());
  } finally {
    packed.dispose();
  }
}

/** What one step takes: the model, its optimizer and variables, a batch of `count` examples, the loss options. */
export type StepArgs = [
  model: VaeModel,
  optimizer: tf.Optimizer,
  variables: tf.Variable[],
  pixels: Float32Array,
  count: number,
  options: LossOptions,
];

function stepTensor(...[model, optimizer, variables, pixels, count, options]: StepArgs): tf.Tensor {
  const inputDim = pixels.length / count;
  const packed = tf.tidy(() => {
    const x = tf.tensor2d(pixels, [count, inputDim]);
    let kept: tf.Tensor[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const terms = model.lossTerms(x, options);
      kept = [terms.elbo, terms.recon, terms.kl, ...terms.klPerLayer, terms.klPerDim].map((tensor) => tf.keep(tensor));
      return terms.loss;
    }, variables);
    optimizer.applyGradients(grads as unknown as Parameters<typeof optimizer.applyGradients>[0]);
    // Global gradient norm: sqrt(sum over every variable of sum(g^2)), read by the fused native Adam
    // in its own pass when it ran (accelerate/adam.ts), else computed here (Adam leaves g as it was).
    const squares = fusedGradientSquares(optimizer);
    const gradNorm =
      squares !== null
        ? tf.scalar(Math.sqrt(squares))
        : tf.sqrt(tf.addN(variables.map((v) => tf.sum(tf.square(grads[v.name])))));
    const [elbo, recon, kl, ...perLayerAndDims] = kept;
    const perDim = perLayerAndDims.pop() as tf.Tensor;
    return tf.concat([
      tf.stack([value, elbo, recon, kl, gradNorm, ...perLayerAndDims]).reshape([-1]),
      perDim.reshape([-1]),
    ]);
  });
  return packed;
}
