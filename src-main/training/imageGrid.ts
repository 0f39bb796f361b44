// Tiles a batch of greyscale images into one grid and encodes it as PNG (fast-png does the encoding).
import { encode } from 'fast-png';

export interface GridImage {
  png: Uint8Array;
  width: number;
  height: number;
}

/**
 * Lays out `count` images of size h x w (flattened, values in [0,1]) in rows of `columns`,
 * separated by a 1-pixel gap, and encodes the result as an 8-bit greyscale PNG.
 */
export function encodeGrid(pixels: Float32Array, count: number, h: number, w: number, columns: number): GridImage {
  const rows = Math.ceil(count / columns);
  const gap = 1;
  const width = columns * w + (columns - 1) * gap;
  const height = rows * h + (rows - 1) * gap;
  const data = new Uint8Array(width * height).fill(32);
  for (let i = 0; i < count; i++) {
    const top = Math.floor(i / columns) * (h + gap);
    const left = (i % columns) * (w + gap);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = pixels[i * h * w + y * w + x];
        data[(top + y) * width + left + x] = Math.round(Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)) * 255);
      }
    }
  }
  return { png: encode({ width, height, data, channels: 1, depth: 8 }), width, height };
}
