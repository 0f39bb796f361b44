// VQ-VAE (van den Oord et al. 2017): codePositions latent vectors of codeDim values, each replaced by
// its nearest of codebookSize codes.
import { z } from 'zod';
import { CODEBOOK_UPDATES } from '../../api/constants';
import { int, networkFields, num } from '../configParts';
import type { ConfigRule } from '../configTypes';

export const VqVaeConfigSchema = z
  .object({
    kind: z.literal('vq-vae'),
    ...networkFields,
    codebookSize: int(2, 65_536).default(512).meta({ label: 'Codebook size', description: 'codebook entries K' }),
    codeDim: int(1, 512).default(64).meta({ label: 'Code dim', description: 'size D of each code' }),
    codePositions: int(1, 1024)
      .default(16)
      .meta({ label: 'Code positions', description: 'latent positions, each a codeDim vector quantized on its own' }),
    commitment: num(0, 100)
      .default(0.25)
      .meta({ label: 'Commitment', description: 'commitment loss weight on ||z_e - sg(e)||^2' }),
    codebookUpdate: z.enum(CODEBOOK_UPDATES).default('ema').meta({
      label: 'Codebook update',
      description: "codebook learned by its loss term ||sg(z_e) - e||^2, or by EMA (sonnet's VectorQuantizerEMA)",
    }),
    emaDecay: num(0, 0.99999)
      .default(0.99)
      .meta({
        label: 'EMA decay',
        description: 'decay of the moving averages (Laplace smoothing eps 1e-5)',
        appliesWhen: { key: 'codebookUpdate', values: ['ema'] },
      }),
    deadCodeSteps: int(0, 1e9).default(0).meta({
      label: 'Dead-code restart',
      description: 'codes unused for this many steps move to a random encoder output of the batch; 0 = off',
    }),
  })
  .strict()
  .meta({
    label: 'VQ-VAE',
    description: 'van den Oord et al. 2017: nearest-code quantization, straight-through gradient, commitment loss',
  });

export type VqVaeConfig = z.infer<typeof VqVaeConfigSchema>;

export const vqVaeRules: ConfigRule<VqVaeConfig> = ({ model, train }) => {
  const out = [];
  if (model.architecture !== 'mlp')
    out.push({ path: 'model.architecture', message: "the VQ-VAE supports only 'mlp' (a vector of code positions)" });
  if (train.objective !== 'elbo')
    out.push({ path: 'train.objective', message: "a VQ-VAE trains on its own loss: train.objective 'elbo'" });
  if (train.freeBits > 0) out.push({ path: 'train.freeBits', message: 'a VQ-VAE has no KL term to put free bits on' });
  if (train.klSchedule !== 'constant')
    out.push({ path: 'train.klSchedule', message: 'a VQ-VAE has no KL term to schedule' });
  // Its codebook update reads tensors back synchronously while it trains; tfjs's webgpu backend reads only asynchronously in Node.
  if (train.backend === 'webgpu')
    out.push({
      path: 'train.backend',
      message:
        "webgpu does not train model.kind 'vq-vae' yet (it reads tensors synchronously during training); use auto, wasm or cpu",
    });
  return out;
};

/** What to say of a field of another model given to this one (the strict schema refuses it). */
export const vqVaeHints: Record<string, string> = {
  beta: 'a VQ-VAE has no KL term; its commitment weight is model.commitment',
  latentDim: "a VQ-VAE's latent is model.codePositions x model.codeDim; leave latentDim out",
};
