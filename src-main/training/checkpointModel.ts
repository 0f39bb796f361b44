// The part of export and generation that needs tfjs: a model rebuilt from a checkpoint, its
// networks in the TF.js Layers format, prior samples and latent interpolations. The app's main
// process does not load tfjs for training (workers do), so this module is only ever loaded with a
// dynamic import (see loadNeural in workbench/exchange/common.ts), on the first export or generate of a process.
import * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../api/config';
import { createModel, setNamedWeights, type VaeModel } from '../models';
import { initBackend, type BackendInfo, type BackendPreference } from './backend';
import type { CheckpointContent } from './checkpoint';

/** Shard size of the .bin files, as tensorflowjs_converter writes them (4 MiB). */
const SHARD_BYTES = 4 * 1024 * 1024;

let backendReady: Promise<BackendInfo> | null = null;
let backendPreference: BackendPreference | null = null;

/** Initializes a backend for this thread once (a later call with another preference switches). */
export async function ensureBackend(preference: BackendPreference = 'auto'): Promise<BackendInfo> {
  if (!backendReady || backendPreference !== preference) {
    backendPreference = preference;
    // Never the native sgemm addon here: it shares one process-wide BLAS thread budget among the
    // threads that acquire it, so taking a share in the main thread would change the thread count,
    // and with it the last bits, of runs training in worker threads of this process.
    backendReady = initBackend(preference, { accelerator: 'wasm-transpose-fast-path' });
    backendReady.catch(() => {
      backendReady = null;
    });
  }
  return backendReady;
}

/** A model of the checkpoint's config with the checkpoint's weights. The caller disposes it. */
export function modelFromCheckpoint(
  config: RunConfig,
  inputShape: [number, number, number],
  content: CheckpointContent,
): VaeModel {
  const model = createModel(config.model, inputShape, 0);
  try {
    setNamedWeights(model, content.model);
  } catch (error) {
    model.dispose();
    throw new Error(`The checkpoint does not fit its run's model: ${(error as Error).message}`, { cause: error });
  }
  return model;
}

export interface TfjsNetworkFiles {
  /** model.json (topology + weights manifest), then the shards, by file name. */
  files: Map<string, Uint8Array>;
}

/** One network in the TF.js Layers format: model.json and group1-shardKofN.bin files. */
export async function layersModelFiles(network: tf.LayersModel): Promise<TfjsNetworkFiles> {
  let artifacts: tf.io.ModelArtifacts | null = null;
  await network.save(
    tf.io.withSaveHandler(async (saved) => {
      artifacts = saved;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const captured = artifacts as tf.io.ModelArtifacts | null;
  if (!captured?.weightSpecs || captured.weightData === undefined)
    throw new Error(`could not serialize network ${network.name}`);
  const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(captured.weightData));
  const count = Math.max(1, Math.ceil(weights.length / SHARD_BYTES));
  const files = new Map<string, Uint8Array>();
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `group1-shard${i + 1}of${count}.bin`;
    paths.push(name);
    files.set(name, weights.slice(i * SHARD_BYTES, Math.min(weights.length, (i + 1) * SHARD_BYTES)));
  }
  const modelJson = {
    format: 'layers-model',
    generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers}`,
    convertedBy: null,
    modelTopology: captured.modelTopology,
    weightsManifest: [{ paths, weights: captured.weightSpecs }],
  };
  return { files: new Map([['model.json', Buffer.from(JSON.stringify(modelJson), 'utf8')], ...files]) };
}

/**
 * An IO handler for tf.loadLayersModel reading a Layers-format model from a map of files (a
 * bundle's tfjs/<network>/ folder, or files read from disk): what the browser's http loader and
 * tfjs-node's file:// loader do, without either.
 */
export function filesIOHandler(readFile: (name: string) => Uint8Array): tf.io.IOHandler {
  return {
    load: async () => {
      const json = JSON.parse(Buffer.from(readFile('model.json')).toString('utf8')) as tf.io.ModelJSON;
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs = manifest.flatMap((group) => group.weights);
        const buffers = manifest.flatMap((group) =>
          group.paths.map((path) => {
            const bytes = readFile(path);
            return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
          }),
        );
        return [specs, tf.io.CompositeArrayBuffer.join(buffers)];
      });
    },
  };
}

/** `count` images decoded from prior draws z ~ N(0, I) with tfjs's seeded generator, [count, D]. */
export function priorSamples(model: VaeModel, count: number, seed: number): Float32Array {
  return tf.tidy(() => {
    const z = tf.randomNormal([count, model.priorDim], 0, 1, 'float32', seed) as tf.Tensor2D;
    return model.generate(z, seed).dataSync() as Float32Array;
  });
}

/**
 * A linear path in the (bottom-layer) latent space between the posterior means of two images:
 * [x_a, decode(z_0), ..., decode(z_{steps-1}), x_b] with z_t = (1 - t) mu_a + t mu_b, t = 0..1.
 */
export function interpolate(model: VaeModel, a: Float32Array, b: Float32Array, steps: number): Float32Array {
  const dim = a.length;
  return tf.tidy(() => {
    const means = model.encodeMean(tf.tensor2d([...a, ...b], [2, dim]));
    const [muA, muB] = tf.split(means, 2, 0);
    const t = tf.linspace(0, 1, steps).reshape([steps, 1]);
    const z = tf.add(tf.mul(tf.sub(1, t), muA), tf.mul(t, muB)) as tf.Tensor2D;
    const decoded = model.decode(z);
    return tf.concat([tf.tensor2d(a, [1, dim]), decoded, tf.tensor2d(b, [1, dim])], 0).dataSync() as Float32Array;
  });
}

export { tf };

/** The model type as the exchange layer sees it (it does not import models directly). */
export type CheckpointVaeModel = VaeModel;
