import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '@api/config';
import { applicableConfig } from '../../src-renderer/src/lib/configApplies';

describe('config keys that apply', () => {
  it('hides what a plain VAE with a Bernoulli decoder and a constant schedule never uses', () => {
    expect(applicableConfig(parseRunConfig({})).hidden.sort()).toEqual(
      [
        'model.beta',
        'model.capacity',
        'model.gaussianSigma',
        'model.gaussianVariance',
        'model.ladderLatentDims',
        'train.cycleRatio',
        'train.cycles',
        'train.objectiveSamples',
        'train.warmupSteps',
      ].sort(),
    );
  });

  it('shows them where they apply: ladder dims, beta, learned gaussian variance, cyclical schedule, iwae samples', () => {
    const hidden = applicableConfig(
      parseRunConfig({
        model: { kind: 'ladder', likelihood: 'gaussian', gaussianVariance: 'learned' },
        train: { klSchedule: 'cyclical', objective: 'iwae' },
      }),
    ).hidden;
    expect(hidden.sort()).toEqual([
      'model.beta',
      'model.capacity',
      'model.gaussianSigma',
      'model.latentDim',
      'train.warmupSteps',
    ]);
    const beta = applicableConfig(
      parseRunConfig({ model: { kind: 'beta-vae', beta: 4 }, train: { klSchedule: 'linear' } }),
    );
    expect(beta.hidden).not.toContain('model.beta');
    expect(beta.hidden).not.toContain('train.warmupSteps');
  });
});
