// beta-VAE (Higgins et al. 2017) and its controlled-capacity form (Burgess et al. 2018). beta scales
// only the KL term and reaches the model through LossOptions.klWeight (= beta x schedule, computed by
// the caller: beta x schedules.klWeightAt), so the weighted form is the base class's. What this variant
// adds is the capacity objective: loss = recon + gamma |KL - C|, C given per step in LossOptions.capacity.
import * as tf from '@tensorflow/tfjs';
import type { BetaVaeConfig } from '../configs';
import type { LossOptions } from '../types';
import { buildVae, Vae } from '../vae';

/** gamma |KL - C| on the batch-mean total KL (Burgess et al. 2018; disentanglement_lib vae.py). */
export function capacityPenalty(kl: tf.Scalar, gamma: number, c: number): tf.Scalar {
  return tf.tidy(() => tf.mul(gamma, tf.abs(tf.sub(kl, c))) as tf.Scalar);
}

export class BetaVae extends Vae {
  /** With options.capacity the penalty is gamma |KL - C| on the true KL (klWeight and freeBits are not used); else the weighted, free-bits KL. */
  protected override klPenalty(
    klPerLayer: tf.Scalar[],
    kl: tf.Scalar,
    options: LossOptions,
    klPerDim: tf.Tensor1D[],
  ): tf.Scalar {
    if (options.capacity === null) return super.klPenalty(klPerLayer, kl, options, klPerDim);
    return capacityPenalty(kl, options.capacity.gamma, options.capacity.c);
  }
}

export function buildBetaVae(config: BetaVaeConfig, inputShape: [number, number, number], seed: number): BetaVae {
  return buildVae(config, inputShape, seed, BetaVae);
}
