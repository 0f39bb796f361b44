// A source's examples before the split: what each reader (mnist, IDX, npy, PNG folder) returns.
// Pixels stay as bytes where the source has bytes, so a 60,000-image source costs 47 MB rather
// than 188 MB of float32 until the split picks the examples actually used.
import { createHash } from 'node:crypto';
import { permutation, type Random } from './random';
import { DatasetError, type Split } from './types';

export interface ExamplePool {
  /** count x height*width*channels values: bytes (0..255, scaled by 1/255) or floats in [0, 1]. */
  data: Uint8Array | Float32Array;
  count: number;
  labels: Int32Array | null;
  height: number;
  width: number;
  channels: number;
  /** For display: where the examples came from. */
  source: string;
}

/** Copies the examples at `indices` into a Split with float pixels in [0, 1]. */
export function takeExamples(pool: ExamplePool, indices: ArrayLike<number>): Split {
  const size = pool.height * pool.width * pool.channels;
  const pixels = new Float32Array(indices.length * size);
  const labels = pool.labels ? new Int32Array(indices.length) : null;
  const scale = pool.data instanceof Uint8Array ? 1 / 255 : 1;
  for (let n = 0; n < indices.length; n++) {
    const from = indices[n] * size;
    const to = n * size;
    for (let p = 0; p < size; p++) pixels[to + p] = pool.data[from + p] * scale;
    if (labels && pool.labels) labels[n] = pool.labels[indices[n]];
  }
  return { pixels, count: indices.length, labels, factors: null, indices: Int32Array.from(indices) };
}

function tooFew(name: string, available: number, what: string, asked: string): DatasetError {
  return new DatasetError(`Data set '${name}' has ${available.toLocaleString('en-US')} ${what} but ${asked}`);
}

/**
 * A seeded shuffle of one pool of examples, cut into train and test: same seed, same split; the
 * two parts never share an example.
 */
export function splitPool(
  pool: ExamplePool,
  name: string,
  trainSize: number,
  testSize: number,
  random: Random,
): { train: Split; test: Split } {
  if (trainSize + testSize > pool.count) {
    throw tooFew(
      name,
      pool.count,
      'examples',
      `trainSize + testSize asks for ${trainSize} + ${testSize} = ${trainSize + testSize}`,
    );
  }
  const order = permutation(pool.count, random);
  return {
    train: takeExamples(pool, order.subarray(0, trainSize)),
    test: takeExamples(pool, order.subarray(trainSize, trainSize + testSize)),
  };
}

/** A seeded subset of `size` examples of a pool that is already one side of a published split. */
export function samplePool(
  pool: ExamplePool,
  name: string,
  size: number,
  sizeField: 'trainSize' | 'testSize',
  random: Random,
): Split {
  if (size > pool.count) {
    const side = sizeField === 'trainSize' ? 'training' : 'test';
    throw tooFew(name, pool.count, `${side} examples`, `${sizeField} asks for ${size}`);
  }
  return takeExamples(pool, permutation(pool.count, random).subarray(0, size));
}

/** The first `size` examples of a published split, in its published order (testSize takes the first N). */
export function firstExamples(
  pool: ExamplePool,
  name: string,
  size: number,
  sizeField: 'trainSize' | 'testSize',
): Split {
  if (size > pool.count) {
    const side = sizeField === 'trainSize' ? 'training' : 'test';
    throw tooFew(name, pool.count, `${side} examples`, `${sizeField} asks for ${size}`);
  }
  return takeExamples(
    pool,
    Int32Array.from({ length: size }, (_, i) => i),
  );
}

function bytesOf(array: ArrayBufferView): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

/**
 * testSetHash: sha256 over the dims, the examples' indices in their source and the exact pixels the
 * evaluation sees (after binarization), and the labels. Two runs report the same hash exactly when
 * they are evaluated on the same images.
 */
export function hashTestSet(
  height: number,
  width: number,
  channels: number,
  test: Split,
  pixels: Float32Array,
): string {
  const hash = createHash('sha256');
  hash.update(bytesOf(new Int32Array([height, width, channels, test.count])));
  const indices = test.indices ?? Int32Array.from({ length: test.count }, (_, i) => i);
  hash.update(bytesOf(indices));
  hash.update(bytesOf(pixels));
  if (test.labels) hash.update(bytesOf(test.labels));
  return hash.digest('hex');
}

/**
 * sha256 over the dims and the exact pixels, labels and factors of both splits. Typed arrays are
 * hashed as their in-memory bytes, which are little-endian on every platform Node supports.
 */
export function hashSplits(height: number, width: number, channels: number, train: Split, test: Split): string {
  const hash = createHash('sha256');
  hash.update(bytesOf(new Int32Array([height, width, channels])));
  for (const split of [train, test]) {
    hash.update(
      bytesOf(new Int32Array([split.count, split.labels ? 1 : 0, split.factors ? split.factors.length : -1])),
    );
    hash.update(bytesOf(split.pixels));
    if (split.labels) hash.update(bytesOf(split.labels));
    if (split.factors) hash.update(bytesOf(split.factors));
  }
  return hash.digest('hex');
}
