import { describe, expect, it } from 'vitest';
import { loadDataset } from '../../../src-main/data';
import { createRandom } from '../../../src-main/data/random';
import {
  SHAPE_COMBINATIONS,
  SHAPE_FACTOR_SIZES,
  renderShape,
  sampleShapeFactors,
  shapeCombination,
} from '../../../src-main/data/shapes';
import { DatasetError, type LoadOptions } from '../../../src-main/data/types';

const options = (o: Partial<LoadOptions> = {}): LoadOptions => ({
  dataset: 'shapes',
  trainSize: 900,
  testSize: 100,
  binarization: 'none',
  seed: 11,
  ...o,
});

const mass = (image: Float32Array) => image.reduce((s, v) => s + v, 0);
function centroid(image: Float32Array, size: number): { x: number; y: number } {
  let x = 0;
  let y = 0;
  image.forEach((v, p) => {
    x += v * (p % size);
    y += v * Math.floor(p / size);
  });
  return { x: x / mass(image), y: y / mass(image) };
}

describe('shapes', () => {
  it('renders a factor tuple identically every time, as a binary image', () => {
    const tuple = [2, 3, 17, 9, 20];
    const a = renderShape(tuple);
    expect(renderShape(tuple)).toEqual(a);
    expect(a.every((v) => v === 0 || v === 1)).toBe(true);
    expect(mass(a)).toBeGreaterThan(10);
    expect(renderShape([0, 3, 17, 9, 20])).not.toEqual(a); // another shape
    expect(renderShape([2, 3, 18, 9, 20])).not.toEqual(a); // another orientation
  });

  it('moves the mass with posX and posY and grows it with scale', () => {
    const size = 32;
    for (const shape of [0, 1, 2]) {
      const left = centroid(renderShape([shape, 5, 7, 0, 16]), size);
      const right = centroid(renderShape([shape, 5, 7, 31, 16]), size);
      // posX 0 -> 31 moves the centre by 0.6 of the image side, y unchanged.
      expect(right.x - left.x).toBeCloseTo(0.6 * size, 0);
      expect(Math.abs(right.y - left.y)).toBeLessThan(0.5); // up to pixel quantization
      const xs = [0, 8, 16, 24, 31].map((x) => centroid(renderShape([shape, 5, 7, x, 16]), size).x);
      xs.slice(1).forEach((x, i) => expect(x).toBeGreaterThan(xs[i]));
      const down = centroid(renderShape([shape, 5, 7, 16, 31]), size);
      expect(down.y).toBeGreaterThan(centroid(renderShape([shape, 5, 7, 16, 0]), size).y + 15);
      expect(mass(renderShape([shape, 5, 0, 16, 16]))).toBeGreaterThan(2.5 * mass(renderShape([shape, 0, 0, 16, 16])));
    }
    // A square at scale 1 has side 0.28 of the image: (0.28 * 64)^2 = 321 pixels. Turned by 45
    // degrees in a corner it keeps that area: the extreme positions do not clip it.
    const area = (0.28 * 64) ** 2;
    expect(Math.abs(mass(renderShape([0, 5, 5, 0, 0], 64)) / area - 1)).toBeLessThan(0.05);
    expect(Math.abs(mass(renderShape([0, 5, 5, 31, 31], 64)) / area - 1)).toBeLessThan(0.05);
  });

  it('samples distinct factor combinations with indices in range', () => {
    expect(SHAPE_COMBINATIONS).toBe(737_280);
    expect(Array.from(shapeCombination(SHAPE_COMBINATIONS - 1))).toEqual(SHAPE_FACTOR_SIZES.map((s) => s - 1));
    const factors = sampleShapeFactors(5000, createRandom(1));
    const keys = new Set<string>();
    let outOfRange = 0;
    for (let n = 0; n < 5000; n++) {
      const tuple = Array.from(factors.subarray(n * 5, n * 5 + 5));
      tuple.forEach((v, j) => (outOfRange += v >= 0 && v < SHAPE_FACTOR_SIZES[j] ? 0 : 1));
      keys.add(tuple.join());
    }
    expect(outOfRange).toBe(0);
    expect(keys.size).toBe(5000);
    // Every value of every factor turns up.
    SHAPE_FACTOR_SIZES.forEach((size, j) => {
      expect(new Set(Array.from({ length: 5000 }, (_, n) => factors[n * 5 + j])).size).toBe(size);
    });
  });

  it('loads as a data set with factors, labels = shape and a stable hash', async () => {
    const data = await loadDataset(options());
    expect([data.height, data.width, data.channels]).toEqual([32, 32, 1]);
    expect(data.factorNames).toEqual(['shape', 'scale', 'orientation', 'posX', 'posY']);
    expect(data.factorSizes).toEqual([3, 6, 40, 32, 32]);
    expect(data.train.factors!.length).toBe(900 * 5);
    expect(data.test.factors!.length).toBe(100 * 5);
    for (let n = 0; n < 100; n++) {
      expect(data.test.labels![n]).toBe(data.test.factors![n * 5]);
      expect(data.test.pixels.subarray(n * 1024, (n + 1) * 1024)).toEqual(
        renderShape(data.test.factors!.subarray(n * 5, n * 5 + 5)),
      );
    }
    const recorded = await loadDataset(options({ trainSize: 100, testSize: 20, seed: 0 }));
    expect(recorded.hash).toBe('22cf7b67045859b05da4d610f3b8e69e9c9f3410206b4292a723c488748a702f');
    const again = await loadDataset(options());
    expect(again.hash).toBe(data.hash);
    expect((await loadDataset(options({ seed: 12 }))).hash).not.toBe(data.hash);
    const big = await loadDataset(options({ trainSize: 10, testSize: 10, shapesSize: 64 }));
    expect([big.height, big.width, big.train.pixels.length]).toEqual([64, 64, 10 * 4096]);
  });

  it('refuses more examples than there are factor combinations', async () => {
    const error = await loadDataset(options({ trainSize: 737_000, testSize: 1000 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetError);
    expect((error as Error).message).toMatch(/737,280 factor combinations.*737000 \+ 1000 = 738000/);
  });
});
