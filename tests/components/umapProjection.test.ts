import { describe, expect, it } from 'vitest';
import { seededRandom, umapProject } from '../../src-renderer/src/lib/umapProjection';

describe('UMAP projection', () => {
  it('embeds every point, the same way for the same seed, keeping two separated clusters apart', async () => {
    // Two clusters of 20 points in 5-D, far apart.
    const random = seededRandom(7);
    const means: number[] = [];
    for (let i = 0; i < 40; i++) for (let j = 0; j < 5; j++) means.push((i < 20 ? 0 : 10) + random());
    const a = await umapProject(means, 40, 5, { seed: 3, nEpochs: 100 });
    const b = await umapProject(means, 40, 5, { seed: 3, nEpochs: 100 });
    expect(a.x).toHaveLength(40);
    expect([...a.x]).toEqual([...b.x]);
    expect([...a.x, ...a.y].every(Number.isFinite)).toBe(true);
    const centre = (from: number) => {
      let cx = 0;
      let cy = 0;
      for (let i = from; i < from + 20; i++) {
        cx += a.x[i] / 20;
        cy += a.y[i] / 20;
      }
      return [cx, cy];
    };
    const spread = (from: number, [cx, cy]: number[]) =>
      Math.max(...Array.from({ length: 20 }, (_, k) => Math.hypot(a.x[from + k] - cx, a.y[from + k] - cy)));
    const [c0, c1] = [centre(0), centre(20)];
    const gap = Math.hypot(c0[0] - c1[0], c0[1] - c1[1]);
    expect(gap).toBeGreaterThan(spread(0, c0) + spread(20, c1));
  });
});
