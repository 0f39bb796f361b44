// The names and shapes of the weights a config's model has, for checking a checkpoint before it
// is trusted (workbench/exchange/validate.ts). Builds the model with tfjs, reads only the shapes,
// and disposes it; loaded on demand like checkpointModel.ts.
import type { RunConfig } from '../api/config';
import { createModel } from '../models';
import type { BackendPreference } from './backend';
import { ensureBackend } from './checkpointModel';

export async function modelWeightSpec(
  config: RunConfig,
  inputShape: [number, number, number],
  backend: BackendPreference = 'auto',
): Promise<{ name: string; shape: number[] }[]> {
  await ensureBackend(backend);
  const model = createModel(config.model, inputShape, 0);
  try {
    const spec: { name: string; shape: number[] }[] = [];
    for (const [network, net] of Object.entries(model.networks())) {
      for (const w of net.weights) spec.push({ name: `${network}/${w.originalName}`, shape: w.shape as number[] });
    }
    return spec;
  } finally {
    model.dispose();
  }
}
