// Optional fused implementations of the models' hot element-wise chains, installed per thread by
// the training layer when its backend has them (training/accelerate/fused.ts: one native pass
// each way instead of a chain of tfjs kernels). Each returns null where it does not apply (another
// backend, a dtype or shape it does not handle, switched off), and the caller computes the chain
// with tfjs ops as before. The models never depend on them being there.
import type * as tf from '@tensorflow/tfjs';

export interface FusedOps {
  /** sum over the last axis of x l - softplus(l), differentiable in both. */
  bernoulliLogLikelihood(x: tf.Tensor, logits: tf.Tensor): tf.Tensor | null;
  /** 1/2 (mu^2 + exp(logVar) - logVar - 1), elementwise, differentiable in both. */
  klStandardNormalPerDim(mu: tf.Tensor, logVar: tf.Tensor): tf.Tensor | null;
  /** mu + exp(logVar / 2) eps, differentiable in all three. */
  reparameterize(mu: tf.Tensor, logVar: tf.Tensor, eps: tf.Tensor): tf.Tensor | null;
  /** log N(z; 0, I) summed over the last axis. */
  logStandardNormal(z: tf.Tensor): tf.Tensor | null;
  /** log N(z; mu, diag exp(logVar)) summed over the last axis (logVar of z's shape; else null). */
  logNormalDiag(z: tf.Tensor, mu: tf.Tensor, logVar: tf.Tensor | number): tf.Tensor | null;
}

let installed: FusedOps | null = null;

/** Installs (or, with null, removes) this thread's fused chains. */
export function setFusedOps(ops: FusedOps | null): void {
  installed = ops;
}

export function fusedOps(): FusedOps | null {
  return installed;
}
