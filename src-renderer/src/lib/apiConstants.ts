// Run-time values of the API for the renderer's first paint. The enumerations and
// flattenConfig come from @api/constants, which has no zod; @api/config and @api/contract build
// their zod schemas when they load, so importing from them would put zod on the start-up path.
// Only the form's validation (lib/runFormValidate.ts) loads the schemas, lazily. DEFAULT_CONFIG
// is the schema's defaults written out (checked by value in tests/components/apiConstants.test.ts).
import type { RunConfig } from '@api/config';

export {
  ACTIVATIONS,
  ACTIVE_STATUSES,
  ARCHITECTURES,
  BACKEND_PREFERENCES,
  BINARIZATIONS,
  BUILTIN_DATASETS,
  BUILTIN_DATASET_LABELS,
  codeShareBinWidth,
  flattenConfig,
  IMAGE_KINDS,
  KL_SCHEDULES,
  LIKELIHOODS,
  MODEL_KINDS,
  OBJECTIVES,
  RUN_STATUSES,
  SWEEP_PARAMS,
} from '@api/constants';

/** `RunConfigSchema.parse({})`: the form's initial values (checked in tests/components/apiConstants.test.ts). */
export const DEFAULT_CONFIG: RunConfig = {
  model: {
    kind: 'vae',
    architecture: 'mlp',
    hidden: [400],
    activation: 'relu',
    likelihood: 'bernoulli',
    gaussianVariance: 'fixed',
    gaussianSigma: 0.1,
    latentDim: 20,
    posterior: 'gaussian',
    flowLength: 4,
  },
  data: { dataset: 'mnist', trainSize: 9000, testSize: 1000, binarization: 'dynamic', splitSeed: 0, dequantize: false },
  train: {
    epochs: 10,
    batchSize: 128,
    lr: 0.001,
    seed: 0,
    objective: 'elbo',
    objectiveSamples: 5,
    klSchedule: 'constant',
    warmupSteps: 1000,
    cycles: 4,
    cycleRatio: 0.5,
    freeBits: 0,
    freeBitsPer: 'dimension',
    backend: 'auto',
  },
  eval: { iwaeK: 100, iwaeExamples: null, everyEpochs: 1, gridSize: 8, migPoints: 10_000 },
};
