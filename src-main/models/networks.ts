// Builders for the deterministic networks, as tf.LayersModel so they export with model.save() in
// the TF.js Layers format. Layers get explicit names (stable weight names for checkpoints) and every
// kernel initializer a seed derived from the model seed and the layer's name (same seed, same
// weights). Encoders have ONE linear head of width 2 * latent: [mu | logVar] (see splitHead).
import * as tf from '@tensorflow/tfjs';
import type { ACTIVATIONS, ModelConfig } from '../api/config';
import { deriveSeed, hashString } from './noise';

export type Activation = (typeof ACTIVATIONS)[number];

/** Leaky ReLU slope (PyTorch's default); tfjs has no string identifier for it, so it is its own layer. */
const LEAKY_RELU_ALPHA = 0.01;

function kernelInit(seed: number, layerName: string) {
  return tf.initializers.glorotUniform({ seed: deriveSeed(seed, hashString(layerName)) });
}

function dense(name: string, units: number, seed: number, inputDim?: number): tf.layers.Layer {
  return tf.layers.dense({
    name,
    units,
    kernelInitializer: kernelInit(seed, name),
    biasInitializer: 'zeros',
    ...(inputDim !== undefined ? { inputShape: [inputDim] } : {}),
  });
}

function activationLayer(name: string, activation: Activation): tf.layers.Layer {
  return activation === 'leaky-relu'
    ? tf.layers.leakyReLU({ name, alpha: LEAKY_RELU_ALPHA })
    : tf.layers.activation({ name, activation });
}

export interface MlpSpec {
  /** Network name; layers are named `${name}_dense${j}`, `${name}_act${j}`. */
  name: string;
  inputDim: number;
  hidden: number[];
  activation: Activation;
  /** Width of the final linear layer; null for a block that ends in the last hidden activation. */
  outputDim: number | null;
  seed: number;
}

/** input -> [dense -> activation] per hidden width -> optional linear dense. */
export function buildMlp(spec: MlpSpec): tf.Sequential {
  const model = tf.sequential({ name: spec.name });
  let first = true;
  const add = (layer: tf.layers.Layer) => {
    model.add(layer);
    first = false;
  };
  spec.hidden.forEach((units, j) => {
    add(dense(`${spec.name}_dense${j}`, units, spec.seed, first ? spec.inputDim : undefined));
    add(activationLayer(`${spec.name}_act${j}`, spec.activation));
  });
  if (spec.outputDim !== null)
    add(dense(`${spec.name}_out`, spec.outputDim, spec.seed, first ? spec.inputDim : undefined));
  if (first) throw new Error(`network ${spec.name} has no layers`);
  return model;
}

/** MLP encoder x -> [mu | logVar] (width 2 * latentDim). */
export function buildMlpEncoder(
  inputDim: number,
  hidden: number[],
  activation: Activation,
  latentDim: number,
  seed: number,
  name = 'encoder',
): tf.Sequential {
  return buildMlp({ name, inputDim, hidden, activation, outputDim: 2 * latentDim, seed });
}

/** MLP decoder z -> decoder output (logits or means), hidden widths mirroring the encoder's. */
export function buildMlpDecoder(
  latentDim: number,
  hidden: number[],
  activation: Activation,
  outputDim: number,
  seed: number,
  name = 'decoder',
): tf.Sequential {
  return buildMlp({ name, inputDim: latentDim, hidden: [...hidden].reverse(), activation, outputDim, seed });
}

function checkConvShape([h, w]: [number, number, number]): void {
  if (h % 4 !== 0 || w % 4 !== 0)
    throw new Error(`the conv architecture needs height and width divisible by 4, got ${h}x${w}`);
}

/**
 * Conv encoder for flattened HxWxC images (H, W divisible by 4):
 * reshape -> conv 32 k4 s2 -> conv 64 k4 s2 -> flatten -> [dense hidden]... -> dense [mu | logVar].
 */
export function buildConvEncoder(
  inputShape: [number, number, number],
  hidden: number[],
  activation: Activation,
  latentDim: number,
  seed: number,
  name = 'encoder',
): tf.Sequential {
  checkConvShape(inputShape);
  const [h, w, c] = inputShape;
  const model = tf.sequential({ name });
  model.add(tf.layers.reshape({ name: `${name}_image`, targetShape: [h, w, c], inputShape: [h * w * c] }));
  [32, 64].forEach((filters, j) => {
    const layerName = `${name}_conv${j}`;
    model.add(
      tf.layers.conv2d({
        name: layerName,
        filters,
        kernelSize: 4,
        strides: 2,
        padding: 'same',
        kernelInitializer: kernelInit(seed, layerName),
      }),
    );
    model.add(activationLayer(`${name}_conv${j}_act`, activation));
  });
  model.add(tf.layers.flatten({ name: `${name}_flatten` }));
  hidden.forEach((units, j) => {
    model.add(dense(`${name}_dense${j}`, units, seed));
    model.add(activationLayer(`${name}_act${j}`, activation));
  });
  model.add(dense(`${name}_out`, 2 * latentDim, seed));
  return model;
}

/**
 * Conv decoder mirroring buildConvEncoder: z -> [dense hidden reversed]... -> dense (H/4 W/4 64)
 * -> reshape -> conv2dTranspose 32 k4 s2 -> conv2dTranspose C k4 s2 (linear) -> flatten.
 */
export function buildConvDecoder(
  latentDim: number,
  hidden: number[],
  activation: Activation,
  inputShape: [number, number, number],
  seed: number,
  name = 'decoder',
): tf.Sequential {
  checkConvShape(inputShape);
  const [h, w, c] = inputShape;
  const model = tf.sequential({ name });
  let first = true;
  [...hidden].reverse().forEach((units, j) => {
    model.add(dense(`${name}_dense${j}`, units, seed, first ? latentDim : undefined));
    model.add(activationLayer(`${name}_act${j}`, activation));
    first = false;
  });
  model.add(dense(`${name}_project`, (h / 4) * (w / 4) * 64, seed, first ? latentDim : undefined));
  model.add(activationLayer(`${name}_project_act`, activation));
  model.add(tf.layers.reshape({ name: `${name}_grid`, targetShape: [h / 4, w / 4, 64] }));
  const deconv = (j: number, filters: number) => {
    const layerName = `${name}_deconv${j}`;
    return tf.layers.conv2dTranspose({
      name: layerName,
      filters,
      kernelSize: 4,
      strides: 2,
      padding: 'same',
      kernelInitializer: kernelInit(seed, layerName),
    });
  };
  model.add(deconv(0, 32));
  model.add(activationLayer(`${name}_deconv0_act`, activation));
  model.add(deconv(1, c));
  model.add(tf.layers.flatten({ name: `${name}_flatten` }));
  return model;
}

/** The encoder and decoder of a single-layer model, by config.architecture. */
export function buildEncoderDecoder(
  config: ModelConfig,
  inputShape: [number, number, number],
  latentDim: number,
  seed: number,
): { encoder: tf.Sequential; decoder: tf.Sequential } {
  const dim = inputShape[0] * inputShape[1] * inputShape[2];
  if (config.architecture === 'conv') {
    return {
      encoder: buildConvEncoder(inputShape, config.hidden, config.activation, latentDim, seed),
      decoder: buildConvDecoder(latentDim, config.hidden, config.activation, inputShape, seed),
    };
  }
  return {
    encoder: buildMlpEncoder(dim, config.hidden, config.activation, latentDim, seed),
    decoder: buildMlpDecoder(latentDim, config.hidden, config.activation, dim, seed),
  };
}

/**
 * The learned per-pixel log-variance of a Gaussian likelihood, as a one-layer network (so it exports
 * with the others): a bias-free dense from the constant input [1] to D units; its kernel is log sigma^2.
 */
export function buildPixelLogVariance(dim: number, initialLogVar: number, name = 'pixelLogVariance'): tf.Sequential {
  return tf.sequential({
    name,
    layers: [
      tf.layers.dense({
        name: `${name}_logvar`,
        units: dim,
        inputShape: [1],
        useBias: false,
        kernelInitializer: tf.initializers.constant({ value: initialLogVar }),
      }),
    ],
  });
}

/** Splits an encoder head [mu | logVar] of width 2d into its two halves. */
export function splitHead(head: tf.Tensor2D): { mu: tf.Tensor2D; logVar: tf.Tensor2D } {
  const d = head.shape[1] / 2;
  const [mu, logVar] = tf.split(head, [d, d], 1) as [tf.Tensor2D, tf.Tensor2D];
  return { mu, logVar };
}

/** Runs a network on a tensor (differentiably w.r.t. its variables). */
export function run(network: tf.LayersModel, input: tf.Tensor): tf.Tensor2D {
  return network.apply(input) as tf.Tensor2D;
}
