// A flow's free parameters as one tf.LayersModel, so they train, checkpoint and export (Layers
// format) like every other network: a functional model from the constant input [1] with one
// bias-free dense layer per parameter; the layer's kernel [1, size] is the parameter, flattened.
// Applying the model to [[1]] reads every parameter differentiably.
import * as tf from '@tensorflow/tfjs';
import { deriveSeed, hashString } from './noise';

export interface ParameterSpec {
  /** Layer name (stable, for checkpoints): `${network}_${name}`. */
  name: string;
  shape: number[];
  /** Initial values: uniform in [-limit, limit] (seeded), or a constant. */
  init: { uniform: number } | { constant: number };
  /** false: state the model updates itself (a VQ-VAE's EMA statistics), not the optimizer; default true. */
  trainable?: boolean;
}

export class ParameterNet {
  private readonly one = tf.keep(tf.ones([1, 1]));

  private constructor(
    readonly network: tf.LayersModel,
    private readonly specs: ParameterSpec[],
  ) {}

  static build(name: string, specs: ParameterSpec[], seed: number): ParameterNet {
    const input = tf.input({ shape: [1], name: `${name}_one` });
    const outputs = specs.map((spec) => {
      const layerName = `${name}_${spec.name}`;
      const size = spec.shape.reduce((a, b) => a * b, 1);
      const kernelInitializer =
        'uniform' in spec.init
          ? tf.initializers.randomUniform({
              minval: -spec.init.uniform,
              maxval: spec.init.uniform,
              seed: deriveSeed(seed, hashString(layerName)),
            })
          : tf.initializers.constant({ value: spec.init.constant });
      return tf.layers
        .dense({ name: layerName, units: size, useBias: false, kernelInitializer, trainable: spec.trainable ?? true })
        .apply(input) as tf.SymbolicTensor;
    });
    return new ParameterNet(tf.model({ name, inputs: input, outputs }), specs);
  }

  /** Every parameter by its spec name, in its shape (differentiable w.r.t. the kernels). */
  read(): Record<string, tf.Tensor> {
    const raw = this.network.apply(this.one);
    const list = Array.isArray(raw) ? raw : [raw];
    const out: Record<string, tf.Tensor> = {};
    this.specs.forEach((spec, i) => {
      out[spec.name] = tf.reshape(list[i] as tf.Tensor, spec.shape);
    });
    return out;
  }

  /** Overwrites parameter `name` with `value` (any shape of the right size). */
  write(name: string, value: tf.Tensor): void {
    const layer = this.network.getLayer(`${this.network.name}_${name}`);
    const kernel = layer.weights[0];
    tf.tidy(() => {
      kernel.write(tf.reshape(value, kernel.shape as number[]));
    });
  }

  /** Every parameter's current values by spec name (row-major), for inspection and tests. */
  values(): Record<string, Float32Array> {
    return tf.tidy(() => {
      const read = this.read();
      return Object.fromEntries(Object.entries(read).map(([k, v]) => [k, v.dataSync() as Float32Array]));
    });
  }

  /** Frees the constant input; the network itself is disposed with the model's other networks. */
  dispose(): void {
    this.one.dispose();
  }
}
