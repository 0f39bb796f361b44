import { describe, expect, it } from 'vitest';
import { createRandom, permutation, shuffleInPlace, streamSeed } from '../../../src-main/data/random';

describe('createRandom', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const draw = (seed: number) => Array.from({ length: 5 }, createRandom(seed));
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    expect(draw(0)).not.toEqual(draw(1));
  });

  it('is uniform on [0, 1)', () => {
    const random = createRandom(42);
    const histogram = new Array(10).fill(0);
    let min = 1;
    let max = 0;
    for (let i = 0; i < 100_000; i++) {
      const u = random();
      min = Math.min(min, u);
      max = Math.max(max, u);
      histogram[Math.floor(u * 10)]++;
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    for (const c of histogram) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });

  it('derives distinct stream seeds per purpose', () => {
    expect(streamSeed(1, 'split')).toBe(streamSeed(1, 'split'));
    expect(streamSeed(1, 'split')).not.toBe(streamSeed(1, 'static-binarization'));
    expect(streamSeed(1, 'split')).not.toBe(streamSeed(2, 'split'));
  });

  it('shuffles into a seeded permutation', () => {
    const p = permutation(100, createRandom(3));
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(p).toEqual(permutation(100, createRandom(3)));
    expect(shuffleInPlace([1, 2, 3, 4, 5, 6], createRandom(9))).toEqual(
      shuffleInPlace([1, 2, 3, 4, 5, 6], createRandom(9)),
    );
  });
});
