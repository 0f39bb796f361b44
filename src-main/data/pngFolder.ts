// A folder of PNG images, one example per file, read in file-name order (a plain code-unit sort,
// so the order does not depend on the locale). Every image is converted to one grey channel.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { convertIndexedToRgb, decode, hasPngSignature, type DecodedPng } from 'fast-png';
import { MAX_DATA_FILE_BYTES, MAX_FOLDER_IMAGES, MAX_IMAGE_PIXELS, MAX_POOL_VALUES, readBoundedFile } from './files';
import type { ExamplePool } from './pool';
import { DatasetError } from './types';

/**
 * Width and height from a PNG's IHDR chunk (bytes 16-23, big-endian), read before decoding so a
 * small file that declares a huge image is refused without allocating it; null when there is no IHDR.
 */
export function pngHeaderSize(bytes: Uint8Array): { width: number; height: number } | null {
  if (bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

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
  if (entries.length > MAX_FOLDER_IMAGES)
    throw new DatasetError(`${folder}: ${entries.length} entries, over the limit of ${MAX_FOLDER_IMAGES} images`);
  let height = 0;
  let width = 0;
  let data = new Float32Array(0);
  for (const [n, entry] of entries.entries()) {
    const file = join(folder, entry.name);
    if (!entry.isFile()) throw new DatasetError(`${file}: not a file; a PNG folder must hold only PNG images`);
    let bytes: Uint8Array;
    try {
      bytes = readBoundedFile(file, MAX_DATA_FILE_BYTES, 'PNG image');
    } catch (error) {
      throw new DatasetError((error as Error).message);
    }
    if (!hasPngSignature(bytes))
      throw new DatasetError(`${file}: not a PNG image; a PNG folder must hold only PNG images`);
    const declared = pngHeaderSize(bytes);
    if (!declared) throw new DatasetError(`${file}: cannot decode PNG: no IHDR header`);
    if (declared.width * declared.height > MAX_IMAGE_PIXELS || declared.width * declared.height === 0) {
      throw new DatasetError(
        `${file}: the PNG header declares ${declared.width}x${declared.height} pixels; images must have between 1 and ${MAX_IMAGE_PIXELS} pixels (the limit)`,
      );
    }
    if (n === 0 && entries.length * declared.width * declared.height > MAX_POOL_VALUES) {
      throw new DatasetError(
        `${folder}: ${entries.length} images of ${declared.width}x${declared.height} are ${entries.length * declared.width * declared.height} pixels, over the limit of ${MAX_POOL_VALUES} for a data set`,
      );
    }
    if (n > 0 && (declared.height !== height || declared.width !== width)) {
      throw new DatasetError(
        `${file}: image is ${declared.width}x${declared.height} but ${entries[0].name} is ${width}x${height}; all images must have the same size`,
      );
    }
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
