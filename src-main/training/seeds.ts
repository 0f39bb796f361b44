// Every random draw in a run derives from (run seed, purpose, step), never from shared state, so
// the same config, seed and backend give the same numbers, and a resumed run continues the same
// stream it would have drawn without the pause.

/** A 32-bit mix of integers (murmur3's finalizer applied in sequence). */
export function deriveSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return (h >>> 0) % 2147483647;
}

export const SEED_PURPOSE = {
  init: 1,
  shuffle: 2,
  noise: 3,
  binarize: 4,
  evalNoise: 5,
  evalBinarize: 6,
  iwae: 7,
  dequantize: 8,
  /** The one fixed binarization of the training set that a VQ-VAE's code prior is counted on. */
  codePrior: 9,
} as const;

/** Fixed across runs and epochs: prior-sample grids use the same z so runs compare cell by cell. */
export const PRIOR_GRID_SEED = 20_131_220;
