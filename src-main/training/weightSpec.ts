// The names and shapes of the weights a config's model has, for checking a checkpoint before it
// is trusted (workbench/exchange/validate.ts). Builds the model with tfjs, reads only the shapes,
// and disposes it; loaded on demand like checkpointModel.ts.
import type * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../api/config';
import { createModel } from '../models';
import type { BackendPreference } from './backend';
import { ensureBackend } from './checkpointModel';

export async function modelWeightSpec(
  config: RunConfig,
  inputShape: [number, number, number],
  backend: BackendPreference = 'auto',
): Promise<{ name: string; shape: number[]; trainable: boolean }[]> {
  await ensureBackend(backend);
  const model = createModel(config.model, inputShape, 0);
  try {
    const optimized = new Set<tf.Variable>(model.trainableVariables());
    const spec: { name: string; shape: number[]; trainable: boolean }[] = [];
    for (const [network, net] of Object.entries(model.networks())) {
      for (const w of net.weights)
        spec.push({
          name: `${network}/${w.originalName}`,
          shape: w.shape as number[],
          // What the optimizer updates, so what Adam has moments for (a VQ-VAE's EMA state is not).
          trainable: optimized.has(w.read() as tf.Variable),
        });
    }
    return spec;
  } finally {
    model.dispose();
  }
}
