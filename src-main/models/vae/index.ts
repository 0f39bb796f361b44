// The VAE (Kingma & Welling 2013): q(z|x) = N(mu(x), diag sigma(x)^2), p(z) = N(0, I), p(x|z) from
// the decoder; trained on the negative ELBO (or the IWAE bound, see objective.ts).
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../api/config';
import type { BetaTcvaeConfig, BetaVaeConfig, VaeConfig } from '../configs';
import { BaseVae } from '../baseModel';
import { klStandardNormalPerDim, logNormalDiag, logStandardNormal, sampleDiagGaussian } from '../distributions';
import { createLikelihood, type Likelihood } from '../likelihood';
import { buildEncoderDecoder, run, splitHead } from '../networks';
import { deriveSeed } from '../noise';
import type { SampledTerms } from '../objective';

/** The parameters of a diagonal Gaussian q(z|x) for a batch (a type literal, so tf.tidy can return it). */
export type GaussianPosterior = { mu: tf.Tensor2D; logVar: tf.Tensor2D };

/** Noise stream of stochastic layer `layer` for a call with seed `seed` (shared with the ladder). */
export function layerNoiseSeed(seed: number, layer: number): number {
  return deriveSeed(seed, layer);
}

/** The configs of the models with one Gaussian latent layer of latentDim dimensions. */
export type SingleLayerConfig = VaeConfig | BetaVaeConfig | BetaTcvaeConfig;

export class Vae extends BaseVae<GaussianPosterior> {
  /**
   * A VAE over given networks: encoder x -> [mu | logVar] (width 2 * latentDim), decoder z -> logits
   * (Bernoulli) or means (Gaussian). Tests build special cases (the linear-Gaussian model) through this.
   */
  constructor(
    config: ModelConfig,
    inputShape: [number, number, number],
    protected readonly encoder: tf.LayersModel,
    decoder: tf.LayersModel,
    likelihood: Likelihood,
  ) {
    super(config, inputShape, [(encoder.outputs[0].shape[1] as number) / 2], decoder, likelihood);
  }

  protected posterior(x: tf.Tensor2D): GaussianPosterior {
    return splitHead(run(this.encoder, x));
  }

  protected sample(x: tf.Tensor2D, q: GaussianPosterior, n: number, seed: number, sampleOffset: number): SampledTerms {
    const [batch, d] = q.mu.shape;
    const mu = tf.tile(q.mu, [n, 1]);
    const logVar = tf.tile(q.logVar, [n, 1]);
    const z = sampleDiagGaussian(mu, logVar, layerNoiseSeed(seed, 0), sampleOffset * batch * d); // z = mu + sigma * eps
    return {
      samples: n,
      logLikelihood: this.likelihood.logProb(tf.tile(x, [n, 1]), run(this.decoder, z)),
      logPriorRatio: tf.sub(logStandardNormal(z), logNormalDiag(z, mu, logVar)) as tf.Tensor1D, // log p(z) - log q(z|x)
      klPerDim: [klStandardNormalPerDim(q.mu, q.logVar) as tf.Tensor2D],
    };
  }

  /**
   * The diagonal Gaussian q(z|x) the KL decomposition (klDecomposition.ts) evaluates at other
   * examples' samples; null for a posterior that is not one (a flow).
   */
  decompositionPosterior(x: tf.Tensor2D): GaussianPosterior | null {
    return tf.tidy(() => this.posterior(x));
  }

  protected ownNetworks(): Record<string, tf.LayersModel> {
    return { encoder: this.encoder };
  }

  encodeMeans(x: tf.Tensor2D): tf.Tensor2D[] {
    return tf.tidy(() => [this.posterior(x).mu]);
  }

  /** A single-layer model's prior latent is its bottom latent: decode it (the seed is unused). */
  generate(zTop: tf.Tensor2D, _seed: number): tf.Tensor2D {
    return this.decode(zTop);
  }
}

/** The constructor shape of Vae and of the variants that only change its loss (beta-VAE, beta-TCVAE). */
export type VaeConstructor<T extends Vae> = new (
  config: ModelConfig,
  inputShape: [number, number, number],
  encoder: tf.LayersModel,
  decoder: tf.LayersModel,
  likelihood: Likelihood,
) => T;

/** A VAE (or `Model`, one of its variants) with the config's networks (architecture, hidden, activation) and likelihood. */
export function buildVae<T extends Vae = Vae>(
  config: SingleLayerConfig,
  inputShape: [number, number, number],
  seed: number,
  Model: VaeConstructor<T> = Vae as unknown as VaeConstructor<T>,
): T {
  const { encoder, decoder } = buildEncoderDecoder(config, inputShape, config.latentDim, seed);
  return new Model(
    config,
    inputShape,
    encoder,
    decoder,
    createLikelihood(config, inputShape[0] * inputShape[1] * inputShape[2]),
  );
}
