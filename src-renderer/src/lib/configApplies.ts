// Which config keys matter for a run: a plain VAE has no beta, an MLP-free ladder no latentDim,
// a Bernoulli decoder no sigma, a constant KL schedule no warm-up. The run details list only
// these, so a reader is not left wondering what 'cycles: 4' did to a run that never cycled.
import type { RunConfig } from '@api/config';

/** Whether `section.key` has any effect on a run with this config. */
export function configKeyApplies(config: RunConfig, section: string, key: string): boolean {
  const { model, train } = config;
  const path = `${section}.${key}`;
  switch (path) {
    case 'model.latentDim':
      return model.kind !== 'ladder';
    case 'model.ladderLatentDims':
      return model.kind === 'ladder';
    case 'model.beta':
    case 'model.capacity':
      return model.kind === 'beta-vae';
    case 'model.gaussianVariance':
      return model.likelihood === 'gaussian';
    case 'model.gaussianSigma':
      return model.likelihood === 'gaussian' && model.gaussianVariance === 'fixed';
    case 'train.objectiveSamples':
      return train.objective === 'iwae';
    case 'train.warmupSteps':
      return train.klSchedule === 'linear';
    case 'train.cycles':
    case 'train.cycleRatio':
      return train.klSchedule === 'cyclical';
    default:
      return true;
  }
}

/** The config's sections with only the keys that apply, and how many were left out. */
export function applicableConfig(config: RunConfig): {
  sections: { section: string; fields: [string, unknown][] }[];
  hidden: string[];
} {
  const hidden: string[] = [];
  const sections = (Object.entries(config) as [string, Record<string, unknown>][]).map(([section, fields]) => ({
    section,
    fields: Object.entries(fields).filter(([key]) => {
      const keep = configKeyApplies(config, section, key);
      if (!keep) hidden.push(`${section}.${key}`);
      return keep;
    }),
  }));
  return { sections, hidden };
}
