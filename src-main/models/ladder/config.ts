// The ladder VAE (Sønderby et al. 2016): a hierarchy of Gaussian latent layers, bottom first.
import { z } from 'zod';
import { betaField, int, networkFields } from '../configParts';
import type { ConfigRule } from '../configTypes';

export const LadderConfigSchema = z
  .object({
    kind: z.literal('ladder'),
    ...networkFields,
    /** The size of each stochastic layer, bottom first. */
    ladderLatentDims: z
      .array(int(1, 512))
      .min(2)
      .max(5)
      .default([32, 16])
      .meta({ label: 'Latent sizes', description: 'latent size per stochastic layer, bottom first, e.g. 32,16' }),
    ...betaField('weight on the KL term of every layer'),
  })
  .strict()
  .meta({
    label: 'Ladder VAE',
    description: 'Sønderby et al. 2016: a hierarchy of Gaussian latent layers with precision-weighted inference',
  });

export type LadderConfig = z.infer<typeof LadderConfigSchema>;

export const ladderRules: ConfigRule<LadderConfig> = ({ model }) => {
  const out = [];
  if (model.ladderLatentDims.length > model.hidden.length + 4)
    out.push({ path: 'model.ladderLatentDims', message: 'at most hidden.length + 4 stochastic layers' });
  if (model.architecture === 'conv')
    out.push({ path: 'model.architecture', message: "the ladder VAE supports only 'mlp'" });
  return out;
};

/** What to say of a field of another model given to this one (the strict schema refuses it). */
export const ladderHints: Record<string, string> = {
  latentDim: "a ladder's latent sizes are model.ladderLatentDims; leave latentDim out",
};
