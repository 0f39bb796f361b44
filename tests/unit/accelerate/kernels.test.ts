// The accelerated wasm kernels against the built-in ones, on the same inputs in the same backend:
// matmul (plain, transposed, batched, broadcast; fused bias + activations), the copy-free
// Identity/Tile, and (native only) the element-wise kernels. Relative error = max|x - y| / max|y|.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src-main/training/backend';
import { installMatMulKernels, loadSgemmAddon, type Accelerator } from '../../../src-main/training/accelerate';
import { requirement } from '../../helpers/requirements';
import { relativeError } from '../../helpers/numeric';

const addon = loadSgemmAddon().addon;
// The native kernel runs wherever the addon was built (here: OpenBLAS from libopenblas-dev). It is
// skipped only where the addon is absent (no BLAS or compiler at install), which is the fallback
// that chain.test.ts covers.
const available = requirement(
  import.meta.filename,
  addon !== null,
  'the native sgemm addon is not built (it needs a BLAS: apt-get install libopenblas-dev, then npm rebuild vae-workbench-sgemm)',
).ok;

let seed = 1;
function random(shape: number[]): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', seed++);
}

/**
 * Runs `op` with the built-in kernels (or `reference`, also on the built-in kernels) and with
 * `kind`; returns the relative error and both shapes.
 */
function compare(
  kind: Accelerator,
  op: () => tf.Tensor,
  reference: () => tf.Tensor = op,
): { error: number; shapes: [number[], number[]] } {
  installMatMulKernels('none');
  const expected = reference();
  installMatMulKernels(kind, kind === 'native-sgemm' ? addon : null);
  const actual = op();
  const result = {
    error: relativeError(actual.dataSync(), expected.dataSync()),
    shapes: [actual.shape, expected.shape] as [number[], number[]],
  };
  tf.dispose([expected, actual]);
  return result;
}

const ACTIVATE: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  linear: (x) => x,
  relu: (x) => tf.relu(x),
  relu6: (x) => tf.relu6(x),
  leakyrelu: (x) => tf.leakyRelu(x, 0.1),
  sigmoid: (x) => tf.sigmoid(x),
  elu: (x) => tf.elu(x),
};

const MATMUL_CASES: { name: string; a: number[]; b: number[]; ta: boolean; tb: boolean }[] = [
  { name: '2d', a: [37, 53], b: [53, 29], ta: false, tb: false },
  { name: '2d A^T', a: [53, 37], b: [53, 29], ta: true, tb: false },
  { name: '2d B^T', a: [37, 53], b: [29, 53], ta: false, tb: true },
  { name: '2d A^T B^T', a: [53, 37], b: [29, 53], ta: true, tb: true },
  { name: 'training shape dy W^T', a: [128, 784], b: [512, 784], ta: false, tb: true },
  { name: 'training shape x^T dy', a: [128, 784], b: [128, 512], ta: true, tb: false },
  { name: 'batched', a: [3, 17, 23], b: [3, 23, 11], ta: false, tb: false },
  { name: 'batched transposed', a: [4, 23, 17], b: [4, 11, 23], ta: true, tb: true },
  { name: 'broadcast b (rank 2)', a: [5, 17, 23], b: [23, 9], ta: false, tb: false },
  { name: 'broadcast a (batch 1)', a: [1, 17, 23], b: [6, 9, 23], ta: false, tb: true },
  { name: 'rank 4', a: [2, 3, 7, 5], b: [2, 3, 5, 4], ta: false, tb: false },
  { name: 'broadcast rank 4 vs 3', a: [2, 3, 7, 5], b: [3, 4, 5], ta: false, tb: true },
  { name: 'vector-like', a: [1, 64], b: [64, 1], ta: false, tb: false },
];

describe('accelerated wasm kernels match the built-in ones', () => {
  beforeAll(async () => {
    await initBackend('wasm', { accelerator: 'none' });
  });
  afterAll(() => installMatMulKernels('none'));

  for (const kind of ['native-sgemm', 'wasm-transpose-fast-path'] as const) {
    describe(kind, () => {
      const run = kind === 'native-sgemm' ? it.skipIf(!available) : it;
      run('BatchMatMul on random shapes (plain, transposed, batched, broadcast) within 1e-5', () => {
        for (const c of MATMUL_CASES) {
          const a = random(c.a);
          const b = random(c.b);
          const { error, shapes } = compare(kind, () => tf.matMul(a, b, c.ta, c.tb));
          expect(shapes[0], c.name).toEqual(shapes[1]);
          expect(error, c.name).toBeLessThan(1e-5);
          tf.dispose([a, b]);
        }
      });

      // The reference is the unfused product + bias + activation on the built-in kernels: the
      // built-in _FusedMatMul itself adds the bias wrongly when transposeA is set (its scalar path;
      // the error is O(1)), which the accelerated kernels fix.
      run('_FusedMatMul with bias and each activation within 1e-5', () => {
        const activations = ['linear', 'relu', 'relu6', 'leakyrelu', 'sigmoid', 'elu'] as const;
        for (const activation of activations) {
          for (const [ta, tb] of [
            [false, false],
            [true, false],
            [false, true],
          ] as const) {
            const a = random(ta ? [31, 19] : [19, 31]);
            const b = random(tb ? [13, 31] : [31, 13]);
            const bias = random([13]);
            const { error } = compare(
              kind,
              () =>
                tf.fused.matMul({
                  a: a as tf.Tensor2D,
                  b: b as tf.Tensor2D,
                  transposeA: ta,
                  transposeB: tb,
                  bias,
                  activation,
                  leakyreluAlpha: 0.1,
                }),
              () => ACTIVATE[activation](tf.add(tf.matMul(a, b, ta, tb), bias)),
            );
            expect(error, `${activation} ${ta} ${tb}`).toBeLessThan(1e-5);
            tf.dispose([a, b, bias]);
          }
        }
      });

      run('gradients through a dense layer agree', () => {
        const x = random([64, 40]);
        const w = random([40, 24]);
        const bias = random([24]);
        const f = () => {
          const g = tf.grads((xx: tf.Tensor, ww: tf.Tensor) =>
            tf.sum(
              tf.sigmoid(tf.fused.matMul({ a: xx as tf.Tensor2D, b: ww as tf.Tensor2D, bias, activation: 'relu' })),
            ),
          );
          const [dx, dw] = g([x, w]);
          return tf.concat([dx.reshape([-1]), dw.reshape([-1])]);
        };
        expect(compare(kind, f).error).toBeLessThan(1e-5);
        tf.dispose([x, w, bias]);
      });

      run('Identity and Tile (shared or block-copied buffers) give the same values', () => {
        const x = random([12, 7]);
        for (const reps of [
          [1, 1],
          [3, 1],
          [2, 2],
        ]) {
          const { error, shapes } = compare(kind, () => tf.tile(x, reps));
          expect(shapes[0]).toEqual(shapes[1]);
          expect(error).toBe(0);
        }
        const { error } = compare(kind, () => tf.clone(x));
        expect(error).toBe(0);
        // A shared buffer outlives the tensor it came from.
        installMatMulKernels(kind, kind === 'native-sgemm' ? addon : null);
        const y = random([5, 3]);
        const copy = tf.clone(y);
        const expected = Array.from(y.dataSync());
        y.dispose();
        expect(Array.from(copy.dataSync())).toEqual(expected);
        tf.dispose([x, copy]);
      });
    });
  }

  it.skipIf(!available)('native element-wise kernels (Adam, grad norm, likelihood) within 1e-5', () => {
    const a = random([300, 70]);
    const b = random([300, 70]);
    const positive = tf.tidy(() => tf.add(tf.abs(random([300, 70])), 0.1));
    const scalar = tf.scalar(0.37);
    const ops: [string, () => tf.Tensor][] = [
      ['add', () => tf.add(a, b)],
      ['sub scalar', () => tf.sub(scalar, a)],
      ['mul scalar', () => tf.mul(a, scalar)],
      ['div', () => tf.div(a, positive)],
      ['sqrt', () => tf.sqrt(positive)],
      ['square', () => tf.square(a)],
      ['softplus', () => tf.softplus(tf.mul(a, 20))],
      ['exp', () => tf.exp(a)],
      ['sigmoid', () => tf.sigmoid(tf.mul(a, 10))],
      ['sum all', () => tf.sum(a)],
      ['sum rows', () => tf.sum(a, -1)],
      ['sum cols keepDims', () => tf.sum(a, 0, true)],
      ['sum 3d leading', () => tf.sum(tf.reshape(a, [30, 10, 70]), [0, 1])],
      ['sum 3d middle (built-in)', () => tf.sum(tf.reshape(a, [30, 10, 70]), 1)],
    ];
    for (const [name, op] of ops) {
      const { error, shapes } = compare('native-sgemm', op);
      expect(shapes[0], name).toEqual(shapes[1]);
      expect(error, name).toBeLessThan(1e-5);
    }
    tf.dispose([a, b, positive, scalar]);
  });
});
