// The GPU path on a software adapter: tfjs's webgpu backend on Dawn (the `webgpu` npm package) with
// SwiftShader's Vulkan driver from Debian's chromium. It is about a thousand times slower than a GPU,
// so the models here are tiny; what is held is that the numbers match the CPU chain's.
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseRunConfig, type RunConfigInput } from '../../../src-main/api/config';
import { createModel } from '../../../src-main/models';
import type { LossOptions } from '../../../src-main/models/types';
import { createAdam } from '../../../src-main/training/accelerate';
import { initBackend } from '../../../src-main/training/backend';
import { calibrate } from '../../../src-main/training/calibrate';
import { CONTROL, type TrainerEvent } from '../../../src-main/training/events';
import { trainStepAsync } from '../../../src-main/training/step';
import { train } from '../../../src-main/training/trainer';
import { SWIFTSHADER_ENV, swiftshaderRequirement } from '../../helpers/webgpu';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const swiftshader = swiftshaderRequirement(import.meta.filename);

// Set before Dawn first loads in this process (the main thread's env reaches the Vulkan loader).
if (swiftshader.ok) Object.assign(process.env, SWIFTSHADER_ENV);

afterAll(() => {
  delete process.env.VAE_WORKBENCH_WEBGPU_ADAPTER;
});

const STEPS = 4;

/** Losses of STEPS optimizer steps of `input`'s model on `backend`, from the same init, data and noise. */
async function losses(
  backend: 'webgpu' | 'wasm',
  input: RunConfigInput,
  inputShape: [number, number, number],
  steps = STEPS,
) {
  await initBackend(backend);
  const config = parseRunConfig(input);
  const model = createModel(config.model, inputShape, 11);
  const optimizer = createAdam(config.train.lr);
  const dim = inputShape[0] * inputShape[1] * inputShape[2];
  const batch = config.train.batchSize;
  const out: number[] = [];
  try {
    // One fixed batch, so that the loss falls step by step; fresh noise every step.
    const pixels = new Float32Array(batch * dim);
    for (let i = 0; i < pixels.length; i++) pixels[i] = ((i * 7) % 11) / 10;
    for (let step = 0; step < steps; step++) {
      const options: LossOptions = {
        klWeight: 1,
        freeBits: 0,
        capacity: null,
        objective: config.train.objective,
        samples: config.train.objectiveSamples,
        seed: 100 + step,
      };
      out.push((await trainStepAsync(model, optimizer, model.trainableVariables(), pixels, batch, options))[0]);
    }
  } finally {
    model.dispose();
    optimizer.dispose();
  }
  return out;
}

function expectClose(gpu: number[], cpu: number[]) {
  expect(gpu).toHaveLength(cpu.length);
  for (let i = 0; i < cpu.length; i++) {
    expect(Math.abs(gpu[i] - cpu[i]) / Math.abs(cpu[i])).toBeLessThan(1e-3);
  }
}

describe.runIf(swiftshader.ok)('webgpu backend on SwiftShader', () => {
  it('initializes on the software adapter and names it', async () => {
    const info = await initBackend('webgpu');
    expect(info.name).toBe('webgpu');
    expect(info.adapter?.isFallbackAdapter).toBe(true);
    expect(info.adapter?.description).toMatch(/SwiftShader/);
    expect(tf.getBackend()).toBe('webgpu');
  });

  it('an MLP VAE step by step matches the wasm backend to 1e-3 relative', async () => {
    const input: RunConfigInput = { model: { hidden: [64], latentDim: 8 }, train: { batchSize: 16, lr: 1e-2 } };
    const gpu = await losses('webgpu', input, [28, 28, 1]);
    const cpu = await losses('wasm', input, [28, 28, 1]);
    expectClose(gpu, cpu);
    expect(cpu[STEPS - 1]).toBeLessThan(cpu[0]); // it trains
  });

  it('a conv VAE and a ladder VAE match the wasm backend too', async () => {
    const conv: RunConfigInput = {
      model: { architecture: 'conv', latentDim: 4 },
      train: { batchSize: 2, lr: 1e-3 },
    };
    expectClose(await losses('webgpu', conv, [28, 28, 1], 2), await losses('wasm', conv, [28, 28, 1], 2));
    const ladder: RunConfigInput = {
      model: { kind: 'ladder', hidden: [32, 16], ladderLatentDims: [8, 4] },
      train: { batchSize: 8, lr: 1e-2 },
    };
    expectClose(await losses('webgpu', ladder, [28, 28, 1], 2), await losses('wasm', ladder, [28, 28, 1], 2));
  });

  it('calibration times the run on both and keeps the faster (the CPU, against a software GPU)', async () => {
    const gpu = await initBackend('webgpu');
    const config = parseRunConfig({ model: { hidden: [64], latentDim: 8 }, train: { batchSize: 32 } });
    const chosen = await calibrate({ ...gpu, calibrate: true }, config, [28, 28, 1]);
    expect(chosen.name).not.toBe('webgpu');
    const note = chosen.skipped.find((s) => s.startsWith('webgpu slower in calibration'));
    expect(note).toMatch(/^webgpu slower in calibration: [\d.]+ ms\/step on SwiftShader.* vs [\d.]+ ms\/step on \w+$/);
    const [gpuMs, cpuMs] = [...note!.matchAll(/([\d.]+) ms\/step/g)].map((m) => Number(m[1]));
    expect(gpuMs).toBeGreaterThan(cpuMs);
    expect(tf.getBackend()).toBe(chosen.name === 'tensorflow' ? 'tensorflow' : chosen.name);
  });

  it('the trainer runs a whole tiny run on webgpu and records the adapter in its backend', async () => {
    const control = new Int32Array(new SharedArrayBuffer(4));
    const events: TrainerEvent[] = [];
    const config = parseRunConfig({
      model: { hidden: [32], latentDim: 3 },
      data: { dataset: 'mnist', trainSize: 64, testSize: 16, binarization: 'dynamic' },
      train: { epochs: 1, batchSize: 32, backend: 'webgpu' },
      eval: { iwaeK: 2, iwaeExamples: 8, gridSize: 4 },
    });
    const status = await train({ runId: 'gpu', config, resumeFrom: null }, control, (e) => events.push(e));
    expect(Atomics.load(control, 0)).toBe(CONTROL.run);
    expect(status).toBe('completed');
    const started = events.find((e) => e.type === 'started');
    expect(started && started.type === 'started' && started.backend).toMatch(/^webgpu\(SwiftShader.*software\)$/);
    const losses = events.flatMap((e) => (e.type === 'metrics' ? e.points.filter((p) => p.name === 'train/loss') : []));
    expect(losses).toHaveLength(2);
    expect(losses.every((p) => Number.isFinite(p.value))).toBe(true);
  });
});

describe('webgpu backend without an adapter', () => {
  // In a child process: the Vulkan loader reads VK_ICD_FILENAMES once, when Dawn first starts.
  const probe = (env: Record<string, string>, backend: string) =>
    spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import('./src-main/training/backend.ts').then(m => m.initBackend('${backend}')).then(` +
          `i => console.log(JSON.stringify({ name: i.name, skipped: i.skipped })), e => { console.log('ERROR ' + e.message); })`,
      ],
      { cwd: ROOT, env: { ...process.env, VAE_WORKBENCH_WEBGPU_ADAPTER: '', ...env }, encoding: 'utf8' },
    );

  it('--backend webgpu fails at once, saying what is missing and how to get it', () => {
    const started = Date.now();
    const result = probe(
      { VK_ICD_FILENAMES: '/nonexistent/icd.json', VAE_WORKBENCH_WEBGPU_ADAPTER: 'hardware' },
      'webgpu',
    );
    const line = result.stdout.split('\n').find((l) => l.startsWith('ERROR')) ?? result.stdout + result.stderr;
    expect(line).toMatch(
      /Backend 'webgpu' is not available here: webgpu unavailable: (the webgpu package|no WebGPU adapter)/,
    );
    expect(line).toMatch(/install|Vulkan/);
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  it("'auto' falls back to the CPU chain and records why it left webgpu out", () => {
    const result = probe({ VK_ICD_FILENAMES: '/nonexistent/icd.json' }, 'auto');
    const info = JSON.parse(result.stdout.trim().split('\n').pop()!) as { name: string; skipped: string[] };
    expect(['tensorflow', 'wasm', 'cpu']).toContain(info.name);
    expect(info.skipped[0]).toMatch(/^webgpu (skipped|unavailable): /);
  });
});
