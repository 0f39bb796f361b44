// The backend chain with and without the native addon: 'auto' walks tfjs-node -> wasm + native
// sgemm -> wasm (transposed fast path) -> cpu, a missing addon is recorded, forced choices are
// honoured or refused; and a few training steps of the product's VAE agree with and without the
// accelerated kernels.
import { afterEach, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelConfigSchema } from '../../../src-main/api/config';
import { createModel } from '../../../src-main/models';
import { initBackend } from '../../../src-main/training/backend';
import { requirement } from '../../helpers/requirements';
import {
  activeMatMulKernels,
  loadSgemmAddon,
  resetSgemmAddonCache,
  type Accelerator,
} from '../../../src-main/training/accelerate';

const available = requirement(
  import.meta.filename,
  loadSgemmAddon().addon !== null,
  'the native sgemm addon is not built (it needs a BLAS: apt-get install libopenblas-dev, then npm rebuild vae-workbench-sgemm)',
).ok;
const saved = process.env.VAE_WORKBENCH_SGEMM;

afterEach(() => {
  if (saved === undefined) delete process.env.VAE_WORKBENCH_SGEMM;
  else process.env.VAE_WORKBENCH_SGEMM = saved;
  resetSgemmAddonCache();
});

/** As if the addon had failed to build: the loader finds nothing. */
function withoutAddon(): void {
  process.env.VAE_WORKBENCH_SGEMM = 'off';
  resetSgemmAddonCache();
}

describe('backend chain and accelerators', () => {
  it('the addon loader reports a missing build instead of throwing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sgemm-'));
    try {
      copyFileSync(join(import.meta.dirname, '../../../native/index.cjs'), join(dir, 'index.cjs'));
      const loaded = createRequire(import.meta.url)(join(dir, 'index.cjs')) as {
        addon: unknown;
        loadError: string | null;
      };
      expect(loaded.addon).toBeNull();
      expect(loaded.loadError).toMatch(/sgemm\.node/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('auto: tfjs-node when it loads, else wasm with the best kernels available, recorded', async () => {
    const info = await initBackend('auto');
    expect(['tensorflow', 'wasm', 'cpu']).toContain(info.name);
    if (info.name === 'wasm') {
      expect(info.accelerator).toBe(available ? 'native-sgemm' : 'wasm-transpose-fast-path');
      expect(activeMatMulKernels()).toBe(info.accelerator);
      if (available) expect(info.acceleratorDetail).toMatch(/BLAS thread/);
    }
    // Without a hardware GPU, webgpu is left out first (with its reason), then tfjs-node where absent.
    expect(info.skipped[0]).toMatch(/^webgpu (skipped|unavailable): /);
    if (info.name !== 'tensorflow') expect(info.skipped[1]).toMatch(/tfjs-node/);
  });

  it('without the addon, wasm falls back to the transposed fast path and says why', async () => {
    withoutAddon();
    const info = await initBackend('wasm');
    expect(info).toMatchObject({ name: 'wasm', accelerator: 'wasm-transpose-fast-path' });
    expect(info.skipped.join('; ')).toMatch(/native sgemm/);
    expect(tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3, 4]]), false, true).arraySync())).toEqual([
      [11],
    ]);
  });

  it('forcing the native kernel without the addon is refused; cpu still works after it', async () => {
    withoutAddon();
    await expect(initBackend('wasm', { accelerator: 'native-sgemm' })).rejects.toThrow(
      /not available here.*native sgemm/,
    );
    const cpu = await initBackend('cpu');
    expect(cpu).toMatchObject({ name: 'cpu', accelerator: 'none' });
  });

  it('the built-in kernels can be forced', async () => {
    const info = await initBackend('wasm', { accelerator: 'none' });
    expect(info.accelerator).toBe('none');
    expect(activeMatMulKernels()).toBe('none');
  });

  // Needs the built addon; absent only where it could not be built (covered by the tests above).
  it.skipIf(!available)('the native kernel can be forced and takes a share of the BLAS threads', async () => {
    const info = await initBackend('wasm', { accelerator: 'native-sgemm', threads: 1 });
    expect(info.accelerator).toBe('native-sgemm');
    expect(info.acceleratorDetail).toMatch(/1 BLAS thread\(s\)/);
    const plan = loadSgemmAddon().addon!.threadsPlan();
    expect(plan.users).toBeGreaterThanOrEqual(1);
    loadSgemmAddon().addon!.setThreadsCap(0);
  });

  /** Losses of a few Adam steps of the product's 784-512-32 VAE (the trainer's step). */
  async function losses(accelerator: Accelerator, steps: number): Promise<number[]> {
    await initBackend('wasm', { accelerator });
    const config = ModelConfigSchema.parse({ kind: 'vae', hidden: [512], latentDim: 32, likelihood: 'bernoulli' });
    const model = createModel(config, [28, 28, 1], 11);
    const optimizer = tf.train.adam(1e-3);
    const variables = model.trainableVariables();
    const pixels = new Float32Array(64 * 784).map((_, i) => ((i * 2654435761) % 97 < 13 ? 1 : 0));
    const out: number[] = [];
    for (let step = 0; step < steps; step++) {
      const loss = tf.tidy(() => {
        const x = tf.tensor2d(pixels, [64, 784]);
        const { value, grads } = tf.variableGrads(
          () =>
            model.lossTerms(x, {
              klWeight: 1,
              freeBits: 0,
              capacity: null,
              objective: 'elbo',
              samples: 1,
              seed: 100 + step,
            }).loss,
          variables,
        );
        optimizer.applyGradients(grads as unknown as Parameters<typeof optimizer.applyGradients>[0]);
        return value;
      });
      out.push(loss.dataSync()[0]);
      loss.dispose();
    }
    model.dispose();
    optimizer.dispose();
    return out;
  }

  const curveCase = (accelerator: Accelerator) => async () => {
    const steps = 4;
    const reference = await losses('none', steps);
    const accelerated = await losses(accelerator, steps);
    expect(reference[steps - 1]).toBeLessThan(reference[0]);
    accelerated.forEach((loss, i) =>
      expect(Math.abs(loss - reference[i]) / Math.abs(reference[i]), `step ${i}`).toBeLessThan(1e-4),
    );
  };
  it.skipIf(!available)('training curves agree with and without the native kernel', curveCase('native-sgemm'));
  it('training curves agree with and without the transposed fast path', curveCase('wasm-transpose-fast-path'));
});
