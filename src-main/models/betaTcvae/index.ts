// beta-TCVAE (Chen et al. 2018): the KL term of the ELBO split into index-code mutual information,
// total correlation and dimension-wise KL (klDecomposition.ts), each with its own weight:
//   loss = recon + w (alpha MI + beta TC + gamma DWKL),
// w the KL schedule's weight at this step (LossOptions.klWeight: the trainer passes the schedule
// alone for this kind, beta is applied here). The three terms are estimated on the batch with the
// training set's size N (LossOptions.datasetSize). alpha = gamma = 1 with beta = 1 is the plain
// VAE's loss in expectation. The reported ELBO, recon and KL are the plain ones (analytic KL).
import * as tf from '@tensorflow/tfjs';
import type { BetaTcvaeConfig } from '../configs';
import { klStandardNormalPerDim, logNormalDiag, logStandardNormal, sampleDiagGaussian } from '../distributions';
import { klDecomposition } from '../klDecomposition';
import { run } from '../networks';
import { assembleLossTerms, type SampledTerms } from '../objective';
import type { LossOptions, LossTerms } from '../types';
import { buildVae, layerNoiseSeed, Vae } from '../vae';

export class BetaTcVae extends Vae {
  override lossTerms(x: tf.Tensor2D, options: LossOptions): LossTerms {
    if (options.objective !== 'elbo') throw new Error("beta-TCVAE trains on train.objective 'elbo'");
    if (options.capacity !== null) throw new Error("controlled capacity needs model.kind 'beta-vae'");
    return tf.tidy(() => {
      const q = this.posterior(x);
      const z = sampleDiagGaussian(q.mu, q.logVar, layerNoiseSeed(options.seed, 0)) as tf.Tensor2D; // Vae's one-sample draw
      const terms: SampledTerms = {
        samples: 1,
        logLikelihood: this.likelihood.logProb(x, run(this.decoder, z)),
        logPriorRatio: tf.sub(logStandardNormal(z), logNormalDiag(z, q.mu, q.logVar)) as tf.Tensor1D,
        klPerDim: [klStandardNormalPerDim(q.mu, q.logVar) as tf.Tensor2D],
      };
      const batch = x.shape[0];
      const { mi, tc, dwkl } = klDecomposition(z, q.mu, q.logVar, Math.max(options.datasetSize ?? batch, batch));
      const { alpha, beta, gamma } = this.config as BetaTcvaeConfig;
      const decomposed = tf.addN([tf.mul(alpha, mi), tf.mul(beta, tc), tf.mul(gamma, dwkl)]);
      return {
        ...assembleLossTerms(terms, options, (_layers, _kl, opts) => tf.mul(opts.klWeight, decomposed) as tf.Scalar),
      };
    });
  }
}

export function buildBetaTcVae(config: BetaTcvaeConfig, inputShape: [number, number, number], seed: number): BetaTcVae {
  return buildVae(config, inputShape, seed, BetaTcVae);
}
