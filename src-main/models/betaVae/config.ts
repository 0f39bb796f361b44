// beta-VAE (Higgins et al. 2017) and its controlled-capacity form (Burgess et al. 2018).
import { z } from 'zod';
import { betaField, int, latentField, networkFields, num, posteriorFields, posteriorRules } from '../configParts';
import type { ConfigRule } from '../configTypes';

export const BetaVaeConfigSchema = z
  .object({
    kind: z.literal('beta-vae'),
    ...networkFields,
    ...latentField,
    // Default 1, as it always was; the form starts at Higgins et al.'s beta = 4 (dSprites), since
    // beta = 1 is the plain VAE (kind 'vae').
    ...betaField('weight on the KL term', { formStart: 4 }),
    /** Controlled capacity (Burgess et al. 2018): loss = recon + gamma * |KL - C|, C linear to cMax over steps. */
    capacity: z
      .object({
        gamma: num(0, 1e5).default(1000).meta({ label: 'Gamma', description: 'weight gamma on |KL - C|' }),
        cMax: num(0, 1e4)
          .default(25)
          .meta({ label: 'C max (nats)', description: 'C_max in nats', flag: 'capacity-max' }),
        steps: int(1, 1e9).default(100_000).meta({ label: 'Steps', description: 'steps for C to reach C_max' }),
      })
      .strict()
      .nullable()
      .default(null)
      .meta({
        label: 'Controlled capacity',
        description: 'Burgess et al. 2018: loss = recon + gamma |KL - C|, C rising linearly to C_max',
      }),
    ...posteriorFields,
  })
  .strict()
  .meta({
    label: 'beta-VAE',
    description: 'Higgins et al. 2017: the ELBO with beta on the KL; with capacity, Burgess et al. 2018',
  });

export type BetaVaeConfig = z.infer<typeof BetaVaeConfigSchema>;

export const betaVaeRules: ConfigRule<BetaVaeConfig> = ({ model, train }) => {
  const out = posteriorRules(model, train);
  if (model.capacity && model.posterior !== 'gaussian')
    out.push({
      path: 'model.capacity',
      message: "controlled capacity is for a Gaussian posterior (model.posterior 'gaussian')",
    });
  if (model.capacity && train.objective === 'iwae')
    out.push({ path: 'model.capacity', message: "controlled capacity applies to train.objective 'elbo' only" });
  return out;
};
