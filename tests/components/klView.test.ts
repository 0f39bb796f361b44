import { describe, expect, it } from 'vitest';
import { buildKlMatrix, finalSpectrum, klAtStep, klDimMetrics, viridis } from '../../src-renderer/src/lib/klView';
import { makeBuckets } from './fakeTransport';

describe('KL per dimension', () => {
  it('lists the per-dimension test KLs in dimension order', () => {
    expect(klDimMetrics(['test/kl_dim/10', 'train/kl_dim/00', 'test/kl_dim/02', 'test/kl', 'test/kl_dim/01'])).toEqual([
      'test/kl_dim/01',
      'test/kl_dim/02',
      'test/kl_dim/10',
    ]);
  });

  it('builds a dims x evaluations matrix equal to the stored points, null where a step is missing', () => {
    const m = buildKlMatrix([0, 1], [makeBuckets([2, 3, 4], 8), makeBuckets([0.5, 0.001], 8)]);
    expect(m.steps).toEqual([0, 8, 16]);
    expect(m.values).toEqual([
      [2, 3, 4],
      [0.5, 0.001, null],
    ]);
    expect(m.max).toBe(4);
    expect([...klAtStep(m, 9)]).toEqual([
      [0, 3],
      [1, 0.001],
    ]);
  });

  it('sorts the final spectrum and names collapsed dims by Cov when logged, else by KL', () => {
    const m = buildKlMatrix([0, 1, 2], [makeBuckets([1, 2]), makeBuckets([0.3, 0.005]), makeBuckets([4, 5])]);
    const byKl = finalSpectrum(m, new Map());
    expect(byKl.byCov).toBe(false);
    expect(byKl.entries.map((e) => [e.dim, e.kl, e.active])).toEqual([
      [2, 5, true],
      [0, 2, true],
      [1, 0.005, false],
    ]);
    const byCov = finalSpectrum(
      m,
      new Map([
        [0, 0.002],
        [1, 0.4],
        [2, 1.2],
      ]),
    );
    expect(byCov.byCov).toBe(true);
    expect(byCov.entries.filter((e) => !e.active).map((e) => e.dim)).toEqual([0]);
  });

  it('maps the colour scale ends to viridis', () => {
    expect(viridis(0)).toBe('rgb(68,1,84)');
    expect(viridis(1)).toBe('rgb(253,231,37)');
    expect(viridis(Number.NaN)).toBe('rgb(68,1,84)');
  });
});
