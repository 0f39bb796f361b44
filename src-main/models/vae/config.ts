// The plain VAE (Kingma & Welling 2013): one diagonal Gaussian latent layer (or a flow on it), beta = 1.
import { z } from 'zod';
import { latentField, networkFields, posteriorFields, posteriorRules } from '../configParts';
import type { ConfigRule } from '../configTypes';

export const VaeConfigSchema = z
  .object({
    kind: z.literal('vae').default('vae'),
    ...networkFields,
    ...latentField,
    ...posteriorFields,
  })
  .strict()
  .meta({
    label: 'VAE',
    // What the model is without a field for it: a diff beside beta-VAEs reads a plain VAE's beta as 1.
    fixed: { beta: 1 },
    description:
      'Kingma & Welling 2013: diagonal Gaussian q(z|x) (or a planar / IAF flow on it), N(0, I) prior, trained on the ELBO',
  });

export type VaeConfig = z.infer<typeof VaeConfigSchema>;

export const vaeRules: ConfigRule<VaeConfig> = ({ model, train }) => posteriorRules(model, train);

/** What to say of a field of another model given to this one (the strict schema refuses it). */
export const vaeHints: Record<string, string> = {
  beta: "a plain 'vae' has beta = 1; use kind 'beta-vae' for another value",
};
