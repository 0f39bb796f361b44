// What export, import and generation need to know about a run's data without training: the input
// shape of one example, and the test images the trainer evaluated on (node fs only, no tfjs).
import type { RunConfig } from '../api/config';
import { createRandom, dequantizeBatch, evaluationSet, loadDataset, streamSeed, type Dataset } from '../data';
import { DEFAULT_SHAPES_SIZE } from '../data/shapes';
import type { NamedArray } from './checkpoint';

const BUILTIN_SHAPES: Record<string, [number, number, number]> = {
  mnist: [28, 28, 1],
  'mnist-10k': [28, 28, 1],
  'fashion-mnist': [28, 28, 1],
  shapes: [DEFAULT_SHAPES_SIZE, DEFAULT_SHAPES_SIZE, 1],
};

/**
 * The split seed of a run: data.splitSeed; a run recorded before that field existed drew its split
 * from train.seed, and keeps doing so (its data and hash stay what they were).
 */
export function splitSeedOf(config: RunConfig): number {
  return (config.data as Partial<RunConfig['data']>).splitSeed ?? config.train.seed;
}

/** The data set exactly as the trainer loads it for this config (same split, same hash). */
export function loadRunDataset(config: RunConfig): Promise<Dataset> {
  return loadDataset({ ...config.data, seed: splitSeedOf(config) });
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
    const data = await loadDataset({ ...config.data, trainSize: 1, testSize: 1, seed: splitSeedOf(config) });
    return [data.height, data.width, data.channels];
  } catch (error) {
    if (guessed) return guessed;
    throw new Error(`Cannot tell the image size of data set '${config.data.dataset}': ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** The test set as the trainer evaluates it, and its testSetHash (see data/index.ts evaluationSet). */
export function evalTestSet(config: RunConfig, data: Dataset): { pixels: Float32Array; hash: string } {
  const set = evaluationSet(data, config.data.binarization, splitSeedOf(config));
  // The hash names the images; a dequantized run evaluates them with one fixed draw of u, from the split seed.
  const pixels = config.data.dequantize
    ? dequantizeBatch(set.pixels, createRandom(streamSeed(splitSeedOf(config), 'test-dequantization')))
    : set.pixels;
  return { pixels, hash: set.hash };
}

/** The test pixels the trainer evaluates on (export and generation show these). */
export function evalTestPixels(config: RunConfig, data: Dataset): Float32Array {
  return evalTestSet(config, data).pixels;
}
