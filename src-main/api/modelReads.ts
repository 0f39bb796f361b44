// Reading a run's model config across kinds without narrowing at every site: the KL weight, the
// capacity, the posterior, the latent sizes. Plain TypeScript (types only from the schemas), so the
// renderer uses these at start-up as the trainer does.
import type { BetaVaeConfig, ModelConfig, ModelConfigOf, ModelKind } from '../models/configs';

/** The weight on the KL term the trainer applies (times the schedule): beta where the model has it as that, else 1. */
export function klBetaOf(model: ModelConfig): number {
  switch (model.kind) {
    case 'beta-vae':
    case 'ladder':
      return model.beta;
    case 'vae':
    case 'vq-vae':
    case 'beta-tcvae': // weighs its own MI, TC and dimension-wise terms (models/betaTcvae)
      return 1;
    default:
      return unknownKind(model);
  }
}

/** A new model kind must be placed in each read above (TypeScript fails here until it is). */
function unknownKind(model: never): never {
  throw new Error(`model.kind '${(model as { kind: string }).kind}' is not handled`);
}

/** The controlled-capacity setting (beta-VAE only), or null. */
export function capacityOf(model: ModelConfig): BetaVaeConfig['capacity'] {
  return model.kind === 'beta-vae' ? model.capacity : null;
}

/** q(z|x): a flow for a VAE or beta-VAE that asks for one, else the diagonal Gaussian. */
export function posteriorOf(model: ModelConfig): 'gaussian' | 'planar' | 'iaf' {
  switch (model.kind) {
    case 'vae':
    case 'beta-vae':
      return model.posterior;
    case 'ladder':
    case 'beta-tcvae':
    case 'vq-vae':
      return 'gaussian';
    default:
      return unknownKind(model);
  }
}

/** The size of each stochastic layer (a VQ-VAE: its codePositions x codeDim continuous encoder output). */
export function latentSizesOf(model: ModelConfig): number[] {
  switch (model.kind) {
    case 'ladder':
      return model.ladderLatentDims;
    case 'vq-vae':
      return [model.codePositions * model.codeDim];
    case 'vae':
    case 'beta-vae':
    case 'beta-tcvae':
      return [model.latentDim];
    default:
      return unknownKind(model);
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
