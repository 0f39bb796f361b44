// A folder of PNG images, one example per file, read in file-name order (a plain code-unit sort,
// so the order does not depend on the locale). Every image is converted to one grey channel.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { convertIndexedToRgb, decode, hasPngSignature, type DecodedPng } from 'fast-png';
import type { ExamplePool } from './pool';
import { DatasetError } from './types';

/** Grey levels in [0, 1] of one decoded PNG, row-major. */
function toGrey(png: DecodedPng): Float32Array {
  let { data, channels, depth } = png;
  if (png.palette) {
    data = convertIndexedToRgb(png);
    channels = png.palette[0].length;
    depth = 8;
  }
  const max = 2 ** depth - 1;
  const count = png.width * png.height;
  // Below 8 bits, samples are packed into bytes, each row starting on a byte boundary.
  const rowBits = png.width * channels * depth;
  const sample: (pixel: number, channel: number) => number =
    depth >= 8
      ? (pixel, channel) => data[pixel * channels + channel]
      : (pixel, channel) => {
          const row = Math.floor(pixel / png.width);
          const bit = row * Math.ceil(rowBits / 8) * 8 + ((pixel % png.width) * channels + channel) * depth;
          return (data[bit >> 3] >> (8 - depth - (bit & 7))) & max;
        };
  const colour = channels >= 3;
  const hasAlpha = channels === 2 || channels === 4;
  const grey = new Float32Array(count);
  for (let p = 0; p < count; p++) {
    // ITU-R BT.601 luma, as PIL's convert('L').
    let value = colour ? 0.299 * sample(p, 0) + 0.587 * sample(p, 1) + 0.114 * sample(p, 2) : sample(p, 0);
    // Composite over black: transparent background becomes 0, the background of MNIST-style data.
    if (hasAlpha) value *= sample(p, channels - 1) / max;
    grey[p] = Math.min(1, value / max);
  }
  return grey;
}

export async function loadPngFolderPool(folder: string): Promise<ExamplePool> {
  const entries = (await readdir(folder, { withFileTypes: true }))
    .filter((entry) => !entry.name.startsWith('.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (entries.length === 0) throw new DatasetError(`${folder}: the folder holds no PNG images`);
  let height = 0;
  let width = 0;
  let data = new Float32Array(0);
  for (const [n, entry] of entries.entries()) {
    const file = join(folder, entry.name);
    if (!entry.isFile()) throw new DatasetError(`${file}: not a file; a PNG folder must hold only PNG images`);
    const bytes = await readFile(file);
    if (!hasPngSignature(bytes))
      throw new DatasetError(`${file}: not a PNG image; a PNG folder must hold only PNG images`);
    let png: DecodedPng;
    try {
      png = decode(bytes);
    } catch (error) {
      throw new DatasetError(`${file}: cannot decode PNG: ${(error as Error).message}`);
    }
    if (n === 0) {
      [height, width] = [png.height, png.width];
      data = new Float32Array(entries.length * height * width);
    } else if (png.height !== height || png.width !== width) {
      throw new DatasetError(
        `${file}: image is ${png.width}x${png.height} but ${entries[0].name} is ${width}x${height}; all images must have the same size`,
      );
    }
    data.set(toGrey(png), n * height * width);
  }
  return { data, count: entries.length, labels: null, height, width, channels: 1, source: folder };
}
