// The run configuration: the one shape every entry point (form, CLI, HTTP, IPC, replay) hands to
// the trainer. It is validated once, here, at the boundary; everything inside trusts the type.
import { z } from 'zod';
import {
  MODEL_KINDS,
  BINARIZATIONS,
  KL_SCHEDULES,
  OBJECTIVES,
  BACKEND_PREFERENCES,
  FREE_BITS_GROUPS,
  GAUSSIAN_SIGMA_FLOOR,
} from './constants';
import { costProblem } from './cost';
import {
  defaultModelConfig,
  foreignKeyMessage,
  inapplicableFields,
  MODEL_CONFIGS,
  ModelConfigSchema,
  upgradeFlatModel,
  type ModelKind,
} from '../models/configs';

export {
  POSTERIORS,
  CODEBOOK_UPDATES,
  GAUSSIAN_SIGMA_FLOOR,
  FREE_BITS_GROUPS,
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

// `model` is one schema per model kind (models/<kind>/config.ts), a discriminated union on `kind`.
export { ModelConfigSchema };
export type {
  ModelConfigOf,
  ModelKind,
  VaeConfig,
  BetaVaeConfig,
  LadderConfig,
  BetaTcvaeConfig,
  VqVaeConfig,
} from '../models/configs';

export const DataConfigSchema = z
  .object({
    /** 'mnist' | 'fashion-mnist' | 'shapes', or a path to an IDX (.gz), .npy file or a folder of PNGs. */
    dataset: z.string().min(1).default('mnist'),
    trainSize: int(1, 1_000_000).default(9000),
    /** The test set: the first testSize examples of the published test split (t10k) where there is one. */
    testSize: int(1, 100_000).default(1000),
    /**
     * Left out: 'dynamic' for a Bernoulli likelihood, 'none' for a Gaussian one (parseRunConfig
     * fills it from model.likelihood).
     */
    binarization: z.enum(BINARIZATIONS).default('dynamic'),
    /**
     * Seed of the train/test split of sources without a published one, of the training subset, of
     * static binarization and of the test set's fixed binarization. Never train.seed: runs that differ
     * only in train.seed evaluate on the same test set.
     */
    splitSeed: int(0, 2 ** 31 - 1).default(0),
    /**
     * Uniform dequantization of 8-bit images for a Gaussian likelihood (Theis et al. 2016):
     * y = (x*255 + u)/256, u ~ U(0,1); the reported ELBO/IWAE are then bounds on the discrete
     * log-likelihood, log P(x) >= E[log p(y)] - D log 256. Left out: true for a Gaussian likelihood
     * with binarization 'none', else false.
     */
    dequantize: z.boolean().default(false),
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
    /**
     * Free bits (Kingma et al. 2016, openai/iaf kl_min): the batch-mean KL of each latent dimension
     * (freeBitsPer 'dimension', as kl_min) or of each stochastic layer ('layer') below this many nats
     * is not penalised; 0 = off.
     */
    freeBits: num(0, 100).default(0),
    freeBitsPer: z.enum(FREE_BITS_GROUPS).default('dimension'),
    backend: z.enum(BACKEND_PREFERENCES).default('auto'),
  })
  .strict();

export const EvalConfigSchema = z
  .object({
    /** Importance samples for the test log-likelihood estimate (IWAE bound). */
    iwaeK: int(1, 5000).default(100),
    /**
     * How many test examples the IWAE estimate uses (it is the costly metric); test/elbo_iwae_subset
     * and test/gap are reported on the same examples. null: the whole test set when testSize <=
     * IWAE_WHOLE_TEST_SET (2,000), else its first 2,000.
     */
    iwaeExamples: int(1, 100_000).nullable().default(null),
    /** Evaluate on the test split every this many epochs (and always after the last). */
    everyEpochs: int(1, 1000).default(1),
    /** Images per grid side for samples and reconstructions. */
    gridSize: int(2, 16).default(8),
    /**
     * Points for MIG (data sets with factors, i.e. shapes): drawn fresh from the generator with the
     * split seed, 10,000 as in disentanglement_lib.
     */
    migPoints: int(100, 100_000).default(10_000),
  })
  .strict();

export const RunConfigSchema = z
  .object({
    model: ModelConfigSchema.default(() => defaultModelConfig('vae')),
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
export function describeIssues(error: z.ZodError, input?: unknown): { path: string; message: string }[] {
  const kind = modelKindOf(input);
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String).join('.') || '(root)';
    // A field of another model kind: name the kinds that have it (the union's members are strict).
    if (issue.code === 'unrecognized_keys' && path === 'model' && kind)
      return issue.keys.map((key) => ({ path: `model.${key}`, message: foreignKeyMessage(kind, key) }));
    if (issue.code === 'invalid_union' && path === 'model.kind')
      return [
        {
          path,
          message: `expected one of ${MODEL_KINDS.map((k) => `'${k}'`).join(', ')} (got ${JSON.stringify(
            (input as { model?: { kind?: unknown } }).model?.kind,
          )})`,
        },
      ];
    return [{ path, message: issue.message }];
  });
}

/** The model kind an input names (left out: 'vae'), or undefined when it names none we know. */
function modelKindOf(input: unknown): ModelKind | undefined {
  if (input === null || typeof input !== 'object') return undefined;
  const model = (input as { model?: unknown }).model;
  if (model === undefined) return 'vae';
  if (model === null || typeof model !== 'object') return undefined;
  const kind = (model as { kind?: unknown }).kind ?? 'vae';
  return typeof kind === 'string' && kind in MODEL_CONFIGS ? (kind as ModelKind) : undefined;
}

/** The input with the flat-era model fields (models/configs.ts FLAT_MODEL_DEFAULTS) its kind lacks dropped. */
function upgradeInput(input: unknown): unknown {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return input;
  const config = input as Record<string, unknown>;
  return 'model' in config ? { ...config, model: upgradeFlatModel(config.model) } : config;
}

/** Up to this many test examples, the IWAE estimate (and the gap) use the whole test set by default. */
export const IWAE_WHOLE_TEST_SET = 2000;

/** The test examples the IWAE estimate, test/elbo_iwae_subset and test/gap use: the first this many. */
export function iwaeSubsetSize(config: Pick<RunConfig, 'data' | 'eval'>, testCount = config.data.testSize): number {
  const asked = config.eval.iwaeExamples ?? IWAE_WHOLE_TEST_SET;
  return Math.min(testCount, asked);
}

function given(input: unknown, section: string, field: string): boolean {
  if (input === null || typeof input !== 'object') return false;
  const part = (input as Record<string, unknown>)[section];
  return part !== null && typeof part === 'object' && (part as Record<string, unknown>)[field] !== undefined;
}

/** Fields that differ from their default although the chosen likelihood, posterior or schedule never reads them. */
function unusedSettings(config: RunConfig): { path: string; message: string }[] {
  const defaults = TrainConfigSchema.parse({});
  const { model, train } = config;
  const out = inapplicableFields(model);
  if (
    model.likelihood === 'gaussian' &&
    model.gaussianVariance === 'learned' &&
    model.gaussianSigma < GAUSSIAN_SIGMA_FLOOR
  )
    out.push({
      path: 'model.gaussianSigma',
      message: `a learned sigma starts at gaussianSigma and is floored at 1/256 (${GAUSSIAN_SIGMA_FLOOR}); start at or above it`,
    });
  if (train.objective !== 'iwae' && train.objectiveSamples !== defaults.objectiveSamples)
    out.push({ path: 'train.objectiveSamples', message: "applies only to train.objective 'iwae'" });
  if (train.klSchedule !== 'linear' && train.warmupSteps !== defaults.warmupSteps)
    out.push({ path: 'train.warmupSteps', message: "applies only to train.klSchedule 'linear'" });
  if (train.klSchedule !== 'cyclical') {
    if (train.cycles !== defaults.cycles)
      out.push({ path: 'train.cycles', message: "applies only to train.klSchedule 'cyclical'" });
    if (train.cycleRatio !== defaults.cycleRatio)
      out.push({ path: 'train.cycleRatio', message: "applies only to train.klSchedule 'cyclical'" });
  }
  return out;
}

/**
 * Validates a run config, filling defaults (binarization and dequantization from the likelihood
 * when left out). Throws ConfigError naming each bad field and its allowed range, and each setting
 * the run could not honour.
 */
export function parseRunConfig(input: unknown): RunConfig {
  const upgraded = upgradeInput(input ?? {});
  const result = RunConfigSchema.safeParse(upgraded);
  if (!result.success) {
    const issues = describeIssues(result.error, upgraded);
    throw new ConfigError(`Invalid run config: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  const config = result.data;
  // Defaults that follow the likelihood: Bernoulli -> dynamic binarization; Gaussian -> none, dequantized.
  if (!given(input, 'data', 'binarization'))
    config.data.binarization = config.model.likelihood === 'bernoulli' ? 'dynamic' : 'none';
  if (!given(input, 'data', 'dequantize'))
    config.data.dequantize = config.model.likelihood === 'gaussian' && config.data.binarization === 'none';
  // Cross-field rules that a per-field schema cannot express: the model's own (models/<kind>/config.ts), then these.
  const rules = MODEL_CONFIGS[config.model.kind].rules as (c: RunConfig) => { path: string; message: string }[];
  const extra: { path: string; message: string }[] = rules(config);
  if (config.train.objective === 'iwae' && config.train.freeBits > 0) {
    // The IWAE objective is -IWAE_k on the true log-weights; free bits have no place in it.
    extra.push({ path: 'train.freeBits', message: "free bits apply to train.objective 'elbo' only" });
  }
  if (config.data.dequantize && config.model.likelihood !== 'gaussian') {
    extra.push({ path: 'data.dequantize', message: "dequantization is for model.likelihood 'gaussian'" });
  } else if (config.data.dequantize && config.data.binarization !== 'none') {
    extra.push({ path: 'data.dequantize', message: "dequantization needs data.binarization 'none'" });
  }
  // The reconstruction grid shows floor(g/2) rows of g test images, each above its reconstruction.
  const gridImages = Math.floor(config.eval.gridSize / 2) * config.eval.gridSize;
  if (config.data.testSize < gridImages) {
    extra.push({
      path: 'data.testSize',
      message: `must be at least ${gridImages} (floor(eval.gridSize / 2) * eval.gridSize, eval.gridSize = ${config.eval.gridSize}) for the reconstruction grid; lower eval.gridSize or raise testSize`,
    });
  }
  extra.push(...unusedSettings(config));
  // The whole config's memory estimate against the run budget (api/cost.ts).
  const cost = costProblem(config);
  if (cost) extra.push({ path: 'train.batchSize', message: cost });
  if (extra.length > 0) {
    throw new ConfigError(`Invalid run config: ${extra.map((i) => `${i.path}: ${i.message}`).join('; ')}`, extra);
  }
  return config;
}

/**
 * A config a run recorded (a bundle's config.json; the store's rows are migrated instead), which
 * always holds every field its version had: a field added later is missing there, and the run
 * trained as before that field existed. Those are filled in as they were, then it is validated:
 * data.splitSeed = train.seed (the split followed the training seed), data.dequantize false,
 * train.freeBitsPer 'layer' (free bits were per layer), as migrations/0007 does for stored runs.
 */
export function parseRecordedRunConfig(input: unknown): RunConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return parseRunConfig(input);
  const config = input as Record<string, Record<string, unknown> | undefined>;
  const data = { ...config.data };
  const train = { ...config.train };
  if (data.splitSeed === undefined && typeof train.seed === 'number') data.splitSeed = train.seed;
  data.dequantize ??= false;
  train.freeBitsPer ??= 'layer';
  return parseRunConfig({ ...config, data, train });
}
