// Planar flow (Rezende & Mohamed 2015, sec. 4.1): f(z) = z + u_hat tanh(w^T z + b), with
// log |det df/dz| = log |1 + u_hat^T psi(z)|, psi(z) = tanh'(w^T z + b) w. The raw u is mapped to
// u_hat = u + (m(w^T u) - w^T u) w / ||w||^2 with m(a) = -1 + softplus(a) (their appendix A), so
// w^T u_hat > -1 and every step is invertible.
import * as tf from '@tensorflow/tfjs';
import { ParameterNet } from '../parameterNet';
import type { Flow } from './types';

/** Initial parameters uniform in [-PLANAR_INIT, PLANAR_INIT]: a near-identity flow at the start. */
const PLANAR_INIT = 0.1;

/** u_hat = u + (m(w^T u) - w^T u) w / ||w||^2, m(a) = -1 + softplus(a): guarantees w^T u_hat > -1. */
export function planarUHat(u: tf.Tensor1D, w: tf.Tensor1D): tf.Tensor1D {
  return tf.tidy(() => {
    const wu = tf.sum(tf.mul(w, u));
    const m = tf.sub(tf.softplus(wu), 1);
    const wNorm2 = tf.add(tf.sum(tf.square(w)), 1e-12);
    return tf.add(u, tf.mul(tf.div(tf.sub(m, wu), wNorm2), w)) as tf.Tensor1D;
  });
}

export class PlanarFlow implements Flow {
  private readonly params: ParameterNet;

  constructor(
    readonly dim: number,
    readonly length: number,
    seed: number,
    name = 'flow',
  ) {
    const specs = [];
    for (let k = 0; k < length; k++) {
      specs.push({ name: `u${k}`, shape: [dim], init: { uniform: PLANAR_INIT } });
      specs.push({ name: `w${k}`, shape: [dim], init: { uniform: PLANAR_INIT } });
      specs.push({ name: `b${k}`, shape: [1], init: { constant: 0 } });
    }
    this.params = ParameterNet.build(name, specs, seed);
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
      const w = p[`w${k}`] as tf.Tensor1D;
      const uHat = planarUHat(p[`u${k}`] as tf.Tensor1D, w);
      const a = tf.add(tf.squeeze(tf.matMul(z, tf.reshape(w, [-1, 1])), [1]), p[`b${k}`]); // w^T z + b, [rows]
      const h = tf.tanh(a);
      // log |1 + u_hat^T psi(z)| with psi = (1 - tanh^2(a)) w: u_hat^T psi = (1 - h^2) (w^T u_hat)
      const wu = tf.sum(tf.mul(w, uHat));
      logDets.push(tf.log(tf.abs(tf.add(1, tf.mul(tf.sub(1, tf.square(h)), wu)))) as tf.Tensor1D);
      z = tf.add(z, tf.mul(tf.expandDims(h, 1), tf.reshape(uHat, [1, -1]))) as tf.Tensor2D; // z + u_hat h(w^T z + b)
    }
    return { z, logDets };
  }

  dispose(): void {
    this.params.dispose();
  }
}
