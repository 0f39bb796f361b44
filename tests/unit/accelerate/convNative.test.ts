// The native conv kernels (accelerate/conv.ts: im2col / col2im in the addon, products by sgemm)
// against the cpu backend on the same inputs: conv2d (plain and fused with bias + relu),
// conv2dTranspose (Conv2DBackpropInput) and the gradients of both, over strides, paddings and the
// conv VAE's shapes. Relative error = max|x - y| / max|y|.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src-main/training/backend';
import { activeMatMulKernels, loadSgemmAddon } from '../../../src-main/training/accelerate';
import { requirement } from '../../helpers/requirements';
import { relativeError } from '../../helpers/numeric';

const addon = loadSgemmAddon().addon;
const available = requirement(
  import.meta.filename,
  addon !== null && typeof addon.conv === 'function',
  'the native sgemm addon is not built (it needs a BLAS: apt-get install libopenblas-dev, then npm rebuild vae-workbench-sgemm)',
).ok;
let previous = '';

beforeAll(async () => {
  previous = tf.getBackend();
  await initBackend('wasm', { accelerator: 'native-sgemm' });
});
afterAll(async () => {
  if (previous) await tf.setBackend(previous);
});

function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

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
  { name: 'encoder conv1 shape', x: [3, 14, 14, 32], filter: [4, 4, 32, 64], strides: 2, pad: 'same' },
  { name: 'decoder deconv1 shape', x: [3, 28, 28, 1], filter: [4, 4, 1, 32], strides: 2, pad: 'same' },
];

/** conv2d + bias + relu, conv2dTranspose, and the gradients of a loss through both, on `backend`. */
async function outputs(backend: 'cpu' | 'wasm', c: Case): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(values(size(c.x), 3), c.x);
    const w = tf.tensor4d(values(size(c.filter), 5), c.filter);
    const bias = tf.tensor1d(values(c.filter[3], 7));
    const y = tf.conv2d(x, w, c.strides, c.pad);
    const fused = tf.fused.conv2d({ x, filter: w, strides: c.strides, pad: c.pad, bias, activation: 'relu' });
    // conv2dTranspose maps y's shape back to x's: the wasm Conv2DBackpropInput kernel.
    const back = tf.conv2dTranspose(y, w, c.x, c.strides, c.pad);
    const up = tf.tensor(values(size(y.shape), 9), y.shape);
    const loss = (a4: tf.Tensor, b4: tf.Tensor) => {
      const a = a4 as tf.Tensor4D;
      const b = b4 as tf.Tensor4D;
      return tf.add(
        tf.sum(
          tf.mul(tf.fused.conv2d({ x: a, filter: b, strides: c.strides, pad: c.pad, bias, activation: 'relu' }), up),
        ),
        tf.sum(tf.square(tf.conv2dTranspose(tf.conv2d(a, b, c.strides, c.pad), b, c.x, c.strides, c.pad))),
      );
    };
    const [dx, dw] = tf.grads(loss)([x, w]);
    return [y, fused, back, dx, dw].map((t) => t.dataSync() as Float32Array);
  });
}

describe.skipIf(!available)('native conv kernels on wasm', () => {
  it.each(CASES)('match the cpu backend (conv, fused conv, transpose, gradients): $name', async (c) => {
    const expected = await outputs('cpu', c);
    const actual = await outputs('wasm', c);
    expect(activeMatMulKernels()).toBe('native-sgemm');
    const names = ['conv2d', 'fused conv2d + bias + relu', 'conv2dTranspose', 'dx', 'dW'];
    actual.forEach((a, i) => expect(relativeError(a, expected[i]), names[i]).toBeLessThan(1e-5));
  });
});
