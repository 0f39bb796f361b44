// What the researcher's views need from an evaluation beyond the headline metrics: the
// activity of every latent dimension, A_u = Cov_x(E_q[z_u]) (Burda et al. 2015, sec. 5.2), as
// `test/latent_cov/NN`, numbered across layers like `test/kl_dim/NN`, so a view can name the
// collapsed dimensions (A_u <= 0.01) rather than only count them.
import type { MetricPoint } from '../api/contract';
import { unitActivity } from '../models/activeUnits';

export function latentActivityPoints(
  means: readonly Float32Array[],
  count: number,
  latentDims: readonly number[],
  point: (name: string, value: number) => MetricPoint,
): MetricPoint[] {
  const points: MetricPoint[] = [];
  let d = 0;
  means.forEach((m, l) => {
    for (const a of unitActivity(m, count, latentDims[l]))
      points.push(point(`latent_cov/${String(d++).padStart(2, '0')}`, a));
  });
  return points;
}
