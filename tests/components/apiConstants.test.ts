// The renderer keeps copies of the contract's and config's constants (src-renderer/src/lib/apiConstants.ts)
// so that zod and the schemas stay off its start-up path; they must equal the originals.
import { describe, expect, it } from 'vitest';
import * as config from '@api/config';
import * as contract from '@api/contract';
import * as copies from '../../src-renderer/src/lib/apiConstants';

describe('renderer copies of API constants', () => {
  it('equal the contract and config constants', () => {
    for (const name of ['RUN_STATUSES', 'ACTIVE_STATUSES', 'IMAGE_KINDS', 'SWEEP_PARAMS'] as const) expect(copies[name], name).toEqual(contract[name]);
    for (const name of ['MODEL_KINDS', 'ARCHITECTURES', 'ACTIVATIONS', 'LIKELIHOODS', 'BUILTIN_DATASETS', 'BINARIZATIONS', 'KL_SCHEDULES', 'OBJECTIVES', 'BACKEND_PREFERENCES'] as const) {
      expect(copies[name], name).toEqual(config[name]);
    }
  });

  it('has the schema defaults as DEFAULT_CONFIG', () => {
    expect(copies.DEFAULT_CONFIG).toEqual(config.RunConfigSchema.parse({}));
  });

  it('flattens configs as @api/config does', () => {
    const value = config.parseRunConfig({ model: { kind: 'beta-vae', beta: 4 }, train: { seed: 3 } });
    expect(copies.flattenConfig(value)).toEqual(config.flattenConfig(value));
  });
});
