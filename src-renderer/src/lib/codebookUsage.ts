// A VQ-VAE's codebook-usage histogram from the stored `test/code_share/NN` points (trainer's
// variantMetrics.ts): bin NN holds the share of the test set's code assignments taken by the codes
// at use ranks [NN w, (NN + 1) w), most used first, w = codeShareBinWidth(K). Plain functions, no DOM.
import type { SeriesBucket } from '@api/contract';
import { codeShareBinWidth } from './apiConstants';

const SHARE_METRIC = /^test\/code_share\/(\d+)$/;

/** The histogram's metrics among `names`, in bin order. */
export function codeShareMetrics(names: readonly string[]): string[] {
  return names.filter((n) => SHARE_METRIC.test(n)).sort((a, b) => binOf(a) - binOf(b));
}

export function binOf(metric: string): number {
  const match = SHARE_METRIC.exec(metric);
  return match ? Number(match[1]) : -1;
}

export interface UsageBin {
  bin: number;
  /** Share of all code assignments (0..1). */
  share: number;
  /** The use ranks the bin holds, 1-based and inclusive (rank 1: the most used code). */
  firstRank: number;
  lastRank: number;
}

export interface UsageHistogram {
  /** The evaluation the bars are from: the newest step every bin has a point at. */
  step: number | null;
  bins: UsageBin[];
  /** Codes per bin. */
  width: number;
  /** The largest share, for the bars' scale. */
  max: number;
  /** Codes in bins with a share above 0 (an upper bound on the codes used when a bin holds several). */
  codesInUsedBins: number;
}

/** The last bucket of a series logged at `step` (searched from the end, where evaluations land), or undefined. */
export function bucketAtStep<B extends { step: number }>(buckets: readonly B[], step: number): B | undefined {
  for (let i = buckets.length - 1; i >= 0; i--) if (buckets[i].step === step) return buckets[i];
  return undefined;
}

/** The histogram at the last evaluation, from each bin's series (rows[i] is the series of bins[i]). */
export function usageHistogram(
  codebookSize: number,
  bins: readonly number[],
  rows: readonly (readonly SeriesBucket[])[],
): UsageHistogram {
  const width = codeShareBinWidth(codebookSize);
  const lastSteps = rows.map((r) => r.at(-1)?.step ?? -1);
  const step = lastSteps.length > 0 && Math.min(...lastSteps) >= 0 ? Math.min(...lastSteps) : null;
  const out: UsageBin[] = [];
  if (step !== null)
    bins.forEach((bin, i) => {
      const at = bucketAtStep(rows[i], step);
      if (!at) return;
      out.push({
        bin,
        share: at.last,
        firstRank: bin * width + 1,
        lastRank: Math.min(codebookSize, (bin + 1) * width),
      });
    });
  out.sort((a, b) => a.bin - b.bin);
  return {
    step,
    bins: out,
    width,
    max: Math.max(0, ...out.map((b) => b.share)),
    codesInUsedBins: out.filter((b) => b.share > 0).reduce((n, b) => n + b.lastRank - b.firstRank + 1, 0),
  };
}
