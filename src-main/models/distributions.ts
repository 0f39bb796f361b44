// The densities and divergences every model shares. Conventions: the last axis is the event
// (latent or pixel) axis, densities are summed over it, variances are carried as log-variances,
// and everything is in nats.
import * as tf from '@tensorflow/tfjs';
import { fusedOps } from './fusedOps';
import { standardNormal } from './noise';

const LOG_2PI = Math.log(2 * Math.PI);

/** KL(N(mu, diag sigma^2) || N(0, I)) per dimension. */
export function klStandardNormalPerDim(mu: tf.Tensor, logVar: tf.Tensor): tf.Tensor {
  const fused = fusedOps()?.klStandardNormalPerDim(mu, logVar); // one native pass where installed (fusedOps.ts)
  if (fused) return fused;
  return tf.tidy(() =>
    // 1/2 (mu^2 + sigma^2 - log sigma^2 - 1): closed-form Gaussian KL to N(0, I) (reference 001, Kingma & Welling 2013 app. B)
    tf.mul(0.5, tf.sub(tf.add(tf.square(mu), tf.exp(logVar)), tf.add(logVar, 1))),
  );
}

/** KL(N(mu, diag sigma^2) || N(0, I)) summed over the last axis. */
export function klStandardNormal(mu: tf.Tensor, logVar: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sum(klStandardNormalPerDim(mu, logVar), -1));
}

/** KL(N(muQ, sigmaQ^2) || N(muP, sigmaP^2)) per dimension (the ladder's layer-to-layer KL). */
export function klGaussiansPerDim(muQ: tf.Tensor, logVarQ: tf.Tensor, muP: tf.Tensor, logVarP: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    // 1/2 (log sigmaP^2 - log sigmaQ^2 + (sigmaQ^2 + (muQ - muP)^2) / sigmaP^2 - 1): KL between univariate Gaussians
    const ratio = tf.div(tf.add(tf.exp(logVarQ), tf.square(tf.sub(muQ, muP))), tf.exp(logVarP));
    return tf.mul(0.5, tf.sub(tf.add(tf.sub(logVarP, logVarQ), ratio), 1));
  });
}

/** KL between two diagonal Gaussians, summed over the last axis. */
export function klGaussians(muQ: tf.Tensor, logVarQ: tf.Tensor, muP: tf.Tensor, logVarP: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.sum(klGaussiansPerDim(muQ, logVarQ, muP, logVarP), -1));
}

/** log N(z; mu, diag exp(logVar)) summed over the last axis; logVar may be a number or broadcast. */
export function logNormalDiag(z: tf.Tensor, mu: tf.Tensor, logVar: tf.Tensor | number): tf.Tensor {
  const fused = fusedOps()?.logNormalDiag(z, mu, logVar); // one native pass where installed (fusedOps.ts)
  if (fused) return fused;
  return tf.tidy(() => {
    const lv = typeof logVar === 'number' ? tf.scalar(logVar) : logVar;
    // -1/2 (log 2pi + log sigma^2 + (z - mu)^2 / sigma^2): diagonal Gaussian log-density
    const perDim = tf.add(tf.add(lv, LOG_2PI), tf.div(tf.square(tf.sub(z, mu)), tf.exp(lv)));
    return tf.mul(-0.5, tf.sum(perDim, -1));
  });
}

/** log N(z; 0, I) summed over the last axis: the prior density. */
export function logStandardNormal(z: tf.Tensor): tf.Tensor {
  const fused = fusedOps()?.logStandardNormal(z); // one native pass where installed (fusedOps.ts)
  if (fused) return fused;
  // -1/2 (log 2pi + z^2): standard normal log-density
  return tf.tidy(() => tf.mul(-0.5, tf.sum(tf.add(tf.square(z), LOG_2PI), -1)));
}

/** log Bernoulli(x; sigmoid(logits)) summed over the last axis, for x in [0, 1]. */
export function bernoulliLogLikelihood(x: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  const fused = fusedOps()?.bernoulliLogLikelihood(x, logits); // one native pass where installed (fusedOps.ts)
  if (fused) return fused;
  // x l - softplus(l) = x log sigmoid(l) + (1 - x) log(1 - sigmoid(l)), stable for any logit (equals -BCE)
  return tf.tidy(() => tf.sum(tf.sub(tf.mul(x, logits), tf.softplus(logits)), -1));
}

/**
 * log N(x; mean, sigma^2) summed over the last axis, with a fixed sigma (pass log sigma^2 as a
 * number) or a learned per-pixel log-variance (a tensor broadcast against x).
 */
export function gaussianLogLikelihood(x: tf.Tensor, mean: tf.Tensor, logVar: tf.Tensor | number): tf.Tensor {
  return logNormalDiag(x, mean, logVar);
}

/** z = mu + sigma * eps with eps ~ N(0, I) given: the reparameterization trick (reference 001). */
export function reparameterize(mu: tf.Tensor, logVar: tf.Tensor, eps: tf.Tensor): tf.Tensor {
  const fused = fusedOps()?.reparameterize(mu, logVar, eps); // one native pass where installed (fusedOps.ts)
  if (fused) return fused;
  return tf.tidy(() => tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logVar)), eps)));
}

/**
 * A reparameterized draw z ~ N(mu, diag exp(logVar)), differentiable in mu and logVar. The noise is
 * positions offset.. of the seeded stream (see noise.ts), so it is reproducible and chunk-independent.
 */
export function sampleDiagGaussian(mu: tf.Tensor, logVar: tf.Tensor, seed: number, offset = 0): tf.Tensor {
  return tf.tidy(() => reparameterize(mu, logVar, standardNormal(mu.shape, seed, offset)));
}

/** log sum_i exp(t_i) along an axis, computed stably (max-shifted). */
export function logSumExp(t: tf.Tensor, axis: number): tf.Tensor {
  return tf.logSumExp(t, axis);
}

/** log(exp(a) + exp(b)) elementwise, stably: the running combine of a chunked log-sum-exp. */
export function logAddExp(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const m = tf.maximum(a, b);
    // m + log(exp(a - m) + exp(b - m)): log-sum-exp of two terms
    return tf.add(m, tf.log(tf.add(tf.exp(tf.sub(a, m)), tf.exp(tf.sub(b, m)))));
  });
}

/**
 * The precision-weighted merge of two Gaussians (Sonderby et al. 2016, eq. 17-18):
 * sigma_q^2 = 1 / (sigma_hat^-2 + sigma_p^-2), mu_q = (mu_hat sigma_hat^-2 + mu_p sigma_p^-2) sigma_q^2.
 */
export function precisionWeightedMerge(
  muHat: tf.Tensor,
  logVarHat: tf.Tensor,
  muP: tf.Tensor,
  logVarP: tf.Tensor,
): { mu: tf.Tensor; logVar: tf.Tensor } {
  return tf.tidy(() => {
    const negHat = tf.neg(logVarHat);
    const negP = tf.neg(logVarP);
    // log sigma_q^2 = -log(sigma_hat^-2 + sigma_p^-2), as a stable log-add-exp of the log-precisions
    const logVar = tf.neg(logAddExp(negHat, negP));
    // mu_q = w mu_hat + (1 - w) mu_p with w = sigma_hat^-2 sigma_q^2 = sigmoid(log sigma_p^2 - log sigma_hat^2)
    const w = tf.sigmoid(tf.sub(logVarP, logVarHat));
    const mu = tf.add(tf.mul(w, muHat), tf.mul(tf.sub(1, w), muP));
    return { mu, logVar };
  });
}
