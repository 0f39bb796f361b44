// 'auto' and the GPU: a small MLP on a weak integrated GPU can be slower than the CPU chain, so
// before a run trains on a hardware WebGPU adapter its own step (model, batch size, objective) is
// timed on the GPU and on the CPU chain, on a throwaway copy of the model, and the faster one wins.
// The run's own model and optimizer are built afterwards, so the calibration never changes its numbers.
import * as tf from '@tensorflow/tfjs';
import type { RunConfig } from '../api/config';
import { createModel } from '../models';
import type { LossOptions } from '../models/types';
import { createAdam } from './accelerate';
import { initBackend, type BackendInfo } from './backend';
import { trainStepAsync } from './step';
import { describeAdapter } from './webgpu';

const WARMUP_STEPS = 2;
const TIMED_STEPS = 3;

/** Milliseconds per optimizer step of `config`'s model on the current backend (median of the timed steps). */
export async function timeStep(config: RunConfig, inputShape: [number, number, number]): Promise<number> {
  const model = createModel(config.model, inputShape, 0);
  const optimizer = createAdam(config.train.lr);
  const inputDim = inputShape[0] * inputShape[1] * inputShape[2];
  const count = config.train.batchSize;
  const pixels = new Float32Array(count * inputDim);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 2654435761) % 7 < 3 ? 1 : 0;
  const options: LossOptions = {
    klWeight: 1,
    freeBits: config.train.freeBits,
    capacity: null,
    objective: config.train.objective,
    samples: config.train.objectiveSamples,
    seed: 0,
  };
  const times: number[] = [];
  try {
    const variables = model.trainableVariables();
    for (let i = 0; i < WARMUP_STEPS + TIMED_STEPS; i++) {
      const started = performance.now();
      await trainStepAsync(model, optimizer, variables, pixels, count, options);
      if (i >= WARMUP_STEPS) times.push(performance.now() - started);
    }
  } finally {
    model.dispose();
    optimizer.dispose();
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/**
 * Given 'auto''s webgpu choice, times the run's step there and on the CPU chain and returns the backend
 * to train on, set as the current one, with the figures in its notes.
 */
export async function calibrate(
  gpu: BackendInfo,
  config: RunConfig,
  inputShape: [number, number, number],
): Promise<BackendInfo> {
  const adapter = gpu.adapter ? describeAdapter(gpu.adapter) : 'webgpu';
  let gpuMs: number;
  try {
    gpuMs = await timeStep(config, inputShape);
  } catch (error) {
    // e.g. "Kernel 'X' not registered for backend 'webgpu'": the model cannot train there
    const cpu = await initBackend('auto', { skipWebgpu: true });
    return {
      ...cpu,
      skipped: [
        ...gpu.skipped,
        `webgpu (${adapter}) skipped: ${(error as Error).message.split('\n')[0]}`,
        ...cpu.skipped,
      ],
    };
  }
  const cpu = await initBackend('auto', { skipWebgpu: true });
  const cpuMs = await timeStep(config, inputShape);
  const figures = `${gpuMs.toFixed(1)} ms/step on ${adapter} vs ${cpuMs.toFixed(1)} ms/step on ${cpu.name}`;
  if (cpuMs <= gpuMs) {
    return { ...cpu, skipped: [...gpu.skipped, `webgpu slower in calibration: ${figures}`, ...cpu.skipped] };
  }
  await tf.setBackend('webgpu');
  await tf.ready();
  return { ...gpu, calibrate: false, skipped: [...gpu.skipped, `webgpu faster in calibration: ${figures}`] };
}
