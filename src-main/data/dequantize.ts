// Uniform dequantization of 8-bit images (Theis et al. 2016, "A note on the evaluation of generative
// models"): y = (x*255 + u) / 256 with u ~ U(0, 1) per pixel, so each grey level k owns the cell
// [k/256, (k+1)/256) and log P(x) >= E_u[log p(y)] - D log 256 for any density p on [0, 1]^D.
import type { Random } from './random';

/** log 256: what each pixel's density bound gives up to become a bound on its probability. */
export const LOG_256 = Math.log(256);

/** Pixels k/255 -> (k + u)/256 with a fresh u ~ U[0, 1) per pixel. */
export function dequantizeBatch(pixels: Float32Array, random: Random): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = (Math.round(pixels[i] * 255) + random()) / 256;
  return out;
}
