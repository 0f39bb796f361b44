// Active units (Burda et al. 2015, sec. 5.2; yburda/iwae): latent dimension u is active when
// A_u = Cov_x(E_{q(u|x)}[u]) > 0.01, the variance over the data of its posterior mean.

export const ACTIVE_UNIT_THRESHOLD = 0.01;

/**
 * A_u per dimension from posterior means stored row-major ([count, dims], one row per example):
 * the population (1/N) variance over examples, accumulated in float64.
 */
export function unitActivity(means: ArrayLike<number>, count: number, dims: number): Float64Array {
  if (means.length < count * dims)
    throw new Error(`activeUnits: ${means.length} values cannot hold ${count} x ${dims} means`);
  const mean = new Float64Array(dims);
  for (let i = 0; i < count; i++) for (let u = 0; u < dims; u++) mean[u] += means[i * dims + u] / count;
  const activity = new Float64Array(dims);
  // Cov_x(E_q[z_u]) = 1/N sum_x (E_q[z_u | x] - mean_x E_q[z_u | x])^2
  for (let i = 0; i < count; i++)
    for (let u = 0; u < dims; u++) activity[u] += (means[i * dims + u] - mean[u]) ** 2 / count;
  return activity;
}

/** Number of active units: dims with Cov_x(E_q[z_u]) > threshold (0.01). */
export function activeUnits(
  means: ArrayLike<number>,
  count: number,
  dims: number,
  threshold = ACTIVE_UNIT_THRESHOLD,
): number {
  return unitActivity(means, count, dims).filter((a) => a > threshold).length;
}
