// What every variant shares: the loss assembly, the chunked IWAE bound, decoding, variables and
// disposal. A variant supplies its deterministic posterior pass (kept across IWAE chunks) and a
// sampling pass giving log p(x|z), log p(z) - log q(z|x) and the per-layer analytic KL.
import * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../api/config';
import { chunkedIwae } from './iwae';
import type { Likelihood } from './likelihood';
import { run } from './networks';
import { assembleLossTerms, weightedKlPenalty, type SampledTerms } from './objective';
import type { LossOptions, LossTerms, VaeModel } from './types';

export abstract class BaseVae<Posterior extends tf.TensorContainer> implements VaeModel {
  constructor(
    readonly config: ModelConfig,
    readonly inputShape: [number, number, number],
    readonly latentDims: number[],
    protected readonly decoder: tf.LayersModel,
    protected readonly likelihood: Likelihood,
  ) {}

  get priorDim(): number {
    return this.latentDims[this.latentDims.length - 1];
  }

  /** The deterministic part of q(z|x) for a batch (no sampling). */
  protected abstract posterior(x: tf.Tensor2D): Posterior;

  /**
   * n posterior samples per example: sample j of example b uses positions (j * batch + b) * d.. of
   * each layer's noise stream, so the draws depend on (seed, j) only, not on sampleOffset chunking.
   */
  protected abstract sample(
    x: tf.Tensor2D,
    posterior: Posterior,
    n: number,
    seed: number,
    sampleOffset: number,
  ): SampledTerms;

  /** The variant's own networks, besides the decoder and likelihood ones. */
  protected abstract ownNetworks(): Record<string, tf.LayersModel>;

  abstract encodeMeans(x: tf.Tensor2D): tf.Tensor2D[];
  abstract generate(zTop: tf.Tensor2D, seed: number): tf.Tensor2D;

  /** The KL part of the ELBO objective; controlled capacity is the beta-VAE's (see betaVae.ts). */
  protected klPenalty(
    klPerLayer: tf.Scalar[],
    kl: tf.Scalar,
    options: LossOptions,
    klPerDim: tf.Tensor1D[],
  ): tf.Scalar {
    if (options.capacity !== null) throw new Error("controlled capacity needs model.kind 'beta-vae'");
    return weightedKlPenalty(klPerLayer, kl, options, klPerDim);
  }

  /** The bottom latent z_1 that generation decodes, from a prior draw at the top layer (identity for one layer). */
  protected bottomLatent(zTop: tf.Tensor2D, _seed: number): tf.Tensor2D {
    return zTop;
  }

  drawSamples(zTop: tf.Tensor2D, seed: number): tf.Tensor2D {
    return tf.tidy(() => this.likelihood.sample(run(this.decoder, this.bottomLatent(zTop, seed)), seed));
  }

  lossTerms(x: tf.Tensor2D, options: LossOptions): LossTerms {
    if (options.objective === 'iwae' && !(options.samples >= 1 && Number.isInteger(options.samples))) {
      throw new Error(`the IWAE objective needs an integer samples >= 1, got ${options.samples}`);
    }
    return tf.tidy(() => {
      const n = options.objective === 'iwae' ? options.samples : 1;
      const terms = this.sample(x, this.posterior(x), n, options.seed, 0);
      return {
        ...assembleLossTerms(terms, options, (layers, kl, opts, dims) => this.klPenalty(layers, kl, opts, dims)),
      };
    });
  }

  iwaeBound(x: tf.Tensor2D, k: number, options: { chunk: number; seed: number }): tf.Tensor1D {
    const posterior = tf.tidy(() => this.posterior(x));
    try {
      return chunkedIwae(
        (n, offset) =>
          tf.tidy(() => {
            const terms = this.sample(x, posterior, n, options.seed, offset);
            // log w = log p(x|z) + log p(z) - log q(z|x), per sample (Burda et al. 2015)
            return tf.reshape(tf.add(terms.logLikelihood, terms.logPriorRatio), [n, -1]) as tf.Tensor2D;
          }),
        k,
        options.chunk,
      );
    } finally {
      tf.dispose(posterior);
    }
  }

  encodeMean(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.encodeMeans(x)[0]);
  }

  decode(z: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.likelihood.mean(run(this.decoder, z)));
  }

  reconstruct(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.decode(this.encodeMean(x)));
  }

  networks(): Record<string, tf.LayersModel> {
    return { ...this.ownNetworks(), decoder: this.decoder, ...this.likelihood.networks() };
  }

  trainableVariables(): tf.Variable[] {
    return Object.values(this.networks()).flatMap((net) => net.trainableWeights.map((w) => w.read() as tf.Variable));
  }

  dispose(): void {
    for (const net of Object.values(this.ownNetworks())) net.dispose();
    this.decoder.dispose();
    this.likelihood.dispose();
  }
}
