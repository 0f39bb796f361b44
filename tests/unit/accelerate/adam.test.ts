// The fused native Adam update (accelerate/adam.ts) against tf.train.adam: same parameters and
// moments after N steps, the same checkpoint slots in both directions, no aliasing surprises from
// the in-place update, and tfjs Adam whenever the native kernels are not in use.
import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../src-main/training/backend';
import {
  createAdam,
  FusedAdamOptimizer,
  loadSgemmAddon,
  resetSgemmAddonCache,
} from '../../../src-main/training/accelerate';
import { requirement } from '../../helpers/requirements';

const available = requirement(
  import.meta.filename,
  loadSgemmAddon().addon !== null && typeof loadSgemmAddon().addon?.adam === 'function',
  'the native sgemm addon is not built (it needs a BLAS: apt-get install libopenblas-dev, then npm rebuild vae-workbench-sgemm)',
).ok;
const saved = process.env.VAE_WORKBENCH_SGEMM;

afterEach(() => {
  if (saved === undefined) delete process.env.VAE_WORKBENCH_SGEMM;
  else process.env.VAE_WORKBENCH_SGEMM = saved;
  resetSgemmAddonCache();
});

type Gradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];

/** Deterministic pseudo-random floats in [-scale, scale). */
function values(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return out;
}

// Shapes of the VAE's variables, a small one below the element-wise kernels' size threshold.
const SHAPES: number[][] = [[300, 40], [40], [7], [40, 300]];

/** Runs `steps` Adam steps on fresh variables with fixed gradients per step; returns parameters and slots. */
async function run(
  optimizer: tf.AdamOptimizer,
  steps: number,
  tag: string,
  asList = false,
): Promise<{ params: Float32Array[]; slots: Float32Array[] }> {
  const variables = SHAPES.map((shape, i) =>
    tf.variable(
      tf.tensor(
        values(
          shape.reduce((a, b) => a * b, 1),
          1 + i,
          0.5,
        ),
        shape,
      ),
      true,
      `${tag}_${i}`,
    ),
  );
  for (let step = 0; step < steps; step++) {
    tf.tidy(() => {
      const grads = variables.map((v, i) =>
        tf.tensor(values(v.size, 1000 * step + i, step % 3 === 0 ? 1e-3 : 2), v.shape),
      );
      if (asList) optimizer.applyGradients(variables.map((v, i) => ({ name: v.name, tensor: grads[i] })));
      else
        optimizer.applyGradients(
          Object.fromEntries(variables.map((v, i) => [v.name, grads[i]])) as unknown as Gradients,
        );
    });
  }
  const params = variables.map((v) => v.dataSync() as Float32Array);
  const slots = await Promise.all(
    (await optimizer.getWeights()).slice(1).map(async (w) => (await w.tensor.data()) as Float32Array),
  );
  variables.forEach((v) => v.dispose());
  return { params, slots };
}

function expectClose(actual: Float32Array[], expected: Float32Array[], rtol: number): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, k) => {
    const e = expected[k];
    expect(a.length).toBe(e.length);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - e[i]) / Math.max(Math.abs(e[i]), 1e-6));
    expect(worst, `array ${k}`).toBeLessThanOrEqual(rtol);
  });
}

describe('fused native Adam', () => {
  it.skipIf(!available)(
    'matches tf.train.adam after 25 steps (parameters, m and v), gradients as a map or a list',
    async () => {
      await initBackend('wasm', { accelerator: 'native-sgemm' });
      const fused = createAdam(3e-3);
      expect(fused).toBeInstanceOf(FusedAdamOptimizer);
      const reference = tf.train.adam(3e-3);
      expect(fused.getConfig()).toEqual(reference.getConfig());
      expect(reference.getConfig()).toMatchObject({ beta1: 0.9, beta2: 0.999, epsilon: 1e-7 });
      for (const asList of [false, true]) {
        const a = await run(fused, 25, `fused${asList}`, asList);
        const b = await run(reference, 25, `ref${asList}`, asList);
        expectClose(a.params, b.params, 1e-5);
        expectClose(a.slots, b.slots, 1e-5);
      }
      expect((fused as FusedAdamOptimizer).stats).toMatchObject({ fused: 50, deferred: 0 });
      expect(fused.iterations).toBe(reference.iterations);
      const powers = (o: tf.AdamOptimizer) =>
        ['accBeta1', 'accBeta2'].map((k) => (o as unknown as Record<string, tf.Variable>)[k].dataSync()[0]);
      expect(powers(fused)).toEqual(powers(reference));
      fused.dispose();
      reference.dispose();
    },
  );

  it.skipIf(!available)(
    'checkpoint slots are tfjs Adam slots: same names and order, and state moves both ways',
    async () => {
      await initBackend('wasm', { accelerator: 'native-sgemm' });
      const reference = tf.train.adam(1e-3);
      const fused = createAdam(1e-3);
      await run(reference, 3, 'a');
      await run(fused, 3, 'a');
      const names = (ws: { name: string }[]) => ws.map((w) => w.name);
      expect(names(await fused.getWeights())).toEqual(names(await reference.getWeights()));
      // tfjs state -> fused optimizer, and fused state -> tfjs optimizer: continuing gives the same result.
      const copy = async (from: tf.AdamOptimizer, to: tf.AdamOptimizer) =>
        to.setWeights(
          await Promise.all(
            (await from.getWeights()).map(async (w) => ({
              name: w.name,
              tensor: tf.tensor(await w.tensor.data(), w.tensor.shape, w.tensor.dtype),
            })),
          ),
        );
      const resumedFused = createAdam(1e-3);
      const resumedTfjs = tf.train.adam(1e-3);
      await copy(reference, resumedFused);
      await copy(fused, resumedTfjs);
      const a = await run(resumedFused, 4, 'b');
      const b = await run(resumedTfjs, 4, 'b');
      expectClose(a.params, b.params, 1e-5);
      expect((resumedFused as FusedAdamOptimizer).stats.copies).toBeGreaterThan(0); // setWeights' slots share their tensors' buffers
      for (const o of [reference, fused, resumedFused, resumedTfjs]) o.dispose();
    },
  );

  it.skipIf(!available)(
    'the in-place update leaves tensors that shared a buffer with a variable untouched',
    async () => {
      await initBackend('wasm', { accelerator: 'native-sgemm' });
      const optimizer = createAdam(1e-2);
      const v = tf.variable(tf.tensor(values(512, 3)), true, 'aliased');
      const before = v.dataSync().slice();
      const clone = tf.clone(v); // the copy-free Identity shares the buffer
      tf.tidy(() => optimizer.applyGradients({ aliased: tf.ones([512]) } as unknown as Gradients));
      expect(clone.dataSync()).toEqual(before);
      expect(v.dataSync()[0]).not.toBe(before[0]);
      clone.dispose();
      v.dispose();
      optimizer.dispose();
    },
  );

  it('without the native kernels it is tfjs Adam', async () => {
    process.env.VAE_WORKBENCH_SGEMM = 'off';
    resetSgemmAddonCache();
    await initBackend('wasm');
    const optimizer = createAdam(1e-3);
    expect(optimizer).not.toHaveProperty('stats');
    expect(optimizer.getClassName()).toBe('Adam');
    optimizer.dispose();
    await initBackend('cpu');
    expect(createAdam(1e-3)).not.toHaveProperty('stats');
  });

  it.skipIf(!available)('a fused optimizer defers to tfjs when the backend changes under it', async () => {
    await initBackend('wasm', { accelerator: 'native-sgemm' });
    const fused = createAdam(1e-3) as FusedAdamOptimizer;
    await initBackend('cpu');
    const reference = tf.train.adam(1e-3);
    const a = await run(fused, 3, 'cpu_a');
    const b = await run(reference, 3, 'cpu_b');
    expect(fused.stats).toMatchObject({ fused: 0, deferred: 3 });
    expectClose(a.params, b.params, 0);
    fused.dispose();
    reference.dispose();
  });
});
