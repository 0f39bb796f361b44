// The checks of an unpacked bundle that need tfjs (issue #13): every checkpoint tensor matched by
// name, dtype and shape against the model its config builds, and the checkpoint's offsets inside the
// file. Runs in the bundle worker, after the hashes and before the store worker writes anything.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRecordedRunConfig, type RunConfig } from '../../api/config';
import type { BackendPreference } from '../../training/backend';
import { BundleError, type BundleManifest } from './bundle';
import { checkpointTensors, matchCheckpointToModel, parseManifest } from './validate';

export async function checkStagedBundle(input: {
  path: string;
  staging: string;
  manifest: BundleManifest;
  backend?: BackendPreference;
}): Promise<void> {
  const { path, staging } = input;
  const manifest = parseManifest(input.manifest, path) as BundleManifest;
  let config: RunConfig;
  try {
    config = parseRecordedRunConfig(JSON.parse(readFileSync(join(staging, 'config.json'), 'utf8')));
  } catch (error) {
    throw new BundleError(`${path}: config.json is not a valid run config: ${(error as Error).message}`);
  }
  if (!manifest.checkpoint) throw new BundleError(`${path}: the manifest names no checkpoint.`);
  const name = manifest.checkpoint.path ?? 'checkpoint.safetensors';
  const bytes = new Uint8Array(readFileSync(join(staging, ...name.split('/'))));
  const { tensors } = checkpointTensors(bytes, path);
  let expected: { name: string; shape: number[]; trainable: boolean }[];
  try {
    const { modelWeightSpec } = await import('../../training/weightSpec');
    expected = await modelWeightSpec(config, manifest.inputShape, input.backend);
  } catch (error) {
    throw new BundleError(
      `${path}: manifest.json: inputShape: the model of config.json cannot be built for ${manifest.inputShape.join('x')}: ${(error as Error).message}`,
    );
  }
  matchCheckpointToModel(tensors, expected, path);
}
