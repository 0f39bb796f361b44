// The bench's variants table (bench/variants.ts): each variant's config on the plain VAE's data and
// budget, the figures read from a run's last metrics, and the markdown row they make.
import { describe, expect, it } from 'vitest';
import { parseRunConfig, type RunConfigInput } from '../../../src-main/api/config';
import { VARIANT_MODELS, variantConfig, variantFigures, variantTable, type Trained } from '../../../bench/variants';
import { modelOfKind } from '../../../src-main/api/modelReads';

const base: RunConfigInput = {
  model: { kind: 'vae', hidden: [400], latentDim: 20, likelihood: 'bernoulli' },
  data: { dataset: 'fashion-mnist', trainSize: 2000, testSize: 1000, binarization: 'dynamic' },
  train: { epochs: 1, batchSize: 128, lr: 1e-3, seed: 0 },
  eval: { iwaeK: 50, iwaeExamples: 100, everyEpochs: 1, gridSize: 8 },
};
const options = { flowLength: 4, tcBeta: 6 };

function trained(metrics: Record<string, number>): Trained {
  return { last: new Map(Object.entries(metrics)), backend: 'cpu', trainSeconds: 1.25, wallSeconds: 2.5 };
}

describe('bench variants', () => {
  it('every variant keeps the plain VAE data, budget and evaluation, and the VAE row is the main table VAE', () => {
    const plain = parseRunConfig(base);
    for (const model of VARIANT_MODELS) {
      const config = parseRunConfig(variantConfig(model, base, options).input);
      expect(config.data).toEqual(plain.data);
      expect(config.train).toEqual(plain.train);
      expect(config.eval).toEqual(plain.eval);
      expect(config.model.hidden).toEqual([400]);
    }
    // Same JSON: the bench trains it once and reuses it for both tables.
    expect(JSON.stringify(parseRunConfig(variantConfig('vae', base, options).input))).toBe(JSON.stringify(plain));
    const iaf = modelOfKind(parseRunConfig(variantConfig('iaf', base, options).input).model, 'vae');
    expect([iaf.kind, iaf.posterior, iaf.flowLength, iaf.latentDim]).toEqual(['vae', 'iaf', 4, 20]);
    const planar = modelOfKind(
      parseRunConfig(variantConfig('planar', base, { flowLength: 8, tcBeta: 6 }).input).model,
      'vae',
    );
    expect([planar.posterior, planar.flowLength]).toEqual(['planar', 8]);
    const vq = modelOfKind(parseRunConfig(variantConfig('vq-vae', base, options).input).model, 'vq-vae');
    expect([vq.kind, vq.codebookSize, vq.codeDim, vq.codePositions]).toEqual(['vq-vae', 512, 64, 16]);
    const tc = modelOfKind(parseRunConfig(variantConfig('beta-tcvae', base, options).input).model, 'beta-tcvae');
    expect([tc.kind, tc.alpha, tc.beta, tc.gamma]).toEqual(['beta-tcvae', 1, 6, 1]);
  });

  it('reads a flow run: the summed mean log-determinant and the IWAE NLL', () => {
    const { label, input } = variantConfig('iaf', base, options);
    const run = trained({
      'test/elbo': -100.5,
      'test/iwae': -97.25,
      'test/elbo_iwae_subset': -101,
      'test/recon': 90,
      'test/kl': 10.5,
      'test/active_units': 12,
      'test/flow_logdet/0': -1.5,
      'test/flow_logdet/1': -0.25,
      'test/flow_logdet/2': 0.5,
      'test/flow_logdet/3': -2,
    });
    const row = variantFigures('iaf', label, parseRunConfig(input), run);
    expect(row.testLoss).toBe(100.5);
    expect(row.nll).toBe(97.25);
    expect(row.flowLogDet).toBeCloseTo(-3.25, 12);
    expect(row.flowSteps).toBe(4);
    expect([row.mi, row.perplexity, row.codesUsed]).toEqual([null, null, null]);
  });

  it('reads a VQ-VAE run: perplexity and codes used, no NLL beside its exact uniform-prior bound', () => {
    const { label, input } = variantConfig('vq-vae', base, options);
    const config = parseRunConfig(input);
    const run = trained({
      'test/elbo': -(90 + 16 * Math.log(512)),
      'test/iwae': -(90 + 16 * Math.log(512)),
      'test/elbo_iwae_subset': -190,
      'test/recon': 90,
      'test/kl': 16 * Math.log(512),
      'test/perplexity': 28.25,
      'test/codes_used': 0.0742,
      'test/elbo_code_prior': -125.5,
    });
    const row = variantFigures('vq-vae', label, config, run);
    expect(row.nll).toBeNull();
    expect(row.testLoss).toBeCloseTo(189.81, 2);
    expect(row.perplexity).toBe(28.25);
    expect(row.codesUsed).toBe(0.0742);
    expect(row.codebookSize).toBe(512);
    expect(row.activeUnits).toBeNull();
    const table = variantTable('fashion-mnist', [row], { iwaeK: 50, iwaeExamples: 100, testSize: 1000 });
    const line = table.find((l) => l.startsWith('| VQ-VAE'))!;
    const cells = line.split('|').map((c) => c.trim());
    expect(cells[2]).toBe('189.81');
    expect(cells[3]).toBe('—');
    expect(cells[12]).toBe('28.3');
    expect(cells[13]).toBe('7.4 % of 512');
    expect(row.testLossCodePrior).toBe(125.5);
    expect(table.some((l) => l.endsWith('125.50 nats (recon 90.00 + KL to that prior 35.50).'))).toBe(true);
  });

  it('a run without a metric it must have is an error naming it', () => {
    const { label, input } = variantConfig('vae', base, options);
    expect(() => variantFigures('vae', label, parseRunConfig(input), trained({ 'test/elbo': -1 }))).toThrow(
      /no test\/iwae/,
    );
  });

  it('says whether the IAF posterior is tighter than the diagonal Gaussian', () => {
    const row = (model: 'vae' | 'iaf', loss: number) => ({
      ...variantFigures(
        model,
        model,
        parseRunConfig(variantConfig(model, base, options).input),
        trained({
          'test/elbo': -loss,
          'test/iwae': -loss,
          'test/elbo_iwae_subset': -loss,
          'test/recon': 1,
          'test/kl': 1,
        }),
      ),
    });
    const table = variantTable('mnist', [row('vae', 100), row('iaf', 98.5)], {
      iwaeK: 5,
      iwaeExamples: 10,
      testSize: 10,
    });
    expect(table.at(-1)).toBe(
      'IAF minus diagonal Gaussian test ELBO: 1.50 nats (the IAF posterior is tighter on this budget).',
    );
    expect(table[0]).toBe('Model variants on dynamically binarized MNIST, same data, networks and budget:');
  });
});
