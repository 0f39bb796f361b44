// Comparing two runs metric by metric, to the last bit. Pure over the store's reads; it runs in
// the store worker, next to the points it compares.
import type { MetricDifference, RunComparison } from '../../api/contract';
import type { Store } from '../../store';

/** Metrics that measure the machine (samples/s): never expected to match. */
export const TIMING_METRICS = ['train/samples_per_sec'];

/** For each metric of either run: the largest absolute difference over the steps both logged. */
export function compareRuns(store: Store, first: string, second: string): RunComparison {
  const names = [
    ...new Set([...store.metrics.listMetricNames(first), ...store.metrics.listMetricNames(second)]),
  ].sort();
  const metrics = names.map((metric): MetricDifference => {
    const a = store.metrics.readSeriesRaw(first, metric);
    const b = new Map(store.metrics.readSeriesRaw(second, metric).map((p) => [p.step, p.value]));
    let maxAbsDiff = 0;
    let atStep: number | null = null;
    let points = 0;
    let onlyInFirst = 0;
    let bitEqual = true;
    for (const p of a) {
      const other = b.get(p.step);
      if (other === undefined) {
        onlyInFirst++;
        continue;
      }
      points++;
      if (!Object.is(p.value, other)) bitEqual = false;
      const diff = Math.abs(p.value - other);
      if (atStep === null || diff > maxAbsDiff) {
        maxAbsDiff = diff;
        atStep = p.step;
      }
    }
    const onlyInSecond = b.size - points;
    const identical = bitEqual && onlyInFirst === 0 && onlyInSecond === 0;
    return {
      metric,
      maxAbsDiff,
      atStep,
      points,
      onlyInFirst,
      onlyInSecond,
      identical,
      timing: TIMING_METRICS.includes(metric),
    };
  });
  return { runIds: [first, second], metrics, identical: metrics.every((m) => m.timing || m.identical) };
}
