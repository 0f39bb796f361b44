// Checkpoint snapshots: every weight of every network as a named Float32Array. Names are
// `${network}/${layer}/${weight}`, built from the explicit layer names (not tfjs's process-wide
// unique-ified variable names), so they are stable across runs of the same config.
import * as tf from '@tensorflow/tfjs';
import type { VaeModel } from './types';

export interface NamedWeight {
  name: string;
  shape: number[];
  values: Float32Array;
}

function weightsByName(model: VaeModel): Map<string, tf.LayerVariable> {
  const out = new Map<string, tf.LayerVariable>();
  for (const [network, net] of Object.entries(model.networks())) {
    for (const w of net.weights) out.set(`${network}/${w.originalName}`, w);
  }
  return out;
}

/** A copy of all weights, in the networks' order. */
export function getNamedWeights(model: VaeModel): NamedWeight[] {
  return [...weightsByName(model)].map(([name, w]) => ({
    name,
    shape: w.shape as number[],
    values: Float32Array.from(w.read().dataSync() as Float32Array),
  }));
}

/** The same copy, read asynchronously (the webgpu backend cannot read synchronously in Node). */
export async function getNamedWeightsAsync(model: VaeModel): Promise<NamedWeight[]> {
  const entries = [...weightsByName(model)];
  const values = await Promise.all(entries.map(([, w]) => w.read().data()));
  return entries.map(([name, w], i) => ({
    name,
    shape: w.shape as number[],
    values: Float32Array.from(values[i] as Float32Array),
  }));
}

/**
 * Restores weights by name; every weight of the model must be given, with its shape, except that
 * a network of model.optionalNetworks may be absent as a whole (it keeps its initial values).
 */
export function setNamedWeights(model: VaeModel, weights: NamedWeight[]): void {
  const targets = weightsByName(model);
  const shapeOf = (w: tf.LayerVariable) => w.shape as number[];
  const given = new Map(weights.map((w) => [w.name, w]));
  for (const network of model.optionalNetworks ?? []) {
    const names = [...targets.keys()].filter((name) => name.startsWith(`${network}/`));
    if (names.every((name) => !given.has(name))) for (const name of names) targets.delete(name);
  }
  const missing = [...targets.keys()].filter((name) => !given.has(name));
  const unknown = [...given.keys()].filter((name) => !targets.has(name));
  if (missing.length > 0 || unknown.length > 0) {
    throw new Error(`weights do not match the model: missing [${missing.join(', ')}], unknown [${unknown.join(', ')}]`);
  }
  for (const [name, target] of targets) {
    const w = given.get(name) as NamedWeight;
    if (
      w.shape.join('x') !== shapeOf(target).join('x') ||
      w.values.length !== shapeOf(target).reduce((a, b) => a * b, 1)
    ) {
      throw new Error(
        `weight ${name}: shape [${w.shape}] (${w.values.length} values) does not match [${shapeOf(target)}]`,
      );
    }
  }
  for (const [name, target] of targets) {
    const w = given.get(name) as NamedWeight;
    const value = tf.tensor(w.values, w.shape, 'float32');
    target.write(value);
    value.dispose();
  }
}
