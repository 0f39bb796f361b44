import { describe, expect, it } from 'vitest';
import { gapSeries } from '../../src-renderer/src/lib/elboGap';
import { linePath, linearScale, niceTicks } from '../../src-renderer/src/lib/svgPlot';
import { makeBuckets } from './fakeTransport';

describe('ELBO gap', () => {
  it('is iwae - elbo at the steps both were evaluated', () => {
    const gap = gapSeries(makeBuckets([-120, -110, -105], 8), makeBuckets([-117, -108.5], 8));
    expect(gap.map((p) => [p.step, p.gap, p.stored])).toEqual([
      [0, 3, false],
      [8, 1.5, false],
    ]);
  });

  it('prefers the stored test/gap where the trainer logged it', () => {
    const gap = gapSeries(makeBuckets([-120, -110], 8), makeBuckets([-117, -108], 8), makeBuckets([2.9], 8));
    expect(gap.map((p) => [p.gap, p.stored])).toEqual([
      [2.9, true],
      [2, false],
    ]);
  });
});

describe('svg plot helpers', () => {
  it('picks round ticks and maps the padded domain onto pixels', () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(-0.33, 0.71, 4)).toEqual([-0.2, 0, 0.2, 0.4, 0.6]);
    const s = linearScale([0, 10], 0, 100, 0);
    expect(s(5)).toBe(50);
    expect(linearScale([3, 3], 0, 100, 0).domain).toEqual([2.7, 3.3]);
    expect(
      linePath([
        { x: 0, y: 1 },
        { x: 2, y: NaN },
        { x: 3, y: 4 },
        { x: 5, y: 6 },
      ]),
    ).toBe('M0.0,1.0M3.0,4.0L5.0,6.0');
  });
});
