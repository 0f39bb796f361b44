// Ladder VAE (Sonderby et al. 2016) with L >= 2 stochastic layers z_1 (bottom) .. z_L (top).
// Bottom-up: d_i = MLP_i(d_{i-1}), d_0 = x, with heads (mu_hat_i, log sigma_hat_i^2).
// Top-down:  q(z_L|x) = N(mu_hat_L, sigma_hat_L^2); for i < L, p(z_i|z_{i+1}) = N(mu_p_i, sigma_p_i^2)
//            from a top-down MLP on z_{i+1}, and q(z_i|.) the precision-weighted merge of the two.
// KL of layer i < L is the analytic KL(q(z_i|.) || p(z_i|z_{i+1})) at the sampled z_{i+1}; the top
// layer's is against N(0, I); the total KL is their sum. Each deterministic block is one dense
// layer of width hidden[min(i, hidden.length - 1)]; the decoder p(x|z_1) mirrors the bottom block.
// No batch norm.
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../../api/config';
import type { LadderConfig } from '../configs';
import { BaseVae } from '../baseModel';
import {
  klGaussiansPerDim,
  klStandardNormalPerDim,
  logNormalDiag,
  logStandardNormal,
  precisionWeightedMerge,
  sampleDiagGaussian,
} from '../distributions';
import { createLikelihood, type Likelihood } from '../likelihood';
import { buildMlp, buildMlpDecoder, run, splitHead } from '../networks';
import type { SampledTerms } from '../objective';
import { layerNoiseSeed, type GaussianPosterior } from '../vae';

/** The bottom-up pass: (mu_hat_i, log sigma_hat_i^2) of every layer, bottom first. */
type BottomUp = GaussianPosterior[];

export interface LadderNetworks {
  /** up[i]: d_i -> d_{i+1} (one dense block); upHead[i]: d_{i+1} -> [mu_hat | logVar_hat] of layer i+1. */
  up: tf.LayersModel[];
  upHead: tf.LayersModel[];
  /** down[i]: z_{i+2} -> [mu_p | logVar_p] of p(z_{i+1} | z_{i+2}) (length L - 1). */
  down: tf.LayersModel[];
  decoder: tf.LayersModel;
}

interface TopDown {
  /** z_i per layer (sampled, or the posterior means), rows sample-major. */
  z: tf.Tensor2D[];
  /** KL per dim per layer, bottom first. */
  klPerDim: tf.Tensor2D[];
  /** sum over layers of log p(z_i | z_{i+1}) - log q(z_i | .). */
  logPriorRatio: tf.Tensor1D;
  /** posterior means per layer. */
  mu: tf.Tensor2D[];
}

export class LadderVae extends BaseVae<BottomUp> {
  constructor(
    config: ModelConfig,
    inputShape: [number, number, number],
    latentDims: number[],
    private readonly nets: LadderNetworks,
    likelihood: Likelihood,
  ) {
    if (latentDims.length < 2) throw new Error('a ladder VAE needs at least 2 stochastic layers');
    super(config, inputShape, latentDims, nets.decoder, likelihood);
  }

  protected posterior(x: tf.Tensor2D): BottomUp {
    let d: tf.Tensor2D = x;
    return this.nets.up.map((block, i) => {
      d = run(block, d);
      return splitHead(run(this.nets.upHead[i], d));
    });
  }

  /** The top-down pass with n samples per example; sampleOffset null takes the means instead of sampling. */
  private topDown(up: BottomUp, n: number, seed: number, sampleOffset: number | null): TopDown {
    const top = up.length - 1;
    const batch = up[0].mu.shape[0];
    const z: tf.Tensor2D[] = new Array(up.length);
    const mu: tf.Tensor2D[] = new Array(up.length);
    const klPerDim: tf.Tensor2D[] = new Array(up.length);
    const draw = (i: number, m: tf.Tensor2D, lv: tf.Tensor2D): tf.Tensor2D =>
      sampleOffset === null
        ? m
        : (sampleDiagGaussian(
            m,
            lv,
            layerNoiseSeed(seed, i),
            sampleOffset * batch * this.latentDims[i],
          ) as tf.Tensor2D);

    const muTop = tf.tile(up[top].mu, [n, 1]);
    const lvTop = tf.tile(up[top].logVar, [n, 1]);
    z[top] = draw(top, muTop, lvTop);
    mu[top] = muTop;
    klPerDim[top] = klStandardNormalPerDim(up[top].mu, up[top].logVar) as tf.Tensor2D; // KL(q(z_L|x) || N(0, I))
    let logPriorRatio = tf.sub(logStandardNormal(z[top]), logNormalDiag(z[top], muTop, lvTop));
    for (let i = top - 1; i >= 0; i--) {
      const prior = splitHead(run(this.nets.down[i], z[i + 1])); // p(z_i | z_{i+1})
      const q = precisionWeightedMerge(
        tf.tile(up[i].mu, [n, 1]),
        tf.tile(up[i].logVar, [n, 1]),
        prior.mu,
        prior.logVar,
      );
      z[i] = draw(i, q.mu as tf.Tensor2D, q.logVar as tf.Tensor2D);
      mu[i] = q.mu as tf.Tensor2D;
      klPerDim[i] = klGaussiansPerDim(q.mu, q.logVar, prior.mu, prior.logVar) as tf.Tensor2D; // KL(q(z_i|.) || p(z_i|z_{i+1}))
      // log p(z_i | z_{i+1}) - log q(z_i | .), accumulated over layers for the importance weights
      logPriorRatio = tf.add(
        logPriorRatio,
        tf.sub(logNormalDiag(z[i], prior.mu, prior.logVar), logNormalDiag(z[i], q.mu, q.logVar)),
      );
    }
    return { z, mu, klPerDim, logPriorRatio: logPriorRatio as tf.Tensor1D };
  }

  protected sample(x: tf.Tensor2D, up: BottomUp, n: number, seed: number, sampleOffset: number): SampledTerms {
    const pass = this.topDown(up, n, seed, sampleOffset);
    return {
      samples: n,
      logLikelihood: this.likelihood.logProb(tf.tile(x, [n, 1]), run(this.decoder, pass.z[0])),
      logPriorRatio: pass.logPriorRatio,
      klPerDim: pass.klPerDim,
    };
  }

  protected ownNetworks(): Record<string, tf.LayersModel> {
    const out: Record<string, tf.LayersModel> = {};
    this.nets.up.forEach((net, i) => {
      out[`up${i + 1}`] = net;
      out[`upHead${i + 1}`] = this.nets.upHead[i];
    });
    this.nets.down.forEach((net, i) => (out[`down${i + 1}`] = net));
    return out;
  }

  /** Posterior means of every layer from a top-down pass that follows the means (no sampling). */
  encodeMeans(x: tf.Tensor2D): tf.Tensor2D[] {
    return tf.tidy(() => this.topDown(this.posterior(x), 1, 0, null).mu);
  }

  /** Ancestral sampling: z_L = zTop, z_i ~ p(z_i | z_{i+1}) with the seed, down to z_1. */
  protected override bottomLatent(zTop: tf.Tensor2D, seed: number): tf.Tensor2D {
    return tf.tidy(() => {
      let z = zTop;
      for (let i = this.latentDims.length - 2; i >= 0; i--) {
        const prior = splitHead(run(this.nets.down[i], z));
        z = sampleDiagGaussian(prior.mu, prior.logVar, layerNoiseSeed(seed, i)) as tf.Tensor2D;
      }
      return z;
    });
  }

  /** Ancestral sampling to z_1, then the decoder mean at z_1. */
  generate(zTop: tf.Tensor2D, seed: number): tf.Tensor2D {
    return tf.tidy(() => this.decode(this.bottomLatent(zTop, seed)));
  }
}

export function buildLadderVae(config: LadderConfig, inputShape: [number, number, number], seed: number): LadderVae {
  if (config.architecture !== 'mlp') throw new Error("the ladder VAE supports only the 'mlp' architecture");
  const dims = config.ladderLatentDims;
  const dim = inputShape[0] * inputShape[1] * inputShape[2];
  const width = (i: number) => config.hidden[Math.min(i, config.hidden.length - 1)];
  const act = config.activation;
  const up = dims.map((_, i) =>
    buildMlp({
      name: `up${i + 1}`,
      inputDim: i === 0 ? dim : width(i - 1),
      hidden: [width(i)],
      activation: act,
      outputDim: null,
      seed,
    }),
  );
  const upHead = dims.map((d, i) =>
    buildMlp({ name: `upHead${i + 1}`, inputDim: width(i), hidden: [], activation: act, outputDim: 2 * d, seed }),
  );
  const down = dims.slice(0, -1).map((d, i) =>
    buildMlp({
      name: `down${i + 1}`,
      inputDim: dims[i + 1],
      hidden: [width(i)],
      activation: act,
      outputDim: 2 * d,
      seed,
    }),
  );
  const decoder = buildMlpDecoder(dims[0], [width(0)], act, dim, seed);
  return new LadderVae(config, inputShape, [...dims], { up, upHead, down, decoder }, createLikelihood(config, dim));
}
