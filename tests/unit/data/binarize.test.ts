import { describe, expect, it } from 'vitest';
import { binarizeBatch, createRandom, loadDataset } from '../../../src-main/data';
import type { LoadOptions } from '../../../src-main/data/types';

const options = (o: Partial<LoadOptions> = {}): LoadOptions => ({
  dataset: 'mnist',
  trainSize: 500,
  testSize: 100,
  binarization: 'none',
  seed: 4,
  ...o,
});

describe('binarization', () => {
  it('static: a seeded draw made once at load, the same on every load', async () => {
    const grey = await loadDataset(options());
    const a = await loadDataset(options({ binarization: 'static' }));
    const b = await loadDataset(options({ binarization: 'static' }));
    expect(a.train.pixels.every((v) => v === 0 || v === 1)).toBe(true);
    expect(a.test.pixels.every((v) => v === 0 || v === 1)).toBe(true);
    // The stored pixels are what every epoch sees: reloading gives the very same draw.
    expect(b.train.pixels).toEqual(a.train.pixels);
    expect(b.hash).toBe(a.hash);
    // Same examples as the grey-level load (the split does not depend on binarization).
    expect(a.train.labels).toEqual(grey.train.labels);
    expect(a.hash).not.toBe(grey.hash);
    // Black stays black, white stays white, and the mean matches the grey mean.
    const flipped = grey.train.pixels.filter((v, i) => (v === 0 || v === 1) && a.train.pixels[i] !== v).length;
    expect(flipped).toBe(0);
    const mean = (p: Float32Array) => p.reduce((s, v) => s + v, 0) / p.length;
    expect(mean(a.train.pixels)).toBeCloseTo(mean(grey.train.pixels), 2);
    const other = await loadDataset(options({ binarization: 'static', seed: 5 }));
    expect(other.hash).not.toBe(a.hash);
  });

  it('dynamic: a fresh draw per batch whose mean approximates the grey level', () => {
    const pixels = Float32Array.from({ length: 4 }, (_, i) => [0, 0.25, 0.7, 1][i]);
    const random = createRandom(8);
    const sums = new Float64Array(4);
    const draws = 20_000;
    let changed = false;
    let previous = binarizeBatch(pixels, random);
    for (let t = 0; t < draws; t++) {
      const batch = binarizeBatch(pixels, random);
      batch.forEach((v, i) => (sums[i] += v));
      if (batch.some((v, i) => v !== previous[i])) changed = true;
      previous = batch;
    }
    expect(changed).toBe(true);
    expect(sums[0]).toBe(0);
    expect(sums[3]).toBe(draws);
    expect(sums[1] / draws).toBeCloseTo(0.25, 1.7);
    expect(sums[2] / draws).toBeCloseTo(0.7, 1.7);
    expect(binarizeBatch(pixels, createRandom(1))).toEqual(binarizeBatch(pixels, createRandom(1)));
    expect(pixels).toEqual(Float32Array.from([0, 0.25, 0.7, 1])); // the input is left alone
  });
});
