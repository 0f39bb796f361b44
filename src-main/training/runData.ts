// What export, import and generation need to know about a run's data without training: the input
// shape of one example, and the test images the trainer evaluated on (node fs only, no tfjs).
import type { RunConfig } from '../api/config';
import { binarizeBatch, createRandom, loadDataset, type Dataset } from '../data';
import { DEFAULT_SHAPES_SIZE } from '../data/shapes';
import type { NamedArray } from './checkpoint';
import { deriveSeed, SEED_PURPOSE } from './seeds';

const BUILTIN_SHAPES: Record<string, [number, number, number]> = {
  mnist: [28, 28, 1],
  'fashion-mnist': [28, 28, 1],
  shapes: [DEFAULT_SHAPES_SIZE, DEFAULT_SHAPES_SIZE, 1],
};

/** The data set exactly as the trainer loads it for this config (same split, same hash). */
export function loadRunDataset(config: RunConfig, datasetsDir?: string): Promise<Dataset> {
  return loadDataset({ ...config.data, seed: config.train.seed, datasetsDir });
}

/** From the decoder's weights, for square single-channel (MLP) or square (conv) images; null when unsure. */
function shapeFromWeights(config: RunConfig, weights: NamedArray[]): [number, number, number] | null {
  const byName = new Map(weights.map((w) => [w.name, w.shape]));
  const square = (pixels: number, channels: number): [number, number, number] | null => {
    const side = Math.round(Math.sqrt(pixels));
    return side * side === pixels ? [side, side, channels] : null;
  };
  if (config.model.architecture === 'conv') {
    const project = byName.get('decoder/decoder_project/kernel');
    const last = byName.get('decoder/decoder_deconv1/kernel');
    if (!project || !last) return null;
    return square((project[1] / 64) * 16, last[2]);
  }
  const out = byName.get('decoder/decoder_out/kernel');
  return out ? square(out[1], 1) : null;
}

/** [height, width, channels] of the run's examples: built-in sizes, else the weights, else the data set. */
export async function inputShapeFor(config: RunConfig, weights: NamedArray[]): Promise<[number, number, number]> {
  const known = BUILTIN_SHAPES[config.data.dataset];
  if (known) return known;
  const guessed = shapeFromWeights(config, weights);
  try {
    const data = await loadDataset({ ...config.data, trainSize: 1, testSize: 1, seed: config.train.seed });
    return [data.height, data.width, data.channels];
  } catch (error) {
    if (guessed) return guessed;
    throw new Error(`Cannot tell the image size of data set '${config.data.dataset}': ${(error as Error).message}`);
  }
}

/** The test split as the trainer evaluates it (binarized once with the eval seed under dynamic binarization). */
export function evalTestPixels(config: RunConfig, data: Dataset): Float32Array {
  return config.data.binarization === 'dynamic'
    ? binarizeBatch(data.test.pixels, createRandom(deriveSeed(config.train.seed, SEED_PURPOSE.evalBinarize)))
    : data.test.pixels;
}
