// The run cost estimate (api/cost.ts): its parameter count is the model's own, and a config whose
// product is too big is refused at the boundary with the estimate in the message.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseRunConfig } from '../../../src-main/api/config';
import { estimateRunCost, RUN_MEMORY_BUDGET_BYTES } from '../../../src-main/api/cost';
import { createModel } from '../../../src-main/models';
import { ensureBackend } from '../../../src-main/training/checkpointModel';

describe('run cost estimate', () => {
  it.each([
    ['the default MLP VAE', {}],
    [
      'an MLP beta-VAE with two hidden layers',
      { model: { kind: 'beta-vae', beta: 4, hidden: [256, 128], latentDim: 10 } },
    ],
    ['a conv VAE', { model: { architecture: 'conv', hidden: [128], latentDim: 8 } }],
    [
      'a learned-variance Gaussian VAE',
      { model: { likelihood: 'gaussian', gaussianVariance: 'learned', hidden: [64] } },
    ],
    [
      'a VQ-VAE with its codebook, EMA state and code priors',
      { model: { kind: 'vq-vae', hidden: [64], codebookSize: 32, codeDim: 4, codePositions: 5 } },
    ],
  ])('counts the parameters of %s exactly', async (_what, input) => {
    await ensureBackend('cpu');
    const config = parseRunConfig(input);
    const model = createModel(config.model, [28, 28, 1], 0);
    try {
      const actual = Object.values(model.networks()).reduce((sum, net) => sum + net.countParams(), 0);
      expect(estimateRunCost(config).parameters).toBe(actual);
    } finally {
      model.dispose();
    }
  });

  it('the default config costs a few tens of MB, far under the 2 GiB budget', () => {
    const cost = estimateRunCost(parseRunConfig({}));
    expect(cost.parameters).toBe(652_824);
    expect(cost.trainActivations).toBe(128 * (784 + 400 + 40) + 128 * (20 + 400 + 784));
    expect(cost.bytes).toBeGreaterThan(10 * 1024 ** 2);
    expect(cost.bytes).toBeLessThan(100 * 1024 ** 2);
    expect(RUN_MEMORY_BUDGET_BYTES).toBe(2 * 1024 ** 3);
  });

  it('refuses the config of issue #13 (hidden 4096,4096, latent 512, batch 4096, IWAE 256) with its estimate', () => {
    const input = {
      model: { hidden: [4096, 4096], latentDim: 512 },
      train: { batchSize: 4096, objective: 'iwae', objectiveSamples: 256 },
    };
    let error: unknown;
    try {
      parseRunConfig(input);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0].path).toBe('train.batchSize');
    // 4096 x 256 decoder rows x (512 + 4096 + 4096 + 784) values, 12 bytes each: about 114 GiB.
    expect((error as Error).message).toMatch(/about 11\d{4} MiB .*9,9\d\d,\d{3},\d{3} activation values per step/);
    // The same model with the ELBO objective and batch 128 fits.
    expect(() => parseRunConfig({ ...input, train: { batchSize: 128 } })).not.toThrow();
  });

  it('refuses a VQ-VAE whose codebook and code prior tables exceed the budget, naming the VQ fields', () => {
    const input = { model: { kind: 'vq-vae', codebookSize: 65_536, codePositions: 1024 } };
    expect(() => parseRunConfig(input)).toThrow(/model\.codebookSize, model\.codeDim or model\.codePositions/);
    // The defaults (512 codes of 64 at 16 positions) cost little.
    expect(estimateRunCost(parseRunConfig({ model: { kind: 'vq-vae' } })).bytes).toBeLessThan(100 * 1024 ** 2);
  });
});
