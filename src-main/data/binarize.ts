// Bernoulli binarization of grey levels: each pixel becomes 1 with probability equal to its grey
// level. Static binarization draws once at load time (a fixed binary data set, as in the classic
// binarized-MNIST benchmarks); dynamic binarization draws afresh for every batch, which acts as
// data augmentation and is how the IWAE paper's numbers were obtained.
import type { Random } from './random';

/** A fresh Bernoulli draw per pixel: 1 with probability pixels[i], else 0. */
export function binarizeBatch(pixels: Float32Array, random: Random): Float32Array {
  const out = new Float32Array(pixels.length);
  // random() is in [0, 1): a pixel of exactly 0 is always 0 and one of exactly 1 is always 1.
  for (let i = 0; i < pixels.length; i++) out[i] = random() < pixels[i] ? 1 : 0;
  return out;
}
