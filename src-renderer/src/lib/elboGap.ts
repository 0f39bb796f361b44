// The ELBO gap (the seed text's log p(x) = ELBO + KL(q(z|x) || p(z|x))): IWAE_k tightens towards
// log p(x), so IWAE_k - ELBO on the same test images estimates (a lower bound of) the posterior
// gap KL(q || p(z|x)). Uses the stored `test/gap` when the trainer logs it, else the difference
// of the two stored series at the steps both were evaluated.
import type { SeriesBucket } from '@api/contract';

export interface GapPoint {
  step: number;
  elbo: number;
  iwae: number;
  /** iwae - elbo, or the stored test/gap at this step. */
  gap: number;
  stored: boolean;
}

export function gapSeries(
  elbo: readonly SeriesBucket[],
  iwae: readonly SeriesBucket[],
  storedGap: readonly SeriesBucket[] = [],
): GapPoint[] {
  const iwaeAt = new Map(iwae.map((b) => [b.step, b.last]));
  const gapAt = new Map(storedGap.map((b) => [b.step, b.last]));
  const out: GapPoint[] = [];
  for (const b of elbo) {
    const i = iwaeAt.get(b.step);
    if (i === undefined) continue;
    const g = gapAt.get(b.step);
    out.push({ step: b.step, elbo: b.last, iwae: i, gap: g ?? i - b.last, stored: g !== undefined });
  }
  return out;
}
