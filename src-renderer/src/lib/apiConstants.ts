// Run-time constants of the API contract and run config, for the renderer's first paint.
// `@api/contract` and `@api/config` build their zod schemas when they load (and pull in zod
// itself): importing a constant from them puts all of that on the start-up path. These copies
// are checked against the originals by type here (an edit there fails svelte-check until this
// file follows) and by value in tests/components/apiConstants.test.ts. Only the form's
// validation (lib/runFormValidate.ts) loads the schemas, lazily.
import type * as Config from '@api/config';
import type * as Contract from '@api/contract';
import type { RunConfig } from '@api/config';

/** Compiles only when A and B are the same type. */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const same = <A, B>(ok: Same<A, B>): Same<A, B> => ok;

export const RUN_STATUSES = ['queued', 'running', 'paused', 'completed', 'failed', 'cancelled', 'diverged', 'interrupted'] as const;
export const ACTIVE_STATUSES: readonly Contract.RunStatus[] = ['queued', 'running'];
export const IMAGE_KINDS = ['samples', 'reconstructions', 'traversal'] as const;
export const SWEEP_PARAMS = ['model.beta', 'model.latentDim', 'train.seed', 'train.lr'] as const;

export const MODEL_KINDS = ['vae', 'beta-vae', 'ladder'] as const;
export const ARCHITECTURES = ['mlp', 'conv'] as const;
export const ACTIVATIONS = ['relu', 'elu', 'tanh', 'leaky-relu', 'softplus'] as const;
export const LIKELIHOODS = ['bernoulli', 'gaussian'] as const;
export const BUILTIN_DATASETS = ['mnist', 'fashion-mnist', 'shapes'] as const;
export const BINARIZATIONS = ['none', 'static', 'dynamic'] as const;
export const KL_SCHEDULES = ['constant', 'linear', 'cyclical'] as const;
export const OBJECTIVES = ['elbo', 'iwae'] as const;
export const BACKEND_PREFERENCES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;

same<typeof RUN_STATUSES, typeof Contract.RUN_STATUSES>(true);
same<typeof ACTIVE_STATUSES, typeof Contract.ACTIVE_STATUSES>(true);
same<typeof IMAGE_KINDS, typeof Contract.IMAGE_KINDS>(true);
same<typeof SWEEP_PARAMS, typeof Contract.SWEEP_PARAMS>(true);
same<typeof MODEL_KINDS, typeof Config.MODEL_KINDS>(true);
same<typeof ARCHITECTURES, typeof Config.ARCHITECTURES>(true);
same<typeof ACTIVATIONS, typeof Config.ACTIVATIONS>(true);
same<typeof LIKELIHOODS, typeof Config.LIKELIHOODS>(true);
same<typeof BUILTIN_DATASETS, typeof Config.BUILTIN_DATASETS>(true);
same<typeof BINARIZATIONS, typeof Config.BINARIZATIONS>(true);
same<typeof KL_SCHEDULES, typeof Config.KL_SCHEDULES>(true);
same<typeof OBJECTIVES, typeof Config.OBJECTIVES>(true);
same<typeof BACKEND_PREFERENCES, typeof Config.BACKEND_PREFERENCES>(true);

/** `RunConfigSchema.parse({})`: the form's initial values (checked in tests/components/apiConstants.test.ts). */
export const DEFAULT_CONFIG: RunConfig = {
  model: {
    kind: 'vae',
    architecture: 'mlp',
    latentDim: 20,
    ladderLatentDims: [32, 16],
    hidden: [400],
    activation: 'relu',
    likelihood: 'bernoulli',
    gaussianVariance: 'fixed',
    gaussianSigma: 0.1,
    beta: 1,
    capacity: null,
  },
  data: { dataset: 'mnist', trainSize: 9000, testSize: 1000, binarization: 'dynamic' },
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
    backend: 'auto',
  },
  eval: { iwaeK: 100, iwaeExamples: 500, everyEpochs: 1, gridSize: 8 },
};

/** Flattens a config to dot paths, for tables and diffs: { 'model.beta': 4, ... } (as `flattenConfig` of @api/config). */
export function flattenConfig(value: unknown, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      Object.assign(out, flattenConfig(v, prefix ? `${prefix}.${k}` : k));
    }
  } else {
    out[prefix] = value;
  }
  return out;
}
