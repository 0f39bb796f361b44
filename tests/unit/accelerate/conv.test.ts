// The wasm Conv2DBackpropFilter (accelerate/conv.ts) against the cpu backend's, on the same inputs;
// and a conv VAE training on wasm. Relative error = max|x - y| / max|y|.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { ModelConfigSchema } from '../../../src-main/api/config';
import { createModel } from '../../../src-main/models';
import type { LossOptions } from '../../../src-main/models/types';
import { initBackend } from '../../../src-main/training/backend';
import {
  installMatMulKernels,
  loadSgemmAddon,
  activeMatMulKernels,
  type Accelerator,
} from '../../../src-main/training/accelerate';
import { installConvKernels } from '../../../src-main/training/accelerate/conv';
import { trainStep } from '../../../src-main/training/step';
import { relativeError } from '../../helpers/numeric';

let previous = '';

beforeAll(async () => {
  previous = tf.getBackend();
  await initBackend('wasm');
});

afterAll(async () => {
  if (previous) await tf.setBackend(previous);
});

function randomValues(n: number, seed: number): Float32Array {
  // A small LCG: the same numbers on both backends.
  const values = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    values[i] = s / 2 ** 31 - 1;
  }
  return values;
}

interface Case {
  name: string;
  x: [number, number, number, number];
  filter: [number, number, number, number];
  strides: number;
  pad: 'same' | 'valid';
}

const CASES: Case[] = [
  { name: 'stride 1 same, 1 channel', x: [2, 9, 7, 1], filter: [3, 3, 1, 5], strides: 1, pad: 'same' },
  { name: 'stride 1 valid, 3 channels', x: [3, 8, 10, 3], filter: [3, 2, 3, 4], strides: 1, pad: 'valid' },
  { name: 'stride 2 same, even kernel', x: [4, 12, 12, 2], filter: [4, 4, 2, 6], strides: 2, pad: 'same' },
  { name: 'stride 2 valid, odd size', x: [2, 11, 9, 4], filter: [3, 3, 4, 3], strides: 2, pad: 'valid' },
  { name: 'encoder conv1 shape', x: [2, 14, 14, 32], filter: [4, 4, 32, 64], strides: 2, pad: 'same' },
  { name: 'decoder deconv1 shape', x: [3, 28, 28, 1], filter: [4, 4, 1, 32], strides: 2, pad: 'same' },
];

/** tfjs-core's conv2DBackpropFilter op is not exported; run its kernel with the attrs the op passes. */
function backpropFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: number[],
  strides: number,
  pad: 'same' | 'valid',
): tf.Tensor4D {
  return tf
    .engine()
    .runKernel('Conv2DBackpropFilter', { x, dy }, { strides, pad, dataFormat: 'NHWC', filterShape }) as tf.Tensor4D;
}

async function filterGradient(
  backend: 'cpu' | 'wasm',
  c: Case,
  xValues: Float32Array,
  dyShape: number[],
  dyValues: Float32Array,
): Promise<Float32Array> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(xValues, c.x);
    const dy = tf.tensor4d(dyValues, dyShape as [number, number, number, number]);
    return backpropFilter(x, dy, c.filter, c.strides, c.pad).dataSync() as Float32Array;
  });
}

describe('Conv2DBackpropFilter on wasm', () => {
  it.each(CASES)('matches the cpu backend: $name', async (c) => {
    const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad);
    const dyShape = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
    const xValues = randomValues(
      c.x.reduce((a, b) => a * b, 1),
      7,
    );
    const dyValues = randomValues(
      dyShape.reduce((a, b) => a * b, 1),
      11,
    );
    const expected = await filterGradient('cpu', c, xValues, dyShape, dyValues);
    const actual = await filterGradient('wasm', c, xValues, dyShape, dyValues);
    expect(actual.length).toBe(expected.length);
    expect(relativeError(actual, expected)).toBeLessThan(1e-4);
  });

  it('matches with each matmul kernel it can delegate to', async () => {
    const c = CASES[4];
    const info = tf.backend_util.computeConv2DInfo(c.x, c.filter, c.strides, 1, c.pad);
    const dyShape = [info.batchSize, info.outHeight, info.outWidth, info.outChannels];
    const xValues = randomValues(
      c.x.reduce((a, b) => a * b, 1),
      13,
    );
    const dyValues = randomValues(
      dyShape.reduce((a, b) => a * b, 1),
      17,
    );
    const expected = await filterGradient('cpu', c, xValues, dyShape, dyValues);
    const addon = loadSgemmAddon().addon;
    const kinds: Accelerator[] = ['none', 'wasm-transpose-fast-path', ...(addon ? (['native-sgemm'] as const) : [])];
    const active = activeMatMulKernels();
    try {
      for (const kind of kinds) {
        installMatMulKernels(kind, kind === 'native-sgemm' ? addon : null);
        const actual = await filterGradient('wasm', c, xValues, dyShape, dyValues);
        expect(relativeError(actual, expected), kind).toBeLessThan(1e-4);
      }
    } finally {
      installMatMulKernels(active, active === 'native-sgemm' ? addon : null);
    }
  });

  it('splits a large batch into slices and sums them', async () => {
    // 4·4·1 rows × 2700·14·14 columns is over the 8M-float im2col limit: two slices (2674 + 26).
    const c: Case = { name: 'large', x: [2700, 28, 28, 1], filter: [4, 4, 1, 1], strides: 2, pad: 'same' };
    const dyShape = [2700, 14, 14, 1];
    const xValues = randomValues(2700 * 784, 3);
    const dyValues = randomValues(2700 * 196, 5);
    const expected = await filterGradient('cpu', c, xValues, dyShape, dyValues);
    const actual = await filterGradient('wasm', c, xValues, dyShape, dyValues);
    expect(relativeError(actual, expected)).toBeLessThan(1e-4);
  });

  it('is registered again by installConvKernels without leaking tensors', async () => {
    await tf.setBackend('wasm');
    installConvKernels();
    const before = tf.memory().numTensors;
    const buffers = tf.engine().backend.numDataIds();
    const dw = tf.tidy(() => backpropFilter(tf.ones([2, 6, 6, 2]), tf.ones([2, 3, 3, 4]), [2, 2, 2, 4], 2, 'same'));
    expect(dw.shape).toEqual([2, 2, 2, 4]);
    expect(Array.from(dw.dataSync()).every((v) => v === 18)).toBe(true);
    dw.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(tf.engine().backend.numDataIds()).toBe(buffers);
  });
});

describe('conv VAE on wasm', () => {
  it('trains a few steps with finite, decreasing loss', async () => {
    await tf.setBackend('wasm');
    const config = ModelConfigSchema.parse({ architecture: 'conv', hidden: [32], latentDim: 4 });
    const model = createModel(config, [28, 28, 1], 3);
    const variables = model.trainableVariables();
    const optimizer = tf.train.adam(2e-3);
    const batch = 16;
    const pixels = new Float32Array(batch * 784);
    // Blobs of different sizes: something learnable.
    for (let b = 0; b < batch; b++) {
      const r = 4 + (b % 8);
      for (let i = 0; i < 28; i++)
        for (let j = 0; j < 28; j++) pixels[b * 784 + i * 28 + j] = (i - 14) ** 2 + (j - 14) ** 2 < r * r ? 1 : 0;
    }
    const options = (step: number): LossOptions => ({
      klWeight: 1,
      freeBits: 0,
      capacity: null,
      objective: 'elbo',
      samples: 1,
      seed: 100 + step,
    });
    const losses: number[] = [];
    for (let step = 0; step < 8; step++)
      losses.push(trainStep(model, optimizer, variables, pixels, batch, options(step))[0]);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.9);
    optimizer.dispose();
  });
});
