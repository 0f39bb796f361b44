// The tfjs half of an export: the run's networks rebuilt from a checkpoint file and written in the
// TF.js Layers format. Runs in the bundle worker (tfjs is loaded there on the first export).
import type { RunConfig } from '../../api/config';
import type { BackendPreference } from '../../training/backend';
import { decodeCheckpoint } from '../../training/checkpoint';
import { inputShapeFor } from '../../training/runData';
import type { BundleManifest, PackEntry } from './bundle';
import { readFileSync } from 'node:fs';

export async function exportNetworks(
  config: RunConfig,
  checkpointPath: string,
  backend: BackendPreference,
): Promise<{ inputShape: [number, number, number]; networks: BundleManifest['networks']; files: PackEntry[] }> {
  const content = decodeCheckpoint(new Uint8Array(readFileSync(checkpointPath)), checkpointPath);
  const inputShape = await inputShapeFor(config, content.model);
  const neural = await import('../../training/checkpointModel');
  await neural.ensureBackend(backend);
  const model = neural.modelFromCheckpoint(config, inputShape, content);
  const networks: BundleManifest['networks'] = {};
  const files: PackEntry[] = [];
  try {
    for (const [name, network] of Object.entries(model.networks())) {
      const { files: netFiles } = await neural.layersModelFiles(network);
      for (const [file, bytes] of netFiles) files.push({ path: `tfjs/${name}/${file}`, bytes });
      networks[name] = {
        path: `tfjs/${name}/model.json`,
        ...describeNetwork(name, config.model.likelihood, inputShape),
      };
    }
  } finally {
    model.dispose();
  }
  return { inputShape, networks, files };
}

function describeNetwork(
  name: string,
  likelihood: string,
  [h, w, c]: [number, number, number],
): { input: string; output: string } {
  const pixels = `${h * w * c} values (${h}x${w}x${c} image, flattened row-major, in [0, 1])`;
  if (name === 'encoder')
    return {
      input: pixels,
      output: '[mu | logVar] of q(z|x): the first half is the posterior mean, the second its log-variance',
    };
  if (name === 'decoder') {
    return {
      input: 'a latent z',
      output:
        likelihood === 'bernoulli'
          ? `logits of p(x|z) over ${pixels}; apply a sigmoid for pixel probabilities`
          : `means of p(x|z) over ${pixels}`,
    };
  }
  if (name === 'pixelLogVariance')
    return { input: 'the constant [[1]]', output: 'per-pixel log sigma^2 of the Gaussian likelihood' };
  return { input: 'see the ladder VAE (models/ladder.ts)', output: `network '${name}' of the model` };
}
