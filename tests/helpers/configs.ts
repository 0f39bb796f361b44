// Small run configs that train in seconds on the wasm backend.
import type { RunConfigInput } from '../../src-main/api/config';

export const tinyConfig = (train: Record<string, unknown> = {}): RunConfigInput => ({
  model: { hidden: [32], latentDim: 3 },
  data: { dataset: 'mnist', trainSize: 256, testSize: 32, binarization: 'dynamic' },
  train: { epochs: 2, batchSize: 32, lr: 3e-3, seed: 1, backend: 'wasm', ...train },
  eval: { iwaeK: 4, iwaeExamples: 8, gridSize: 4 },
});
