// What the researcher's views need from an evaluation beyond the headline metrics: the
// activity of every latent dimension, A_u = Cov_x(E_q[z_u]) (Burda et al. 2015, sec. 5.2), as
// `test/latent_cov/NN`, numbered across layers like `test/kl_dim/NN`, so a view can name the
// collapsed dimensions (A_u <= 0.01) rather than only count them.
import type { MetricPoint } from '../api/contract';
import { unitActivity } from '../models/activeUnits';
import type { TrainerEvent } from './events';

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

/** Test examples whose posterior means are stored per evaluation, at most (the scatter's points). */
export const MAX_LATENT_EXAMPLES = 2000;

/**
 * The latent-space scatter's data for one evaluation: the posterior means of the first test
 * examples in the top latent layer (the one a sample starts from), with their labels.
 */
export function latentsEvent(
  means: readonly Float32Array[],
  count: number,
  latentDims: readonly number[],
  labels: Int32Array | null,
  step: number,
  epoch: number,
): Extract<TrainerEvent, { type: 'latents' }> {
  const top = means.length - 1;
  const dims = latentDims[top];
  const n = Math.min(count, MAX_LATENT_EXAMPLES);
  return {
    type: 'latents',
    step,
    epoch,
    count: n,
    dims,
    means: means[top].slice(0, n * dims),
    labels: labels ? labels.slice(0, n) : null,
  };
}

/** Sends the event with its arrays transferred (not copied) to the main thread. */
export function emitLatents(
  emit: (event: TrainerEvent, transfer?: ArrayBuffer[]) => void,
  event: Extract<TrainerEvent, { type: 'latents' }>,
): void {
  const transfer = [event.means.buffer as ArrayBuffer];
  if (event.labels) transfer.push(event.labels.buffer as ArrayBuffer);
  emit(event, transfer);
}
