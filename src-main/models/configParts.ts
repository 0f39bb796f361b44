// The config fields several models share, as zod shapes the models' own schemas (models/<kind>/config.ts)
// spread into theirs. Plain zod and api/constants only: the schemas load in the renderer (lazily) and
// in api/config.ts, so nothing here may load tfjs.
//
// Each field's `meta` feeds what is derived from the schemas (models/configFields.ts): `label` (the
// form), `description` (CLI help, the form's help text), `flag` (a CLI name other than the kebab-case
// key) and `appliesWhen` (the field matters only when another field of the model has one of these
// values; set otherwise it is refused, and the run details leave it out).
import { z } from 'zod';
import { ACTIVATIONS, ARCHITECTURES, GAUSSIAN_SIGMA_FLOOR, LIKELIHOODS, POSTERIORS } from '../api/constants';

export const int = (min: number, max: number) => z.number().int().min(min).max(max);
export const num = (min: number, max: number) => z.number().min(min).max(max);

/** A field that matters only when `key` (another field of the same model) has one of `values`. */
export interface AppliesWhen {
  key: string;
  values: readonly (string | number | boolean)[];
}

declare module 'zod' {
  interface GlobalMeta {
    label?: string;
    flag?: string;
    appliesWhen?: AppliesWhen;
    /** Where the new-run form starts the field when it is not the default (a beta-VAE's beta: 4). */
    formStart?: unknown;
    /** On a model schema: values the kind has by definition, with no field (a plain VAE's beta = 1). */
    fixed?: Record<string, unknown>;
  }
}

/** The encoder/decoder networks and the likelihood p(x|z): every model has these. */
export const networkFields = {
  architecture: z
    .enum(ARCHITECTURES)
    .default('mlp')
    .meta({ label: 'Architecture', description: 'encoder/decoder networks: MLP, or conv on 28x28 images' }),
  /** Hidden layer widths of the encoder; the decoder mirrors them. */
  hidden: z.array(int(1, 4096)).min(1).max(6).default([400]).meta({
    label: 'Hidden widths',
    description: 'hidden layer widths of the encoder (the decoder mirrors them), e.g. 512,256',
  }),
  activation: z.enum(ACTIVATIONS).default('relu').meta({ label: 'Activation', description: 'hidden activation' }),
  likelihood: z
    .enum(LIKELIHOODS)
    .default('bernoulli')
    .meta({ label: 'Likelihood', description: 'decoder likelihood p(x|z)' }),
  /**
   * Gaussian likelihood only: a fixed sigma, or a learned per-pixel log-variance. A learned sigma is
   * floored at GAUSSIAN_SIGMA_FLOOR (1/256, one grey step after dequantization), so the density of a
   * dequantized pixel stays below 256 and the discrete bound below 0.
   */
  gaussianVariance: z
    .enum(['fixed', 'learned'])
    .default('fixed')
    .meta({
      label: 'Gaussian variance',
      description: `gaussian likelihood: a fixed sigma, or a learned per-pixel variance (floored at sigma ${GAUSSIAN_SIGMA_FLOOR})`,
      appliesWhen: { key: 'likelihood', values: ['gaussian'] },
    }),
  gaussianSigma: num(1e-3, 10)
    .default(0.1)
    .meta({
      label: 'Gaussian sigma',
      description: 'gaussian likelihood: the fixed sigma, or where a learned one starts',
      appliesWhen: { key: 'likelihood', values: ['gaussian'] },
    }),
} as const;

/** The network fields' keys: the form places these itself; every other model field it draws from the schema. */
export const NETWORK_FIELD_KEYS = Object.keys(networkFields) as (keyof typeof networkFields)[];

/** A single Gaussian latent layer of latentDim dimensions. */
export const latentField = {
  latentDim: int(1, 512).default(20).meta({ label: 'Latent size', description: 'latent dimensions' }),
} as const;

/** q(z|x) of the single-layer Gaussian VAEs: diagonal Gaussian, or a planar / IAF flow on it (models/flows/). */
export const posteriorFields = {
  posterior: z.enum(POSTERIORS).default('gaussian').meta({
    label: 'Posterior',
    description:
      'q(z|x): diagonal gaussian, or a planar (Rezende & Mohamed 2015) or IAF (Kingma et al. 2016) flow on it',
  }),
  flowLength: int(1, 64)
    .default(4)
    .meta({
      label: 'Flow steps',
      description: 'planar / iaf posterior: flow steps K',
      appliesWhen: { key: 'posterior', values: ['planar', 'iaf'] },
    }),
} as const;

/** The weight on the KL term (beta-VAE, ladder) or on the total correlation (beta-TCVAE). */
export const betaField = (description: string, meta: { label?: string; formStart?: number } = {}) => ({
  beta: num(0, 1000)
    .default(1)
    .meta({ label: 'Beta', description, ...meta }),
});

/** The rules of a model with posteriorFields: a flow's KL does not factor over dimensions, and webgpu cannot train one yet. */
export function posteriorRules(
  model: { posterior: (typeof POSTERIORS)[number] },
  train: { freeBits: number; freeBitsPer: string; backend: string },
): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  if (model.posterior === 'gaussian') return out;
  if (train.freeBits > 0 && train.freeBitsPer === 'dimension')
    out.push({
      path: 'train.freeBitsPer',
      message: "a flow posterior's KL does not factor over dimensions: use train.freeBitsPer 'layer'",
    });
  // The flows' log-determinant metrics read tensors back synchronously while they train; tfjs's
  // webgpu backend can read only asynchronously in Node.
  if (train.backend === 'webgpu')
    out.push({
      path: 'train.backend',
      message: `webgpu does not train model.posterior '${model.posterior}' yet (it reads tensors synchronously during training); use auto, wasm or cpu`,
    });
  return out;
}
