// IDX files (the MNIST / Fashion-MNIST format, http://yann.lecun.com/exdb/mnist/): a 4-byte magic
// number (0x00 0x00, a type byte, the number of dimensions), one big-endian uint32 per dimension,
// then the values, big-endian, row-major. Files may be gzipped.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { gunzipBounded, InputError, MAX_DATA_FILE_BYTES, MAX_UNPACKED_DATA_BYTES, readBoundedFile } from './files';
import type { ExamplePool } from './pool';
import { DatasetError } from './types';

const IDX_TYPES = {
  0x08: { name: 'ubyte', size: 1 },
  0x09: { name: 'sbyte', size: 1 },
  0x0b: { name: 'short', size: 2 },
  0x0c: { name: 'int', size: 4 },
  0x0d: { name: 'float', size: 4 },
  0x0e: { name: 'double', size: 8 },
} as const;
type IdxTypeCode = keyof typeof IDX_TYPES;
export type IdxDtype = (typeof IDX_TYPES)[IdxTypeCode]['name'];

export interface IdxArray {
  dtype: IdxDtype;
  dims: number[];
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/** Where Debian's dataset-fashion-mnist package puts the four gzipped IDX files. */
export const DEFAULT_FASHION_MNIST_FOLDER = '/usr/share/datasets/fashion-mnist';
export const FASHION_MNIST_ENV = 'VAE_WORKBENCH_FASHION_MNIST';

const dimsText = (dims: number[]) => dims.join('x');

/** Parses an (already gunzipped) IDX file; `file` names it in errors. */
export function decodeIdx(bytes: Uint8Array, file: string, gzipped = false): IdxArray {
  const has = `the file has ${bytes.length}${gzipped ? ' (after gunzip)' : ''}`;
  if (bytes.length < 4)
    throw new DatasetError(`${file}: not an IDX file: ${has} bytes, fewer than the 4-byte magic number`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const code = bytes[2] as IdxTypeCode;
  const ndims = bytes[3];
  if (bytes[0] !== 0 || bytes[1] !== 0 || !(code in IDX_TYPES) || ndims === 0) {
    const magic = view.getUint32(0).toString(16).padStart(8, '0');
    throw new DatasetError(
      `${file}: not an IDX file: bad magic number 0x${magic} (expected 0x0000 followed by a type byte 08/09/0b/0c/0d/0e and the number of dimensions, e.g. 0x00000803 for ubyte images)`,
    );
  }
  const headerSize = 4 + 4 * ndims;
  if (bytes.length < headerSize) {
    throw new DatasetError(
      `${file}: truncated IDX header: expected ${headerSize} bytes for ${ndims} dimensions but ${has}`,
    );
  }
  const dims = Array.from({ length: ndims }, (_, i) => view.getUint32(4 + 4 * i));
  const type = IDX_TYPES[code];
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = headerSize + count * type.size;
  if (bytes.length !== expected) {
    throw new DatasetError(`${file}: expected ${expected} bytes for ${dimsText(dims)} ${type.name} values but ${has}`);
  }
  if (type.name === 'ubyte') return { dtype: 'ubyte', dims, data: bytes.subarray(headerSize, expected) };
  if (type.name === 'sbyte')
    return { dtype: 'sbyte', dims, data: new Int8Array(bytes.buffer, bytes.byteOffset + headerSize, count) };
  // Wider types are big-endian and may be unaligned: read them through the DataView.
  const read = {
    short: () => Int16Array.from({ length: count }, (_, i) => view.getInt16(headerSize + 2 * i)),
    int: () => Int32Array.from({ length: count }, (_, i) => view.getInt32(headerSize + 4 * i)),
    float: () => Float32Array.from({ length: count }, (_, i) => view.getFloat32(headerSize + 4 * i)),
    double: () => Float64Array.from({ length: count }, (_, i) => view.getFloat64(headerSize + 8 * i)),
  }[type.name];
  return { dtype: type.name, dims, data: read() };
}

/** Encodes unsigned bytes as an IDX file (for exports and test fixtures). */
export function encodeIdx(dims: number[], data: Uint8Array): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  if (count !== data.length)
    throw new RangeError(`encodeIdx: ${dimsText(dims)} needs ${count} values, got ${data.length}`);
  const out = new Uint8Array(4 + 4 * dims.length + count);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x0800 | dims.length);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/**
 * The total byte size an IDX file declares in its header (magic, dims, values), null while `head`
 * is too short to tell, 'invalid' when it is no IDX header (decodeIdx names the problem).
 */
export function idxDeclaredSize(head: Uint8Array): number | null | 'invalid' {
  if (head.length < 4) return null;
  const code = head[2] as IdxTypeCode;
  const ndims = head[3];
  if (head[0] !== 0 || head[1] !== 0 || !(code in IDX_TYPES) || ndims === 0) return 'invalid';
  const headerSize = 4 + 4 * ndims;
  if (head.length < headerSize) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  let count = 1;
  for (let i = 0; i < ndims; i++) count *= view.getUint32(4 + 4 * i);
  return headerSize + count * IDX_TYPES[code].size;
}

/**
 * Reads a plain or gzipped IDX file (gzip is recognised by its magic bytes, not the name). Only a
 * regular file of at most MAX_DATA_FILE_BYTES is read; a .gz is inflated with a running total, and
 * refused as soon as its header declares, or its output reaches, more than MAX_UNPACKED_DATA_BYTES.
 */
export async function readIdx(file: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = readBoundedFile(file, MAX_DATA_FILE_BYTES, 'IDX file');
  } catch (error) {
    throw new DatasetError((error as Error).message);
  }
  const gzipped = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (gzipped) {
    try {
      bytes = await gunzipBounded(bytes, MAX_UNPACKED_DATA_BYTES, `IDX file ${file}`, idxDeclaredSize);
    } catch (error) {
      if (error instanceof InputError) throw new DatasetError(error.message);
      throw new DatasetError(`${file}: the gzip stream is damaged or truncated (${(error as Error).message})`);
    }
  }
  return decodeIdx(bytes, file, gzipped);
}

/** Images file plus optional labels file -> a pool of examples. */
export async function loadIdxPool(imagesFile: string, labelsFile: string | null): Promise<ExamplePool> {
  const images = await readIdx(imagesFile);
  const [count, height, width, channels = 1] = images.dims;
  if ((images.dims.length !== 3 && images.dims.length !== 4) || channels !== 1) {
    throw new DatasetError(
      `${imagesFile}: expected images of shape count x height x width (or x 1), found ${dimsText(images.dims)}`,
    );
  }
  let data: Uint8Array | Float32Array;
  if (images.data instanceof Uint8Array) {
    data = images.data;
  } else if (images.data instanceof Float32Array || images.data instanceof Float64Array) {
    data = Float32Array.from(images.data);
    const bad = data.findIndex((v) => !(v >= 0 && v <= 1));
    if (bad >= 0)
      throw new DatasetError(
        `${imagesFile}: ${images.dtype} pixel values must lie in [0, 1]; value ${bad} is ${data[bad]}`,
      );
  } else {
    throw new DatasetError(
      `${imagesFile}: unsupported IDX pixel type '${images.dtype}' (expected ubyte, float or double)`,
    );
  }
  let labels: Int32Array | null = null;
  if (labelsFile) {
    const read = await readIdx(labelsFile);
    if (read.dims.length !== 1 || read.dims[0] !== count) {
      throw new DatasetError(
        `${labelsFile}: expected ${count} labels (one per image in ${basename(imagesFile)}), found shape ${dimsText(read.dims)}`,
      );
    }
    if (read.data instanceof Float32Array || read.data instanceof Float64Array) {
      throw new DatasetError(`${labelsFile}: labels must be integers, found IDX type '${read.dtype}'`);
    }
    labels = Int32Array.from(read.data);
  }
  return { data, count, labels, height, width, channels: 1, source: imagesFile };
}

/** The file `name` or `name.gz` in `folder`, whichever exists. */
function findPlainOrGz(folder: string, name: string): string | null {
  for (const candidate of [name, `${name}.gz`]) {
    const path = join(folder, candidate);
    if (existsSync(path) && statSync(path).isFile()) return path;
  }
  return null;
}

/** For `...-images-idx3-ubyte(.gz)`, the sibling `...-labels-idx1-ubyte(.gz)` when it exists. */
export function siblingLabelsFile(imagesFile: string): string | null {
  const name = basename(imagesFile).replace(/\.gz$/, '');
  if (!name.includes('images-idx3')) return null;
  return findPlainOrGz(dirname(imagesFile), name.replace('images-idx3', 'labels-idx1'));
}

/** True when `folder` holds a standard-named `train-images-idx3-ubyte(.gz)`. */
export function isIdxFolder(folder: string): boolean {
  return findPlainOrGz(folder, 'train-images-idx3-ubyte') !== null;
}

/**
 * A folder in the MNIST layout: train-images-idx3-ubyte, train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each plain or .gz. Labels are optional.
 */
export async function loadIdxFolder(folder: string): Promise<{ train: ExamplePool; test: ExamplePool }> {
  const load = async (prefix: 'train' | 't10k'): Promise<ExamplePool> => {
    const images = findPlainOrGz(folder, `${prefix}-images-idx3-ubyte`);
    if (!images) throw new DatasetError(`${folder}: missing ${prefix}-images-idx3-ubyte(.gz)`);
    return loadIdxPool(images, siblingLabelsFile(images));
  };
  const [train, test] = await Promise.all([load('train'), load('t10k')]);
  if (train.height !== test.height || train.width !== test.width) {
    throw new DatasetError(
      `${folder}: training images are ${train.height}x${train.width} but test images are ${test.height}x${test.width}`,
    );
  }
  return { train, test };
}

/** The Fashion-MNIST folder: $VAE_WORKBENCH_FASHION_MNIST, else Debian's location. */
export function fashionMnistFolder(env: NodeJS.ProcessEnv = process.env): string {
  return env[FASHION_MNIST_ENV] || DEFAULT_FASHION_MNIST_FOLDER;
}

export async function loadFashionMnist(
  folder = fashionMnistFolder(),
): Promise<{ train: ExamplePool; test: ExamplePool }> {
  if (!existsSync(folder) || !isIdxFolder(folder)) {
    throw new DatasetError(
      `Fashion-MNIST not found in ${folder} (looked for train-images-idx3-ubyte(.gz)): install Debian's dataset-fashion-mnist package ` +
        `(apt install dataset-fashion-mnist), or set ${FASHION_MNIST_ENV} to a folder with the IDX files, or name that folder as the data set`,
    );
  }
  return loadIdxFolder(folder);
}
