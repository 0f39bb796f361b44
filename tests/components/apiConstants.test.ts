// The renderer's start-up values come from the zod-free @api/constants; only DEFAULT_CONFIG is
// written out by hand (src-renderer/src/lib/apiConstants.ts) and must equal the schema defaults.
import { describe, expect, it } from 'vitest';
import * as config from '@api/config';
import * as contract from '@api/contract';
import * as rendererConstants from '../../src-renderer/src/lib/apiConstants';

describe('renderer API constants', () => {
  it('are the contract and config values themselves', () => {
    expect(rendererConstants.RUN_STATUSES).toBe(contract.RUN_STATUSES);
    expect(rendererConstants.MODEL_KINDS).toBe(config.MODEL_KINDS);
    expect(rendererConstants.flattenConfig).toBe(config.flattenConfig);
  });

  it('has the schema defaults as DEFAULT_CONFIG', () => {
    expect(rendererConstants.DEFAULT_CONFIG).toEqual(config.RunConfigSchema.parse({}));
  });
});
