// What each logged figure is, in one line, for the chart and the tables. Sign convention: nats
// per example, elbo = -(recon + kl) <= log p(x).
const DESCRIPTIONS: Record<string, string> = {
  'train/loss':
    'What the optimizer minimises this step (negative ELBO with the KL weight, free bits or capacity; or -IWAE_k).',
  'train/elbo': 'ELBO of the training batch, nats per example: E_q[log p(x|z)] - KL(q(z|x) || p(z)).',
  'train/recon': 'Reconstruction loss of the training batch, -E_q[log p(x|z)], nats per example.',
  'train/kl': 'KL(q(z|x) || p(z)) of the training batch, nats per example (unweighted).',
  'train/kl_weight': 'Weight on the KL term at this update: beta times the KL schedule.',
  'test/elbo':
    'ELBO on the whole test set, nats per example: a lower bound on log p(x). Dequantized Gaussian runs report the bound on the discrete log-likelihood (density - D log 256).',
  'test/elbo_iwae_subset': 'ELBO on the same test images as test/iwae (the IWAE subset), nats per example.',
  'test/iwae':
    'IWAE_k bound on log p(x) (Burda et al. 2015) on the IWAE subset: tighter than the ELBO, approaching log p(x) as k grows.',
  'test/gap':
    'test/iwae - test/elbo_iwae_subset on the same images: how much of the gap log p(x) - ELBO = KL(q(z|x) || p(z|x)) IWAE_k closes (a lower bound on it).',
  'test/iwae_examples': 'How many test images test/iwae, test/elbo_iwae_subset and test/gap use.',
  'test/iwae_k': 'Importance samples k of test/iwae.',
  'test/bpd': 'Bits per dimension of test/elbo: -bound / (D ln 2); only for bounds on a discrete likelihood.',
  'test/iwae_bpd': 'Bits per dimension of test/iwae: -bound / (D ln 2).',
  'test/recon': 'Reconstruction loss on the test set, -E_q[log p(x|z)], nats per example.',
  'test/kl': 'KL(q(z|x) || p(z)) on the test set, nats per example.',
  'test/active_units': 'Latent dimensions whose posterior mean varies over the test set: Cov_x(E_q[z_i]) > 0.01.',
  'test/mig':
    'Mutual Information Gap (Chen et al. 2018) on test/mig_points fresh generator images (10,000 by default, as disentanglement_lib).',
  'test/mig_points': 'How many freshly generated images MIG was computed on.',
};

/** The description of a metric by name (per-layer and per-dimension series by their family), or null. */
export function describeMetric(name: string): string | null {
  if (DESCRIPTIONS[name]) return DESCRIPTIONS[name];
  const family = name.replace(/\/\d+$/, '');
  if (family.endsWith('/kl_dim')) return 'KL of one latent dimension, batch mean, nats.';
  if (family.endsWith('/kl_layer')) return 'KL of one stochastic layer (bottom first), nats per example.';
  if (family === 'test/active_units') return 'Active units of one stochastic layer.';
  return null;
}
