// A normalizing flow on the posterior sample (Rezende & Mohamed 2015): z_K = f_K o ... o f_1 (z_0),
// log q_K(z_K | x) = log q_0(z_0 | x) - sum_k log |det df_k/dz_{k-1}|.
import type * as tf from '@tensorflow/tfjs';

export interface Flow {
  /** Number of steps K. */
  readonly length: number;
  /** z_K and each step's log |det J_k| per row ([rows] each, K of them). Differentiable. */
  forward(z0: tf.Tensor2D): { z: tf.Tensor2D; logDets: tf.Tensor1D[] };
  /** The flow's parameters as networks (exported and checkpointed as 'flow'). */
  network: tf.LayersModel;
  /** Frees the flow's own tensors (masks, constants); `network` is disposed with the model's networks. */
  dispose(): void;
}
