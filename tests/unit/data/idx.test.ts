import { mkdtempSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../../src-main/data';
import {
  DEFAULT_FASHION_MNIST_FOLDER,
  encodeIdx,
  fashionMnistFolder,
  loadFashionMnist,
  readIdx,
} from '../../../src-main/data/idx';
import { DatasetError, type LoadOptions } from '../../../src-main/data/types';
import { requirement } from '../../helpers/requirements';

let dir: string;
const COUNT = 30;
const images = Uint8Array.from({ length: COUNT * 4 * 5 }, (_, i) => (i * 37) % 256);
const labels = Uint8Array.from({ length: COUNT }, (_, i) => i % 3);

const options = (dataset: string, o: Partial<LoadOptions> = {}): LoadOptions => ({
  dataset,
  trainSize: 20,
  testSize: 10,
  binarization: 'none',
  seed: 0,
  ...o,
});

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DatasetError);
  return error as Error;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vae-idx-'));
  writeFileSync(join(dir, 'train-images-idx3-ubyte'), encodeIdx([COUNT, 4, 5], images));
  writeFileSync(join(dir, 'train-labels-idx1-ubyte'), encodeIdx([COUNT], labels));
  writeFileSync(join(dir, 'plain.idx'), encodeIdx([COUNT, 4, 5], images));
  writeFileSync(join(dir, 'zipped-images-idx3-ubyte.gz'), gzipSync(encodeIdx([COUNT, 4, 5], images)));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('IDX reader', () => {
  it('round-trips plain and gzipped files', async () => {
    for (const name of ['plain.idx', 'zipped-images-idx3-ubyte.gz']) {
      const read = await readIdx(join(dir, name));
      expect(read.dtype).toBe('ubyte');
      expect(read.dims).toEqual([COUNT, 4, 5]);
      expect(Array.from(read.data)).toEqual(Array.from(images));
    }
  });

  it('loads an images file as a data set, with its sibling labels file', async () => {
    const data = await loadDataset(options(join(dir, 'train-images-idx3-ubyte')));
    expect([data.height, data.width, data.channels]).toEqual([4, 5, 1]);
    expect(data.train.count).toBe(20);
    expect(data.test.count).toBe(10);
    // Every example is one of the source images, scaled to [0, 1], with its own label.
    const first = Array.from(data.train.pixels.subarray(0, 20), (v) => Math.round(v * 255));
    const source = Array.from({ length: COUNT }, (_, n) => Array.from(images.subarray(n * 20, n * 20 + 20)).join());
    const n = source.indexOf(first.join());
    expect(n).toBeGreaterThanOrEqual(0);
    expect(data.train.labels![0]).toBe(labels[n]);

    const unlabelled = await loadDataset(options(join(dir, 'plain.idx')));
    expect(unlabelled.train.labels).toBeNull();
    expect(unlabelled.train.pixels).toEqual(data.train.pixels); // same seed, same source -> same split
  });

  it('names the file and the problem for a truncated file', async () => {
    const file = join(dir, 'short-images-idx3-ubyte');
    writeFileSync(file, encodeIdx([COUNT, 4, 5], images).subarray(0, 100));
    const error = await errorOf(readIdx(file));
    expect(error.message).toContain(file);
    expect(error.message).toContain(
      `expected ${16 + COUNT * 20} bytes for ${COUNT}x4x5 ubyte values but the file has 100`,
    );

    const gz = join(dir, 'short.gz');
    writeFileSync(gz, gzipSync(encodeIdx([COUNT, 4, 5], images)).subarray(0, 40));
    expect((await errorOf(readIdx(gz))).message).toMatch(/short\.gz.*(damaged|truncated)/);
  });

  it('names the file and the problem for a bad magic number', async () => {
    const file = join(dir, 'bad-magic.idx');
    const bytes = encodeIdx([COUNT, 4, 5], images);
    bytes[0] = 0x12;
    writeFileSync(file, bytes);
    const error = await errorOf(loadDataset(options(file)));
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/bad magic number 0x12000803/);
  });

  it('refuses a mismatched labels file and a folder without t10k files', async () => {
    const sub = join(dir, 'mismatch');
    mkdirSync(sub);
    writeFileSync(join(sub, 'train-images-idx3-ubyte'), encodeIdx([COUNT, 4, 5], images));
    writeFileSync(join(sub, 'train-labels-idx1-ubyte'), encodeIdx([COUNT - 1], labels.subarray(1)));
    const error = await errorOf(loadDataset(options(join(sub, 'train-images-idx3-ubyte'))));
    expect(error.message).toContain('train-labels-idx1-ubyte');
    expect(error.message).toContain(`expected ${COUNT} labels`);
    expect((await errorOf(loadDataset(options(sub)))).message).toContain('missing t10k-images-idx3-ubyte');
  });

  it('explains how to get Fashion-MNIST when its folder is missing', async () => {
    expect(fashionMnistFolder({})).toBe(DEFAULT_FASHION_MNIST_FOLDER);
    expect(fashionMnistFolder({ VAE_WORKBENCH_FASHION_MNIST: '/x' })).toBe('/x');
    const error = await errorOf(loadFashionMnist(join(dir, 'nowhere')));
    expect(error.message).toContain('dataset-fashion-mnist');
    expect(error.message).toContain('VAE_WORKBENCH_FASHION_MNIST');
  });
});

const fashionMnist = requirement(
  import.meta.filename,
  existsSync(join(DEFAULT_FASHION_MNIST_FOLDER, 'train-images-idx3-ubyte.gz')),
  `Fashion-MNIST is not in ${DEFAULT_FASHION_MNIST_FOLDER} (apt-get install dataset-fashion-mnist)`,
);

describe.runIf(fashionMnist.ok)('Fashion-MNIST (Debian folder)', () => {
  it('loads train from train-* and test from t10k-*, 28x28 with 10 classes', async () => {
    const data = await loadDataset(options('fashion-mnist', { trainSize: 2000, testSize: 500 }));
    expect([data.height, data.width, data.channels]).toEqual([28, 28, 1]);
    expect(data.source).toContain(DEFAULT_FASHION_MNIST_FOLDER);
    expect(data.train.count).toBe(2000);
    expect(data.test.count).toBe(500);
    expect(new Set(data.train.labels).size).toBe(10);
    expect(Math.max(...data.test.labels!)).toBe(9);
    expect(data.train.pixels.every((v) => v >= 0 && v <= 1)).toBe(true);

    // The folder given as a path is the same data set.
    const byPath = await loadDataset(options(DEFAULT_FASHION_MNIST_FOLDER, { trainSize: 2000, testSize: 500 }));
    expect(byPath.hash).toBe(data.hash);

    const error = await errorOf(loadDataset(options('fashion-mnist', { trainSize: 60_001 })));
    expect(error.message).toMatch(/'fashion-mnist' has 60,000 training examples but trainSize asks for 60001/);
  });
});
