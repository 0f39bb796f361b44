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
  'test/mi': 'Index-code mutual information I(x; z), the first term of the KL decomposition (Chen et al. 2018), nats.',
  'test/tc': 'Total correlation KL(q(z) || prod_j q(z_j)) of the aggregate posterior, nats.',
  'test/dwkl': 'Dimension-wise KL sum_j KL(q(z_j) || p(z_j)); MI + TC + DWKL is the Monte Carlo test KL.',
  'test/commitment': 'VQ-VAE: mean ||z_e - e_q||^2 per test image, summed over positions and code dimensions.',
  'test/perplexity': 'VQ-VAE: exp of the entropy of code use on the test set, between 1 and the codebook size K.',
  'test/codes_used': 'VQ-VAE: fraction of the K codes assigned at least once on the test set.',
  'test/uniform_prior_kl': 'VQ-VAE: P log K, the KL of the one-hot posterior to a uniform prior (in test/elbo).',
  'test/code_prior_kl':
    'VQ-VAE: -E log p(z_q) under the fitted autoregressive code prior (1% uniform mixed in), nats per test image.',
  'test/elbo_code_prior': 'VQ-VAE: log p(x|z_q) - test/code_prior_kl, the bound with the fitted code prior.',
};

/** The description of a metric by name (per-layer and per-dimension series by their family), or null. */
export function describeMetric(name: string): string | null {
  if (DESCRIPTIONS[name]) return DESCRIPTIONS[name];
  const family = name.replace(/\/\d+$/, '');
  if (family.endsWith('/kl_dim')) return 'KL of one latent dimension, batch mean, nats.';
  if (family.endsWith('/kl_layer')) return 'KL of one stochastic layer (bottom first), nats per example.';
  if (family === 'test/active_units') return 'Active units of one stochastic layer.';
  if (family === 'test/flow_logdet') return 'Flow posterior: mean log|det J_k| of flow step k on the test set.';
  if (family === 'test/code_share')
    return 'VQ-VAE: share of the test code assignments taken by the codes of one use-rank bin, most used first.';
  return null;
}
