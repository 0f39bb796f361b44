// The run configuration: the one shape every entry point (form, CLI, HTTP, IPC, replay) hands to
// the trainer. It is validated once, here, at the boundary; everything inside trusts the type.
import { z } from 'zod';
import {
  MODEL_KINDS,
  ARCHITECTURES,
  ACTIVATIONS,
  LIKELIHOODS,
  BINARIZATIONS,
  KL_SCHEDULES,
  OBJECTIVES,
  BACKEND_PREFERENCES,
} from './constants';
import { costProblem } from './cost';

export {
  MODEL_KINDS,
  ARCHITECTURES,
  ACTIVATIONS,
  LIKELIHOODS,
  BUILTIN_DATASETS,
  BINARIZATIONS,
  KL_SCHEDULES,
  OBJECTIVES,
  BACKEND_PREFERENCES,
  flattenConfig,
} from './constants';

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const num = (min: number, max: number) => z.number().min(min).max(max);

export const ModelConfigSchema = z
  .object({
    kind: z.enum(MODEL_KINDS).default('vae'),
    architecture: z.enum(ARCHITECTURES).default('mlp'),
    /** Latent size of a single-layer model; for a ladder, the size of each stochastic layer, bottom first. */
    latentDim: int(1, 512).default(20),
    ladderLatentDims: z.array(int(1, 512)).min(2).max(5).default([32, 16]),
    /** Hidden layer widths of the encoder; the decoder mirrors them. */
    hidden: z.array(int(1, 4096)).min(1).max(6).default([400]),
    activation: z.enum(ACTIVATIONS).default('relu'),
    likelihood: z.enum(LIKELIHOODS).default('bernoulli'),
    /** Gaussian likelihood only: a fixed sigma, or a learned per-pixel log-variance. */
    gaussianVariance: z.enum(['fixed', 'learned']).default('fixed'),
    gaussianSigma: num(1e-3, 10).default(0.1),
    /** Weight on the KL term (1 for a plain VAE). */
    beta: num(0, 1000).default(1),
    /** Controlled capacity (Burgess et al. 2018): loss = recon + gamma * |KL - C|, C linear to cMax over steps. */
    capacity: z
      .object({
        gamma: num(0, 1e5),
        cMax: num(0, 1e4),
        steps: int(1, 1e9),
      })
      .nullable()
      .default(null),
  })
  .strict();

export const DataConfigSchema = z
  .object({
    /** 'mnist' | 'fashion-mnist' | 'shapes', or a path to an IDX (.gz), .npy file or a folder of PNGs. */
    dataset: z.string().min(1).default('mnist'),
    trainSize: int(1, 1_000_000).default(9000),
    testSize: int(1, 100_000).default(1000),
    binarization: z.enum(BINARIZATIONS).default('dynamic'),
  })
  .strict();

export const TrainConfigSchema = z
  .object({
    epochs: int(1, 10_000).default(10),
    batchSize: int(1, 4096).default(128),
    lr: num(1e-7, 1).default(1e-3),
    seed: int(0, 2 ** 31 - 1).default(0),
    objective: z.enum(OBJECTIVES).default('elbo'),
    /** Importance samples per example when the objective is IWAE. */
    objectiveSamples: int(1, 256).default(5),
    klSchedule: z.enum(KL_SCHEDULES).default('constant'),
    /** Linear warm-up: steps for the KL weight to rise from 0 to its full value. */
    warmupSteps: int(1, 1e9).default(1000),
    /** Cyclical annealing (Fu et al. 2019): number of cycles M over the run, rising ratio R. */
    cycles: int(1, 1000).default(4),
    cycleRatio: num(0.01, 1).default(0.5),
    /** Free bits (Kingma et al. 2016): per-layer KL below this many nats is not penalised; 0 = off. */
    freeBits: num(0, 100).default(0),
    backend: z.enum(BACKEND_PREFERENCES).default('auto'),
  })
  .strict();

export const EvalConfigSchema = z
  .object({
    /** Importance samples for the test log-likelihood estimate (IWAE bound). */
    iwaeK: int(1, 5000).default(100),
    /** How many test examples the IWAE estimate uses (it is the costly metric). */
    iwaeExamples: int(1, 100_000).default(500),
    /** Evaluate on the test split every this many epochs (and always after the last). */
    everyEpochs: int(1, 1000).default(1),
    /** Images per grid side for samples and reconstructions. */
    gridSize: int(2, 16).default(8),
  })
  .strict();

export const RunConfigSchema = z
  .object({
    model: ModelConfigSchema.default(ModelConfigSchema.parse({})),
    data: DataConfigSchema.default(DataConfigSchema.parse({})),
    train: TrainConfigSchema.default(TrainConfigSchema.parse({})),
    eval: EvalConfigSchema.default(EvalConfigSchema.parse({})),
  })
  .strict();

export type ModelConfig = z.infer<typeof ModelConfigSchema>;
export type DataConfig = z.infer<typeof DataConfigSchema>;
export type TrainConfig = z.infer<typeof TrainConfigSchema>;
export type EvalConfig = z.infer<typeof EvalConfigSchema>;
export type RunConfig = z.infer<typeof RunConfigSchema>;
/** What a caller may send: any field may be left out and takes its default. */
export type RunConfigInput = z.input<typeof RunConfigSchema>;

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Formats zod issues as "model.latentDim: Too big: expected number to be <=512". */
export function describeIssues(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}

/** Validates a run config, filling defaults. Throws ConfigError naming each bad field and its allowed range. */
export function parseRunConfig(input: unknown): RunConfig {
  const result = RunConfigSchema.safeParse(input ?? {});
  if (!result.success) {
    const issues = describeIssues(result.error);
    throw new ConfigError(`Invalid run config: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  const config = result.data;
  // Cross-field rules that a per-field schema cannot express.
  const extra: { path: string; message: string }[] = [];
  if (config.model.kind === 'ladder' && config.model.ladderLatentDims.length > config.model.hidden.length + 4) {
    extra.push({ path: 'model.ladderLatentDims', message: 'at most hidden.length + 4 stochastic layers' });
  }
  if (config.model.kind === 'ladder' && config.model.architecture === 'conv') {
    extra.push({ path: 'model.architecture', message: "the ladder VAE supports only 'mlp'" });
  }
  if (config.model.capacity && config.model.kind !== 'beta-vae') {
    extra.push({ path: 'model.capacity', message: "controlled capacity needs model.kind 'beta-vae'" });
  }
  if (config.model.kind === 'vae' && config.model.beta !== 1) {
    extra.push({ path: 'model.beta', message: "a plain 'vae' has beta = 1; use kind 'beta-vae' for another value" });
  }
  if (config.data.testSize < config.eval.gridSize) {
    extra.push({
      path: 'data.testSize',
      message: `must be at least eval.gridSize (${config.eval.gridSize}) for the reconstruction grid`,
    });
  }
  // The whole config's memory estimate against the run budget (api/cost.ts).
  const cost = costProblem(config);
  if (cost) extra.push({ path: 'train.batchSize', message: cost });
  if (extra.length > 0) {
    throw new ConfigError(`Invalid run config: ${extra.map((i) => `${i.path}: ${i.message}`).join('; ')}`, extra);
  }
  return config;
}
