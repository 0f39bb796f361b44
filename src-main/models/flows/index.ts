// The Gaussian VAE with a normalizing-flow posterior (config.posterior 'planar' or 'iaf',
// config.flowLength steps): z_0 ~ q_0(z_0 | x) = N(mu(x), diag sigma(x)^2), z_K = f(z_0),
// log q_K(z_K | x) = log q_0(z_0 | x) - sum_k log |det J_k|. The KL is the Monte Carlo estimate
// log q_K(z_K | x) - log p(z_K) on the same samples the reconstruction uses, and IWAE_k's log-weights
// are log p(x | z_K) + log p(z_K) - log q_K(z_K | x).
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../api/config';
import type { BetaVaeConfig, VaeConfig } from '../configs';
import { logStandardNormal, sampleDiagGaussian } from '../distributions';
import { createLikelihood, type Likelihood } from '../likelihood';
import { buildEncoderDecoder, run } from '../networks';
import { deriveSeed } from '../noise';
import type { SampledTerms } from '../objective';
import { layerNoiseSeed, Vae, type GaussianPosterior } from '../vae';
import { IafFlow } from './iaf';
import { PlanarFlow } from './planar';
import type { Flow } from './types';

const LOG_2PI = Math.log(2 * Math.PI);

export type { Flow } from './types';
export { PlanarFlow, planarUHat } from './planar';
export { IafFlow, madeMasks } from './iaf';

/** The flow a config names, on d latent dimensions. */
export function createFlow(config: VaeConfig | BetaVaeConfig, dim: number, seed: number): Flow {
  const flowSeed = deriveSeed(seed, 0xf10);
  if (config.posterior === 'planar') return new PlanarFlow(dim, config.flowLength, flowSeed);
  if (config.posterior === 'iaf') return new IafFlow(dim, config.flowLength, flowSeed);
  throw new Error(`posterior '${config.posterior}' is not a flow`);
}

export class FlowVae extends Vae {
  constructor(
    config: ModelConfig,
    inputShape: [number, number, number],
    encoder: tf.LayersModel,
    decoder: tf.LayersModel,
    likelihood: Likelihood,
    readonly flow: Flow,
  ) {
    super(config, inputShape, encoder, decoder, likelihood);
  }

  /** z_K and the per-step log-determinants for n posterior samples per example (rows sample-major). */
  private flowSample(q: GaussianPosterior, n: number, seed: number, sampleOffset: number) {
    const [batch, d] = q.mu.shape;
    const mu = tf.tile(q.mu, [n, 1]) as tf.Tensor2D;
    const logVar = tf.tile(q.logVar, [n, 1]) as tf.Tensor2D;
    const z0 = sampleDiagGaussian(mu, logVar, layerNoiseSeed(seed, 0), sampleOffset * batch * d) as tf.Tensor2D;
    const { z, logDets } = this.flow.forward(z0);
    return { mu, logVar, z0, z, logDets };
  }

  protected override sample(
    x: tf.Tensor2D,
    q: GaussianPosterior,
    n: number,
    seed: number,
    sampleOffset: number,
  ): SampledTerms {
    const d = q.mu.shape[1];
    const { mu, logVar, z0, z, logDets } = this.flowSample(q, n, seed, sampleOffset);
    const sumLogDet = logDets.length > 0 ? tf.addN(logDets) : tf.zerosLike(tf.sum(z, 1));
    // Per dimension: log q_0(z_0j | x) - log p(z_Kj) = 1/2 (z_Kj^2 - log sigma_j^2 - eps_j^2); the
    // log-determinant does not factor over dimensions and is shared evenly, so the row sums are
    // the Monte Carlo KL log q_K(z_K | x) - log p(z_K) exactly.
    const eps2 = tf.div(tf.square(tf.sub(z0, mu)), tf.exp(logVar));
    const perDim = tf.sub(
      tf.mul(0.5, tf.sub(tf.sub(tf.square(z), logVar), eps2)),
      tf.div(tf.expandDims(sumLogDet, 1), d),
    ) as tf.Tensor2D;
    const logQ0 = tf.mul(-0.5, tf.sum(tf.add(tf.add(logVar, LOG_2PI), eps2), 1));
    const logQK = tf.sub(logQ0, sumLogDet); // log q_K(z_K|x) = log q_0(z_0|x) - sum_k log |det J_k|
    return {
      samples: n,
      logLikelihood: this.likelihood.logProb(tf.tile(x, [n, 1]) as tf.Tensor2D, run(this.decoder, z)),
      logPriorRatio: tf.sub(logStandardNormal(z), logQK) as tf.Tensor1D,
      klPerDim: [perDim],
    };
  }

  /** Mean over the batch of each step's log |det J_k| (one posterior sample per example). */
  meanLogDetPerStep(x: tf.Tensor2D, seed: number): number[] {
    return tf.tidy(() => {
      const { logDets } = this.flowSample(this.posterior(x), 1, seed, 0);
      return logDets.map((l) => tf.mean(l).dataSync()[0]);
    });
  }

  /** Not a Gaussian posterior: the KL decomposition's density q(z | x') is not available in closed form. */
  override decompositionPosterior(): null {
    return null;
  }

  protected override ownNetworks(): Record<string, tf.LayersModel> {
    return { ...super.ownNetworks(), flow: this.flow.network };
  }

  /** The flow applied to the base mean: the latent that traversals, active units and reconstructions use. */
  override encodeMeans(x: tf.Tensor2D): tf.Tensor2D[] {
    return tf.tidy(() => [this.flow.forward(this.posterior(x).mu).z]);
  }

  override dispose(): void {
    super.dispose();
    this.flow.dispose();
  }
}

export function buildFlowVae(
  config: VaeConfig | BetaVaeConfig,
  inputShape: [number, number, number],
  seed: number,
): FlowVae {
  const { encoder, decoder } = buildEncoderDecoder(config, inputShape, config.latentDim, seed);
  return new FlowVae(
    config,
    inputShape,
    encoder,
    decoder,
    createLikelihood(config, inputShape[0] * inputShape[1] * inputShape[2]),
    createFlow(config, config.latentDim, seed),
  );
}
