// Inverse autoregressive flow (Kingma et al. 2016) with MADE blocks (Germain et al. 2015). Each step
// computes [m, s] = MADE(z), where m_i and s_i depend on z_<i only, and the numerically stable
// update of their eq. 14: sigma = sigmoid(s), z' = sigma * z + (1 - sigma) * m, so the Jacobian is
// triangular with diagonal sigma and log |det| = sum_i log sigma_i. The variable order is reversed
// between steps so each dimension is conditioned on the others somewhere in the stack (and restored
// after the last). The MADE is
// not conditioned on x (as Pythae's VAE_IAF); the base Gaussian q_0(z_0 | x) is.
import * as tf from '@tensorflow/tfjs';
import { ParameterNet, type ParameterSpec } from '../parameterNet';
import type { Flow } from './types';

/** MADE hidden width per latent dimension. */
export const IAF_HIDDEN_PER_DIM = 4;
/** Initial bias of s: sigma = sigmoid(2) ~ 0.88, so each step starts close to the identity (Kingma et al. 2016). */
const IAF_S_BIAS = 2;

/**
 * MADE masks for d inputs and h hidden units: input degrees 1..d, hidden degrees (k mod (d-1)) + 1;
 * input -> hidden: M1[i][k] = 1 if m_k >= i + 1; hidden -> output: M2[k][j] = 1 if j + 1 > m_k. Output
 * j then depends on inputs < j only.
 */
export function madeMasks(d: number, h: number): { inputToHidden: number[][]; hiddenToOutput: number[][] } {
  const degrees = Array.from({ length: h }, (_, k) => (k % Math.max(1, d - 1)) + 1);
  const inputToHidden = Array.from({ length: d }, (_, i) => degrees.map((m) => (m >= i + 1 ? 1 : 0)));
  const hiddenToOutput = degrees.map((m) => Array.from({ length: d }, (_, j) => (j + 1 > m ? 1 : 0)));
  return { inputToHidden, hiddenToOutput };
}

export class IafFlow implements Flow {
  private readonly params: ParameterNet;
  private readonly mask1: tf.Tensor2D;
  private readonly mask2: tf.Tensor2D;
  readonly hidden: number;

  constructor(
    readonly dim: number,
    readonly length: number,
    seed: number,
    name = 'flow',
  ) {
    this.hidden = IAF_HIDDEN_PER_DIM * dim;
    const h = this.hidden;
    const glorot = (fanIn: number, fanOut: number) => ({ uniform: Math.sqrt(6 / (fanIn + fanOut)) });
    const specs: ParameterSpec[] = [];
    for (let k = 0; k < length; k++) {
      specs.push({ name: `W${k}`, shape: [dim, h], init: glorot(dim, h) });
      specs.push({ name: `b${k}`, shape: [h], init: { constant: 0 } });
      specs.push({ name: `Wm${k}`, shape: [h, dim], init: glorot(h, dim) });
      specs.push({ name: `bm${k}`, shape: [dim], init: { constant: 0 } });
      specs.push({ name: `Ws${k}`, shape: [h, dim], init: glorot(h, dim) });
      specs.push({ name: `bs${k}`, shape: [dim], init: { constant: IAF_S_BIAS } });
    }
    this.params = ParameterNet.build(name, specs, seed);
    const masks = madeMasks(dim, h);
    this.mask1 = tf.keep(tf.tensor2d(masks.inputToHidden));
    this.mask2 = tf.keep(tf.tensor2d(masks.hiddenToOutput));
  }

  get network(): tf.LayersModel {
    return this.params.network;
  }

  /** The parameters' current values by name (u0, w0, b0, ... / W0, b0, Wm0, bm0, Ws0, bs0, ...). */
  parameterValues(): Record<string, Float32Array> {
    return this.params.values();
  }

  forward(z0: tf.Tensor2D): { z: tf.Tensor2D; logDets: tf.Tensor1D[] } {
    const p = this.params.read();
    let z = z0;
    const logDets: tf.Tensor1D[] = [];
    for (let k = 0; k < this.length; k++) {
      if (k > 0) z = tf.reverse(z, 1); // reverse the order between steps
      const hid = tf.elu(tf.add(tf.matMul(z, tf.mul(p[`W${k}`], this.mask1) as tf.Tensor2D), p[`b${k}`]));
      const m = tf.add(tf.matMul(hid, tf.mul(p[`Wm${k}`], this.mask2) as tf.Tensor2D), p[`bm${k}`]);
      const s = tf.add(tf.matMul(hid, tf.mul(p[`Ws${k}`], this.mask2) as tf.Tensor2D), p[`bs${k}`]);
      const sigma = tf.sigmoid(s);
      // z' = sigma * z + (1 - sigma) * m (Kingma et al. 2016, eq. 14)
      z = tf.add(tf.mul(sigma, z), tf.mul(tf.sub(1, sigma), m)) as tf.Tensor2D;
      // log sigma = -softplus(-s), stable; log |det| = sum_i log sigma_i (triangular Jacobian)
      logDets.push(tf.sum(tf.neg(tf.softplus(tf.neg(s))), 1) as tf.Tensor1D);
    }
    // Undo an odd number of reversals, so z_K is in z_0's order (near the identity at initialization).
    if (this.length % 2 === 0) z = tf.reverse(z, 1);
    return { z, logDets };
  }

  dispose(): void {
    this.params.dispose();
    this.mask1.dispose();
    this.mask2.dispose();
  }
}
