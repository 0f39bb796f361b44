// The small SVG plots of the researcher's views (ELBO gap, rate-distortion, parallel
// coordinates): linear scales and round tick values. SVG rather than canvas, so the exported
// report carries the very same markup, and tests can read every point's value.

export interface LinearScale {
  (value: number): number;
  domain: [number, number];
  ticks: number[];
}

/** Round tick values covering [min, max] (1, 2 or 5 times a power of ten apart, the one nearest span / count), about `count` of them. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const raw = (max - min) / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10]
    .map((m) => m * power)
    .reduce((best, s) => (Math.abs(Math.log(s / raw)) < Math.abs(Math.log(best / raw)) ? s : best));
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Maps [lo, hi] (padded by `pad` of its span, widened when empty) onto [from, to] pixels. */
export function linearScale(values: readonly number[], from: number, to: number, pad = 0.05): LinearScale {
  const finite = values.filter(Number.isFinite);
  let lo = finite.length > 0 ? Math.min(...finite) : 0;
  let hi = finite.length > 0 ? Math.max(...finite) : 1;
  if (lo === hi) {
    const d = Math.abs(lo) * 0.1 || 1;
    lo -= d;
    hi += d;
  }
  const span = hi - lo;
  lo -= span * pad;
  hi += span * pad;
  const scale = ((v: number) => from + ((v - lo) / (hi - lo)) * (to - from)) as LinearScale;
  scale.domain = [lo, hi];
  scale.ticks = niceTicks(lo, hi, 4);
  return scale;
}

/** An SVG path through the points, skipping non-finite ones (a gap starts a new segment). */
export function linePath(points: readonly { x: number; y: number }[]): string {
  let d = '';
  let pen = false;
  for (const p of points) {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`;
    pen = true;
  }
  return d;
}
