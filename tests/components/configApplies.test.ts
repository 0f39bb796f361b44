import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '@api/config';
import { applicableConfig } from '../../src-renderer/src/lib/configApplies';

describe('config keys that apply', () => {
  it('hides what a plain VAE with a Gaussian posterior, a Bernoulli decoder and a constant schedule never uses', () => {
    expect(applicableConfig(parseRunConfig({})).hidden.sort()).toEqual(
      [
        'model.flowLength',
        'model.gaussianSigma',
        'model.gaussianVariance',
        'train.cycleRatio',
        'train.cycles',
        'train.objectiveSamples',
        'train.warmupSteps',
      ].sort(),
    );
  });

  it('shows them where they apply: a ladder with a learned gaussian variance, cyclical schedule, iwae samples', () => {
    const hidden = applicableConfig(
      parseRunConfig({
        model: { kind: 'ladder', likelihood: 'gaussian', gaussianVariance: 'learned' },
        train: { klSchedule: 'cyclical', objective: 'iwae' },
      }),
    ).hidden;
    expect(hidden.sort()).toEqual(['train.warmupSteps']);
    const beta = applicableConfig(
      parseRunConfig({ model: { kind: 'beta-vae', beta: 4 }, train: { klSchedule: 'linear' } }),
    );
    expect(beta.hidden).not.toContain('model.beta');
    expect(beta.hidden).not.toContain('train.warmupSteps');
    // A field another kind has never shows (a config from before migration 0007 might still carry one).
    const stray = { ...parseRunConfig({}), model: { ...parseRunConfig({}).model, codebookSize: 512 } };
    expect(applicableConfig(stray as never).hidden).toContain('model.codebookSize');
    // A VQ-VAE's EMA decay applies to its EMA codebook only.
    const vq = applicableConfig(parseRunConfig({ model: { kind: 'vq-vae', codebookUpdate: 'loss' } })).hidden;
    expect(vq).toContain('model.emaDecay');
    expect(vq).not.toContain('model.codebookSize');
  });
});
