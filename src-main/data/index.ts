// The data layer's entry point: loads a data set by name or path, takes the train/test split (the
// source's published test split, in order, where it has one; else a split drawn with the split
// seed), applies static binarization when asked, and fingerprints exactly what the trainer will see.
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { binarizeBatch } from './binarize';
import {
  loadFashionMnist,
  fashionMnistFolder,
  isIdxFolder,
  loadIdxFolder,
  loadIdxPool,
  siblingLabelsFile,
} from './idx';
import { loadMnistPool } from './mnist';
import { loadMnistData } from './mnistData';
import { loadNpyPool } from './npy';
import { loadPngFolderPool } from './pngFolder';
import { firstExamples, hashSplits, hashTestSet, samplePool, splitPool, type ExamplePool } from './pool';
import { createRandom, streamSeed, type Random } from './random';
import {
  DEFAULT_SHAPES_SIZE,
  SHAPE_FACTOR_NAMES,
  SHAPE_FACTOR_SIZES,
  generateShapeSet,
  generateShapes,
} from './shapes';
import { DatasetError, type Dataset, type LoadOptions, type Split } from './types';

export { binarizeBatch } from './binarize';
export { dequantizeBatch, LOG_256 } from './dequantize';
export { createRandom, streamSeed, permutation, shuffleInPlace, type Random } from './random';
export { SHAPE_FACTOR_NAMES, SHAPE_FACTOR_SIZES, SHAPE_NAMES, renderShape, shapeFactorValues } from './shapes';
export { DatasetError, type Dataset, type LoadOptions, type Split } from './types';

interface Loaded {
  train: Split;
  test: Split;
  height: number;
  width: number;
  channels: number;
  source: string;
  factors?: { names: string[]; sizes: number[] };
  eightBit: boolean;
  testSplit: Dataset['testSplit'];
}

function isEightBit(pool: ExamplePool): boolean {
  return pool.data instanceof Uint8Array;
}

function fromPool(pool: ExamplePool, name: string, options: LoadOptions, random: Random): Loaded {
  const { train, test } = splitPool(pool, name, options.trainSize, options.testSize, random);
  return {
    train,
    test,
    height: pool.height,
    width: pool.width,
    channels: pool.channels,
    source: pool.source,
    eightBit: isEightBit(pool),
    testSplit: 'seeded',
  };
}

/**
 * A source with its own published split (train-* and t10k-* files): the test set is the first
 * testSize t10k examples in their published order; the training set a split-seeded subset of train-*.
 */
function fromPublishedSplit(
  pools: { train: ExamplePool; test: ExamplePool },
  name: string,
  source: string,
  options: LoadOptions,
  random: Random,
): Loaded {
  const train = samplePool(pools.train, name, options.trainSize, 'trainSize', random);
  const test = firstExamples(pools.test, name, options.testSize, 'testSize');
  const { height, width, channels } = pools.train;
  const eightBit = isEightBit(pools.train) && isEightBit(pools.test);
  return { train, test, height, width, channels, source, eightBit, testSplit: 'published' };
}

async function loadPath(path: string, options: LoadOptions, random: Random): Promise<Loaded> {
  const info = await stat(path).catch(() => null);
  if (!info) {
    throw new DatasetError(
      `Data set '${path}' is neither a built-in name (mnist, mnist-10k, fashion-mnist, shapes) nor an existing file or folder ` +
        '(an IDX file, plain or .gz; a .npy file; a folder of IDX files or of PNG images)',
    );
  }
  if (info.isDirectory()) {
    if (isIdxFolder(path))
      return fromPublishedSplit(await loadIdxFolder(path), path, `IDX files in ${path}`, options, random);
    return fromPool(await loadPngFolderPool(path), path, options, random);
  }
  const extension = extname(path).toLowerCase();
  if (extension === '.npy') return fromPool(await loadNpyPool(path), path, options, random);
  if (extension === '.png')
    throw new DatasetError(`${path}: a single PNG image is not a data set; name the folder that holds the images`);
  return fromPool(await loadIdxPool(path, siblingLabelsFile(path)), path, options, random);
}

async function loadSource(options: LoadOptions, random: Random): Promise<Loaded> {
  switch (options.dataset) {
    case 'mnist': {
      const pools = await loadMnistData();
      return fromPublishedSplit(pools, 'mnist', pools.train.source, options, random);
    }
    case 'mnist-10k':
      return fromPool(await loadMnistPool(), 'mnist-10k', options, random);
    case 'fashion-mnist': {
      const folder = fashionMnistFolder();
      return fromPublishedSplit(
        await loadFashionMnist(folder),
        'fashion-mnist',
        `Fashion-MNIST IDX files in ${folder}`,
        options,
        random,
      );
    }
    case 'shapes': {
      const size = options.shapesSize ?? DEFAULT_SHAPES_SIZE;
      const { train, test } = generateShapes(options.trainSize, options.testSize, random, size);
      const source = `generated 2-D shapes (dSprites factors, ${size}x${size})`;
      return {
        train,
        test,
        height: size,
        width: size,
        channels: 1,
        source,
        factors: { names: SHAPE_FACTOR_NAMES, sizes: SHAPE_FACTOR_SIZES },
        eightBit: true, // binary images: 0 and 1 are grey levels 0 and 255
        testSplit: 'generated',
      };
    }
    default:
      return loadPath(options.dataset, options, random);
  }
}

/**
 * Loads `options.dataset` ('mnist', 'mnist-10k', 'fashion-mnist', 'shapes', or a path to an IDX
 * (.gz) file, a .npy file, or a folder of IDX files or PNG images): trainSize training examples and
 * testSize test examples (the first of the published test split where there is one). options.seed
 * is the split seed. The same options always give the same data and hash.
 */
export async function loadDataset(options: LoadOptions): Promise<Dataset> {
  // Separate streams for the split and the binarization, so that one does not shift the other.
  const loaded = await loadSource(options, createRandom(streamSeed(options.seed, 'split')));
  let { train, test } = loaded;
  if (options.binarization === 'static') {
    const random = createRandom(streamSeed(options.seed, 'static-binarization'));
    train = { ...train, pixels: binarizeBatch(train.pixels, random) };
    test = { ...test, pixels: binarizeBatch(test.pixels, random) };
  }
  const { height, width, channels } = loaded;
  return {
    name: options.dataset,
    source: loaded.source,
    height,
    width,
    channels,
    train,
    test,
    factorNames: loaded.factors?.names.slice() ?? null,
    factorSizes: loaded.factors?.sizes.slice() ?? null,
    hash: hashSplits(height, width, channels, train, test),
    eightBit: loaded.eightBit,
    testSplit: loaded.testSplit,
  };
}

/** The test set exactly as evaluation sees it, and its sha256 (the run's testSetHash). */
export interface EvaluationSet {
  /** testSize x D pixels: binarized once with the split seed under dynamic binarization, else the test pixels. */
  pixels: Float32Array;
  hash: string;
}

/**
 * The evaluation pixels of a data set. Under dynamic binarization the test images are binarized once,
 * from the split seed (not train.seed), so every run on the same data and split seed is evaluated on
 * the same binary images.
 */
export function evaluationSet(
  data: Dataset,
  binarization: LoadOptions['binarization'],
  splitSeed: number,
): EvaluationSet {
  const pixels =
    binarization === 'dynamic'
      ? binarizeBatch(data.test.pixels, createRandom(streamSeed(splitSeed, 'test-binarization')))
      : data.test.pixels;
  return { pixels, hash: hashTestSet(data.height, data.width, data.channels, data.test, pixels) };
}

/** `count` fresh shapes for MIG, drawn from the generator with the split seed (never the training data). */
export function shapesForMig(count: number, splitSeed: number, size = DEFAULT_SHAPES_SIZE): Split {
  return generateShapeSet(count, createRandom(streamSeed(splitSeed, 'mig-points')), size);
}
