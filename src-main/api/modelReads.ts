// Reading a run's model config across kinds without narrowing at every site: the KL weight, the
// capacity, the posterior, the latent sizes. Plain TypeScript (types only from the schemas), so the
// renderer uses these at start-up as the trainer does.
import type { BetaVaeConfig, ModelConfig, ModelConfigOf, ModelKind } from '../models/configs';

/** The weight on the KL term the trainer applies (times the schedule): beta where the model has it as that, else 1. */
export function klBetaOf(model: ModelConfig): number {
  return model.kind === 'beta-vae' || model.kind === 'ladder' ? model.beta : 1; // beta-TCVAE weighs its own terms
}

/** The controlled-capacity setting (beta-VAE only), or null. */
export function capacityOf(model: ModelConfig): BetaVaeConfig['capacity'] {
  return model.kind === 'beta-vae' ? model.capacity : null;
}

/** q(z|x): a flow for a VAE or beta-VAE that asks for one, else the diagonal Gaussian. */
export function posteriorOf(model: ModelConfig): 'gaussian' | 'planar' | 'iaf' {
  return model.kind === 'vae' || model.kind === 'beta-vae' ? model.posterior : 'gaussian';
}

/** The size of each stochastic layer (a VQ-VAE: its codePositions x codeDim continuous encoder output). */
export function latentSizesOf(model: ModelConfig): number[] {
  switch (model.kind) {
    case 'ladder':
      return model.ladderLatentDims;
    case 'vq-vae':
      return [model.codePositions * model.codeDim];
    default:
      return [model.latentDim];
  }
}

/** The model config as its kind's type; throws when it is another kind. */
export function modelOfKind<K extends ModelKind>(model: ModelConfig, kind: K): ModelConfigOf<K> {
  if (model.kind !== kind) throw new Error(`expected model.kind '${kind}', got '${model.kind}'`);
  return model as ModelConfigOf<K>;
}

/** The beta a table shows: the model's beta, 1 for a plain VAE, null for a VQ-VAE (no KL term). */
export function betaOf(model: ModelConfig): number | null {
  if (model.kind === 'vq-vae') return null;
  return model.kind === 'vae' ? 1 : model.beta;
}

/** The latent as a table shows it: '20', a ladder's '32,16', a VQ-VAE's '16x64' (positions x code size). */
export function latentText(model: ModelConfig): string {
  if (model.kind === 'ladder') return model.ladderLatentDims.join(',');
  if (model.kind === 'vq-vae') return `${model.codePositions}x${model.codeDim}`;
  return String(model.latentDim);
}
