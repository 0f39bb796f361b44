// The tfjs half of an export, run in the bundle worker (tfjs is loaded there on the first export):
// the checkpoint is read and verified once, the run's networks are rebuilt from those bytes and
// written in the TF.js Layers format, and the same bytes go into the bundle.
import type { RunConfig } from '../../api/config';
import type { BackendPreference } from '../../training/backend';
import { decodeCheckpoint } from '../../training/checkpoint';
import { inputShapeFor } from '../../training/runData';
import {
  packBundle,
  readVerifiedCheckpoint,
  type BundleManifest,
  type CheckpointRef,
  type PackedBundle,
  type PackEntry,
} from './bundle';

export interface RunBundleRequest {
  config: RunConfig;
  checkpoint: CheckpointRef;
  backend: BackendPreference;
  /** The bundle's other files (config, run record, metrics, images, ...). */
  entries: PackEntry[];
  /** The manifest, less what this fills in: the networks, the input shape and the file list. */
  manifest: Omit<BundleManifest, 'files' | 'inputShape' | 'networks'>;
  /** Where the checkpoint goes in the bundle. */
  checkpointEntry: string;
  out: string;
}

/** Packs a run's bundle with its networks, reading the checkpoint file once (see readVerifiedCheckpoint). */
export async function packRunBundle(request: RunBundleRequest): Promise<PackedBundle> {
  const { config, checkpoint } = request;
  const bytes = readVerifiedCheckpoint(checkpoint);
  const { inputShape, networks, files } = await exportNetworks(config, bytes, checkpoint.path, request.backend);
  return packBundle(
    [...request.entries, ...files, { path: request.checkpointEntry, bytes, sha256: checkpoint.sha256 }],
    { ...request.manifest, inputShape, networks },
    request.out,
  );
}

async function exportNetworks(
  config: RunConfig,
  checkpoint: Uint8Array,
  label: string,
  backend: BackendPreference,
): Promise<{ inputShape: [number, number, number]; networks: BundleManifest['networks']; files: PackEntry[] }> {
  const content = decodeCheckpoint(checkpoint, label);
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
