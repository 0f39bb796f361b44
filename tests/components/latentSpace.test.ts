import { describe, expect, it } from 'vitest';
import { project, topEigenvectors } from '../../src-renderer/src/lib/latentSpace';

describe('latent space projection', () => {
  it('finds the eigenvectors of a symmetric matrix, largest first', () => {
    // diag(4, 1, 9): eigenvectors are the axes, in the order 9, 4, 1.
    const { vectors, values } = topEigenvectors(Float64Array.from([4, 0, 0, 0, 1, 0, 0, 0, 9]), 3, 2);
    expect(values[0]).toBeCloseTo(9, 6);
    expect(values[1]).toBeCloseTo(4, 6);
    expect(Math.abs(vectors[0][2])).toBeCloseTo(1, 6);
    expect(Math.abs(vectors[1][0])).toBeCloseTo(1, 6);
  });

  it('projects onto the direction of largest variance, which explains all of a rank-one cloud', () => {
    // Points on the line t * (1, 2, 2) / 3 plus nothing else: PC1 carries 100% of the variance.
    const ts = [-3, -1, 0, 2, 5];
    const means = ts.flatMap((t) => [t / 3, (2 * t) / 3, (2 * t) / 3]);
    const p = project(means, ts.length, 3);
    const meanT = ts.reduce((a, b) => a + b, 0) / ts.length;
    ts.forEach((t, i) => {
      expect(p.x[i]).toBeCloseTo(t - meanT, 6);
      expect(p.y[i]).toBeCloseTo(0, 6);
    });
    expect(p.explained![0]).toBeCloseTo(1, 6);
    expect(p.xLabel).toBe('PC1 (100% of variance)');
  });

  it('shows a 2-D latent space on its raw axes', () => {
    const p = project([0.5, -1, 2, 3], 2, 2);
    expect([...p.x]).toEqual([0.5, 2]);
    expect([...p.y]).toEqual([-1, 3]);
    expect(p.explained).toBeNull();
  });
});
