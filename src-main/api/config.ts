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
  FREE_BITS_GROUPS,
  GAUSSIAN_SIGMA_FLOOR,
  POSTERIORS,
  CODEBOOK_UPDATES,
} from './constants';
import { costProblem } from './cost';

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
    /**
     * Gaussian likelihood only: a fixed sigma, or a learned per-pixel log-variance. A learned sigma is
     * floored at GAUSSIAN_SIGMA_FLOOR (1/256, one grey step after dequantization), so the density of a
     * dequantized pixel stays below 256 and the discrete bound below 0.
     */
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
    /** q(z|x) of a 'vae' or 'beta-vae': diagonal Gaussian, or a planar / IAF flow on it (models/flows/). */
    posterior: z.enum(POSTERIORS).default('gaussian'),
    /** Flow steps K of a planar or IAF posterior. */
    flowLength: int(1, 64).default(4),
    /** beta-TCVAE (Chen et al. 2018): weight on the index-code mutual information (beta weighs the TC). */
    alpha: num(0, 1000).default(1),
    /** beta-TCVAE: weight on the dimension-wise KL. */
    gamma: num(0, 1000).default(1),
    /** VQ-VAE (van den Oord et al. 2017): codebook entries K. */
    codebookSize: int(2, 65_536).default(512),
    /** VQ-VAE: size D of each code. */
    codeDim: int(1, 512).default(64),
    /** VQ-VAE: latent positions; the encoder emits codePositions vectors of codeDim values, each quantized. */
    codePositions: int(1, 1024).default(16),
    /** VQ-VAE: commitment loss weight beta_c on ||z_e - sg(e)||^2. */
    commitment: num(0, 100).default(0.25),
    /** VQ-VAE: codebook learned by its loss term ||sg(z_e) - e||^2, or by EMA (decay 0.99, Laplace eps 1e-5). */
    codebookUpdate: z.enum(CODEBOOK_UPDATES).default('ema'),
    /** VQ-VAE with EMA: decay of the moving averages. */
    emaDecay: num(0, 0.99999).default(0.99),
    /** VQ-VAE: after each step, codes unused for this many steps move to a random encoder output of the batch; 0 = off. */
    deadCodeSteps: int(0, 1e9).default(0),
  })
  .strict();

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

/** Fields that differ from their default although the chosen model or schedule never reads them. */
function unusedSettings(config: RunConfig): { path: string; message: string }[] {
  const defaults = RunConfigSchema.parse({});
  const out: { path: string; message: string }[] = [];
  const differs = (a: unknown, b: unknown) => JSON.stringify(a) !== JSON.stringify(b);
  const { model, train } = config;
  if (model.kind === 'ladder' && model.latentDim !== defaults.model.latentDim)
    out.push({
      path: 'model.latentDim',
      message: "a ladder's latent sizes are model.ladderLatentDims; leave latentDim out",
    });
  if (model.kind !== 'ladder' && differs(model.ladderLatentDims, defaults.model.ladderLatentDims))
    out.push({
      path: 'model.ladderLatentDims',
      message: `applies only to model.kind 'ladder' (this is '${model.kind}')`,
    });
  if (model.likelihood !== 'gaussian') {
    if (model.gaussianVariance !== defaults.model.gaussianVariance)
      out.push({ path: 'model.gaussianVariance', message: "applies only to model.likelihood 'gaussian'" });
    if (model.gaussianSigma !== defaults.model.gaussianSigma)
      out.push({ path: 'model.gaussianSigma', message: "applies only to model.likelihood 'gaussian'" });
  } else if (model.gaussianVariance === 'learned' && model.gaussianSigma < GAUSSIAN_SIGMA_FLOOR) {
    out.push({
      path: 'model.gaussianSigma',
      message: `a learned sigma starts at gaussianSigma and is floored at 1/256 (${GAUSSIAN_SIGMA_FLOOR}); start at or above it`,
    });
  }
  const flowKinds = ['vae', 'beta-vae'];
  if (model.posterior !== 'gaussian' && !flowKinds.includes(model.kind))
    out.push({
      path: 'model.posterior',
      message: `a flow posterior is for model.kind 'vae' or 'beta-vae' (this is '${model.kind}')`,
    });
  if (model.posterior !== 'gaussian' && model.capacity)
    out.push({
      path: 'model.capacity',
      message: "controlled capacity is for a Gaussian posterior (model.posterior 'gaussian')",
    });
  if (model.posterior === 'gaussian' && model.flowLength !== defaults.model.flowLength)
    out.push({ path: 'model.flowLength', message: "applies only to model.posterior 'planar' or 'iaf'" });
  if (model.kind !== 'beta-tcvae') {
    for (const field of ['alpha', 'gamma'] as const)
      if (model[field] !== defaults.model[field])
        out.push({
          path: `model.${field}`,
          message: `applies only to model.kind 'beta-tcvae' (this is '${model.kind}')`,
        });
  }
  if (model.kind !== 'vq-vae') {
    const vqFields = [
      'codebookSize',
      'codeDim',
      'codePositions',
      'commitment',
      'codebookUpdate',
      'emaDecay',
      'deadCodeSteps',
    ] as const;
    for (const field of vqFields)
      if (model[field] !== defaults.model[field])
        out.push({ path: `model.${field}`, message: `applies only to model.kind 'vq-vae' (this is '${model.kind}')` });
  } else {
    if (model.codebookUpdate !== 'ema' && model.emaDecay !== defaults.model.emaDecay)
      out.push({ path: 'model.emaDecay', message: "applies only to model.codebookUpdate 'ema'" });
    if (model.beta !== defaults.model.beta)
      out.push({ path: 'model.beta', message: 'a VQ-VAE has no KL term; its commitment weight is model.commitment' });
    if (model.latentDim !== defaults.model.latentDim)
      out.push({
        path: 'model.latentDim',
        message: "a VQ-VAE's latent is model.codePositions x model.codeDim; leave latentDim out",
      });
  }
  if (train.objective !== 'iwae' && train.objectiveSamples !== defaults.train.objectiveSamples)
    out.push({ path: 'train.objectiveSamples', message: "applies only to train.objective 'iwae'" });
  if (train.klSchedule !== 'linear' && train.warmupSteps !== defaults.train.warmupSteps)
    out.push({ path: 'train.warmupSteps', message: "applies only to train.klSchedule 'linear'" });
  if (train.klSchedule !== 'cyclical') {
    if (train.cycles !== defaults.train.cycles)
      out.push({ path: 'train.cycles', message: "applies only to train.klSchedule 'cyclical'" });
    if (train.cycleRatio !== defaults.train.cycleRatio)
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
  const result = RunConfigSchema.safeParse(input ?? {});
  if (!result.success) {
    const issues = describeIssues(result.error);
    throw new ConfigError(`Invalid run config: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  const config = result.data;
  // Defaults that follow the likelihood: Bernoulli -> dynamic binarization; Gaussian -> none, dequantized.
  if (!given(input, 'data', 'binarization'))
    config.data.binarization = config.model.likelihood === 'bernoulli' ? 'dynamic' : 'none';
  if (!given(input, 'data', 'dequantize'))
    config.data.dequantize = config.model.likelihood === 'gaussian' && config.data.binarization === 'none';
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
  if (config.model.kind === 'vq-vae') {
    // VQ-VAE: discrete codes with no Gaussian KL.
    if (config.model.architecture !== 'mlp')
      extra.push({
        path: 'model.architecture',
        message: "the VQ-VAE supports only 'mlp' (a vector of code positions)",
      });
    if (config.train.objective !== 'elbo')
      extra.push({ path: 'train.objective', message: "a VQ-VAE trains on its own loss: train.objective 'elbo'" });
    if (config.train.freeBits > 0)
      extra.push({ path: 'train.freeBits', message: 'a VQ-VAE has no KL term to put free bits on' });
    if (config.train.klSchedule !== 'constant')
      extra.push({ path: 'train.klSchedule', message: 'a VQ-VAE has no KL term to schedule' });
  }
  if (config.model.kind === 'beta-tcvae' && config.train.objective !== 'elbo')
    extra.push({ path: 'train.objective', message: "beta-TCVAE's decomposed penalty needs train.objective 'elbo'" });
  if (config.model.kind === 'beta-tcvae' && config.train.freeBits > 0)
    extra.push({
      path: 'train.freeBits',
      message: 'beta-TCVAE weighs MI, TC and dimension-wise KL instead of free bits',
    });
  if (
    config.model.posterior !== 'gaussian' &&
    config.train.freeBits > 0 &&
    (config.train.freeBitsPer ?? 'dimension') === 'dimension'
  )
    extra.push({
      path: 'train.freeBitsPer',
      message: "a flow posterior's KL does not factor over dimensions: use train.freeBitsPer 'layer'",
    });
  if (config.train.objective === 'iwae') {
    // The IWAE objective is -IWAE_k on the true log-weights; neither a capacity target nor free bits has a place in it.
    if (config.model.capacity)
      extra.push({ path: 'model.capacity', message: "controlled capacity applies to train.objective 'elbo' only" });
    if (config.train.freeBits > 0)
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
  // These models read tensors back synchronously while they train (the VQ-VAE's codebook update,
  // the flows' log-determinant metrics); tfjs's webgpu backend can read only asynchronously in Node.
  if (config.train.backend === 'webgpu' && (config.model.kind === 'vq-vae' || config.model.posterior !== 'gaussian'))
    extra.push({
      path: 'train.backend',
      message: `webgpu does not train ${config.model.kind === 'vq-vae' ? "model.kind 'vq-vae'" : `model.posterior '${config.model.posterior}'`} yet (it reads tensors synchronously during training); use auto, wasm or cpu`,
    });
  // The whole config's memory estimate against the run budget (api/cost.ts).
  const cost = costProblem(config);
  if (cost) extra.push({ path: 'train.batchSize', message: cost });
  if (extra.length > 0) {
    throw new ConfigError(`Invalid run config: ${extra.map((i) => `${i.path}: ${i.message}`).join('; ')}`, extra);
  }
  return config;
}
