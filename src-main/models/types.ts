// The one interface every VAE variant implements. The trainer, evaluation, export and generation
// code see only this. Sign convention, everywhere in the workbench:
//   elbo  = E_q[log p(x|z)] - KL(q(z|x) || p(z))      in nats per example; elbo <= log p(x)
//   recon = -E_q[log p(x|z)]                           reconstruction loss, nats per example
//   kl    = KL(q(z|x) || p(z)) (sum over layers)       nats per example, >= 0
//   so elbo = -(recon + kl), and the reported "loss" is what the optimizer minimizes.
import type * as tf from '@tensorflow/tfjs';
import type { ModelConfig } from '../api/config';

export interface LossOptions {
  /** Weight in effect on the KL term this step (schedule x beta); 1 gives the plain negative ELBO. */
  klWeight: number;
  /** Free-bits floor in nats (0 = off), on each latent dimension's batch-mean KL or each layer's. */
  freeBits: number;
  /** What the floor applies to: 'dimension' (openai/iaf kl_min; the default) or 'layer'. */
  freeBitsPer?: 'dimension' | 'layer';
  /** Controlled-capacity target C in nats for this step, with gamma; null when not used. */
  capacity: { gamma: number; c: number } | null;
  /** 'elbo' (one reparameterized sample) or 'iwae' with `samples` importance samples. */
  objective: 'elbo' | 'iwae';
  samples: number;
  /** Seed for this call's noise, so a step is reproducible. */
  seed: number;
  /** Training-set size N, for estimators over the aggregate posterior (beta-TCVAE); the batch size when left out. */
  datasetSize?: number;
}

export interface LossTerms {
  /** Scalar the optimizer minimizes (mean over the batch). */
  loss: tf.Scalar;
  /** Mean ELBO over the batch (nats per example). */
  elbo: tf.Scalar;
  /** Mean reconstruction loss -E_q[log p(x|z)] (nats per example). */
  recon: tf.Scalar;
  /** Mean total KL (nats per example), unweighted. */
  kl: tf.Scalar;
  /** Mean KL of each stochastic layer, bottom first; sums to kl. Length 1 for single-layer models. */
  klPerLayer: tf.Scalar[];
  /** Mean KL of each latent dimension of every layer, concatenated bottom first. */
  klPerDim: tf.Tensor1D;
}

export interface VaeModel {
  readonly config: ModelConfig;
  /** Input shape [height, width, channels]; examples are passed flattened as [batch, h*w*c]. */
  readonly inputShape: [number, number, number];
  /** Size of each stochastic layer, bottom first. */
  readonly latentDims: number[];
  /** Size of the latent the prior is sampled in (the top layer for a ladder). */
  readonly priorDim: number;

  /** All trainable variables (for the optimizer). */
  trainableVariables(): tf.Variable[];

  /** Loss and its terms for a batch x in [0,1]^(batch x D). Differentiable w.r.t. the variables. */
  lossTerms(x: tf.Tensor2D, options: LossOptions): LossTerms;

  /** Posterior means of the bottom (single-layer: the only) latent layer, for traversals and active units. */
  encodeMean(x: tf.Tensor2D): tf.Tensor2D;
  /** Posterior means of every layer, bottom first. */
  encodeMeans(x: tf.Tensor2D): tf.Tensor2D[];

  /** Decoder mean (Bernoulli: probabilities; Gaussian: means) for a bottom-layer latent z. */
  decode(z: tf.Tensor2D): tf.Tensor2D;
  /** Generates images from prior latents drawn at the top layer (the ladder runs its top-down path). */
  generate(zTop: tf.Tensor2D, seed: number): tf.Tensor2D;
  /** Reconstruction: decoder mean at the posterior mean. */
  reconstruct(x: tf.Tensor2D): tf.Tensor2D;
  /**
   * Images drawn from p(x|z) (not its mean) for prior latents at the top layer: Bernoulli draws, or
   * mean + sigma * eps for a Gaussian, clipped to [0, 1] for display.
   */
  drawSamples(zTop: tf.Tensor2D, seed: number): tf.Tensor2D;

  /**
   * IWAE_k lower bound on log p(x) for each example (Burda et al. 2015), nats:
   * log (1/k) sum_i p(x, z_i) / q(z_i | x). Computed in chunks of `chunk` samples with a running
   * log-sum-exp, so memory stays bounded for k up to 5000.
   */
  iwaeBound(x: tf.Tensor2D, k: number, options: { chunk: number; seed: number }): tf.Tensor1D;

  /**
   * Discrete latents (the VQ-VAE): no Gaussian posterior, so the trainer reports no KL per
   * dimension, active units, IWAE estimate or traversal for it.
   */
  readonly discrete?: boolean;
  /** State the model updates itself after each optimizer step on batch x (a VQ-VAE's EMA codebook); seeded. */
  afterStep?(x: tf.Tensor2D, seed: number): void;

  /** The networks as tf.LayersModel, by name ('encoder', 'decoder', ...), for export in the Layers format. */
  networks(): Record<string, tf.LayersModel>;
  /**
   * Networks a checkpoint may lack (state added after checkpoints of this model were first
   * written, e.g. the VQ-VAE's fitted code prior): restoring one leaves them at their initial
   * values, which the model reads as "not fitted yet".
   */
  readonly optionalNetworks?: readonly string[];

  dispose(): void;
}
