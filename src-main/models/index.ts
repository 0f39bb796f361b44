// The models layer: createModel picks the variant by config.kind; the rest is re-exported.
import type { ModelConfig } from '../api/config';
import { buildBetaVae } from './betaVae';
import { buildBetaTcVae } from './betaTcvae';
import { buildFlowVae } from './flows';
import { buildVqVae } from './vqvae';
import { buildLadderVae } from './ladder';
import type { VaeModel } from './types';
import { buildVae } from './vae';

/** A freshly initialized model; the same (config, inputShape, seed) gives the same weights. */
export function createModel(config: ModelConfig, inputShape: [number, number, number], seed: number): VaeModel {
  // 'vae' / 'beta-vae' with a flow (migrations/0007 gave stored configs from before the field 'gaussian').
  if ((config.kind === 'vae' || config.kind === 'beta-vae') && config.posterior !== 'gaussian')
    return buildFlowVae(config, inputShape, seed);
  switch (config.kind) {
    case 'vae':
      return buildVae(config, inputShape, seed);
    case 'beta-vae':
      return buildBetaVae(config, inputShape, seed);
    case 'ladder':
      return buildLadderVae(config, inputShape, seed);
    case 'beta-tcvae':
      return buildBetaTcVae(config, inputShape, seed);
    case 'vq-vae':
      return buildVqVae(config, inputShape, seed);
  }
}

export type { LossOptions, LossTerms, VaeModel } from './types';
export { getNamedWeights, getNamedWeightsAsync, setNamedWeights, type NamedWeight } from './weights';
export { activeUnits, unitActivity, ACTIVE_UNIT_THRESHOLD } from './activeUnits';
export { capacityAt, constantWeight, cyclicalWeight, klWeightAt, linearWarmup, type KlScheduleSpec } from './schedules';
export { Vae } from './vae';
export { BetaVae, capacityPenalty } from './betaVae';
export { LadderVae } from './ladder';
export { FlowVae } from './flows';
export { BetaTcVae } from './betaTcvae';
export { VqVae } from './vqvae';
