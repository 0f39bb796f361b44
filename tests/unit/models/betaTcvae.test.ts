// beta-TCVAE's loss (models/betaTcvae/): recon + w (alpha MI + beta TC + gamma DWKL) on the batch's
// own posterior samples, which at alpha = beta = gamma = 1 is recon + the Monte Carlo KL.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { parseRunConfig } from '../../../src-main/api/config';
import { initBackend } from '../../../src-main/training/backend';
import { BetaTcVae, createModel } from '../../../src-main/models';
import { sampleDiagGaussian } from '../../../src-main/models/distributions';
import { klDecomposition } from '../../../src-main/models/klDecomposition';
import { layerNoiseSeed } from '../../../src-main/models/vae';
import type { LossOptions } from '../../../src-main/models/types';

const options: LossOptions = {
  klWeight: 1,
  freeBits: 0,
  capacity: null,
  objective: 'elbo',
  samples: 1,
  seed: 11,
  datasetSize: 1000,
};

describe('beta-TCVAE loss', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });
  const x = () => tf.randomUniform([32, 16], 0, 1, 'float32', 4) as tf.Tensor2D;

  it('alpha = beta = gamma = 1: loss - recon is the Monte Carlo KL of the same draws (IWAE_1)', () => {
    const cfg = parseRunConfig({ model: { kind: 'beta-tcvae', hidden: [8], latentDim: 3 }, data: { testSize: 1000 } });
    const model = createModel(cfg.model, [4, 4, 1], 0);
    expect(model).toBeInstanceOf(BetaTcVae);
    const [loss, recon, iwae1] = tf.tidy(() => {
      const input = x();
      const t = model.lossTerms(input, options);
      return [
        t.loss.dataSync()[0],
        t.recon.dataSync()[0],
        tf.mean(model.iwaeBound(input, 1, { chunk: 1, seed: 11 })).dataSync()[0],
      ];
    });
    // mean IWAE_1 = -recon - MC KL on the same z
    expect(Math.abs(loss - recon - (-iwae1 - recon))).toBeLessThan(1e-4);
    model.dispose();
  });

  it('the weights alpha, beta, gamma and the schedule weight scale MI, TC and DWKL', () => {
    const cfg = parseRunConfig({
      model: { kind: 'beta-tcvae', hidden: [8], latentDim: 3, alpha: 2, beta: 3, gamma: 0.5 },
    });
    const model = createModel(cfg.model, [4, 4, 1], 0) as BetaTcVae;
    const [penalty, expected] = tf.tidy(() => {
      const input = x();
      const t = model.lossTerms(input, { ...options, klWeight: 0.7 });
      const q = model.decompositionPosterior(input)!;
      const z = sampleDiagGaussian(q.mu, q.logVar, layerNoiseSeed(11, 0)) as tf.Tensor2D;
      const d = klDecomposition(z, q.mu, q.logVar, 1000);
      const want = 0.7 * (2 * d.mi.dataSync()[0] + 3 * d.tc.dataSync()[0] + 0.5 * d.dwkl.dataSync()[0]);
      return [t.loss.dataSync()[0] - t.recon.dataSync()[0], want];
    });
    expect(Math.abs(penalty - expected)).toBeLessThan(1e-4);
    model.dispose();
  });

  it('alpha and gamma are refused for other kinds, naming the field', () => {
    expect(() => parseRunConfig({ model: { alpha: 2 } })).toThrow(
      /model\.alpha: applies only to model.kind 'beta-tcvae'/,
    );
    expect(() => parseRunConfig({ model: { kind: 'beta-vae', gamma: 2 } })).toThrow(/model\.gamma/);
    expect(() => parseRunConfig({ model: { kind: 'beta-tcvae' }, train: { objective: 'iwae' } })).toThrow(
      /train\.objective/,
    );
  });
});
