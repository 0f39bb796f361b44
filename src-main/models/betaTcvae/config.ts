// beta-TCVAE (Chen et al. 2018): the KL split into index-code MI, total correlation and dimension-wise
// KL, each with its own weight.
import { z } from 'zod';
import { betaField, latentField, networkFields, num } from '../configParts';
import type { ConfigRule } from '../configTypes';

export const BetaTcvaeConfigSchema = z
  .object({
    kind: z.literal('beta-tcvae'),
    ...networkFields,
    ...latentField,
    /** Weight on the index-code mutual information. */
    alpha: num(0, 1000)
      .default(1)
      .meta({ label: 'Alpha (MI)', description: 'weight on the index-code mutual information' }),
    ...betaField('weight on the total correlation', { label: 'Beta (TC)' }),
    /** Weight on the dimension-wise KL. */
    gamma: num(0, 1000)
      .default(1)
      .meta({ label: 'Gamma (dim-wise KL)', description: 'weight on the dimension-wise KL' }),
  })
  .strict()
  .meta({
    label: 'beta-TCVAE',
    description: 'Chen et al. 2018: alpha MI + beta TC + gamma dimension-wise KL (minibatch-weighted sampling)',
  });

export type BetaTcvaeConfig = z.infer<typeof BetaTcvaeConfigSchema>;

export const betaTcvaeRules: ConfigRule<BetaTcvaeConfig> = ({ train }) => {
  const out = [];
  if (train.objective !== 'elbo')
    out.push({ path: 'train.objective', message: "beta-TCVAE's decomposed penalty needs train.objective 'elbo'" });
  if (train.freeBits > 0)
    out.push({
      path: 'train.freeBits',
      message: 'beta-TCVAE weighs MI, TC and dimension-wise KL instead of free bits',
    });
  return out;
};
