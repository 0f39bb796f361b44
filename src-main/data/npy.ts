// NumPy .npy files (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html):
// the magic "\x93NUMPY", a version, a little-endian header length (uint16 in v1, uint32 in v2/v3),
// a Python dict literal {'descr', 'fortran_order', 'shape'}, then the raw values.
import { MAX_DATA_FILE_BYTES, readBoundedFile } from './files';
import type { ExamplePool } from './pool';
import { DatasetError } from './types';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const DTYPES = { u1: 1, f4: 4, f8: 8 } as const;
type NpyDtype = keyof typeof DTYPES;

export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: Uint8Array | Float32Array | Float64Array;
}

const shapeText = (shape: number[]) => `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;

export function decodeNpy(bytes: Uint8Array, file: string): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new DatasetError(`${file}: not a .npy file (it does not start with the magic string \\x93NUMPY)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  if (major < 1 || major > 3) throw new DatasetError(`${file}: unsupported .npy format version ${major}.${bytes[7]}`);
  const headerStart = major === 1 ? 10 : 12;
  if (bytes.length < headerStart) throw new DatasetError(`${file}: truncated .npy header`);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = headerStart + headerLength;
  if (bytes.length < dataStart) {
    throw new DatasetError(
      `${file}: truncated .npy header: expected ${dataStart} header bytes but the file has ${bytes.length}`,
    );
  }
  const header = new TextDecoder().decode(bytes.subarray(headerStart, dataStart));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeMatch = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeMatch === undefined) {
    throw new DatasetError(
      `${file}: bad .npy header (expected a dict with 'descr', 'fortran_order' and 'shape'): ${header.trim()}`,
    );
  }
  if (fortran === 'True') {
    throw new DatasetError(
      `${file}: Fortran-ordered arrays are not supported; save a C-ordered array (np.ascontiguousarray)`,
    );
  }
  const shape = shapeMatch
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0))
    throw new DatasetError(`${file}: bad shape in .npy header: (${shapeMatch})`);
  // Bytes have no byte order ('|u1'); floats must be little-endian ('<'), the order we read.
  const kind = descr.slice(1);
  if (!(kind in DTYPES) || (kind !== 'u1' && descr[0] !== '<') || (kind === 'u1' && descr[0] === '>')) {
    throw new DatasetError(
      `${file}: unsupported dtype '${descr}'; expected '|u1' (uint8), '<f4' (float32) or '<f8' (float64)`,
    );
  }
  const dtype = kind as NpyDtype;
  const count = shape.reduce((a, b) => a * b, 1);
  const expected = dataStart + count * DTYPES[dtype];
  if (bytes.length !== expected) {
    throw new DatasetError(
      `${file}: expected ${expected} bytes for shape ${shapeText(shape)} of ${descr} but the file has ${bytes.length}`,
    );
  }
  // Read floats through the DataView: the data offset need not be aligned for a typed-array view.
  const data =
    dtype === 'u1'
      ? bytes.subarray(dataStart, expected)
      : dtype === 'f4'
        ? Float32Array.from({ length: count }, (_, i) => view.getFloat32(dataStart + 4 * i, true))
        : Float64Array.from({ length: count }, (_, i) => view.getFloat64(dataStart + 8 * i, true));
  return { dtype, shape, data };
}

/** Encodes a C-ordered array as a version 1.0 .npy file (for exports and test fixtures). */
export function encodeNpy(shape: number[], data: Uint8Array | Float32Array | Float64Array): Uint8Array {
  const descr = data instanceof Uint8Array ? '|u1' : data instanceof Float32Array ? '<f4' : '<f8';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText(shape)}, }`;
  // numpy pads the header with spaces and a newline so that the data starts on a 64-byte boundary.
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC);
  out[6] = 1;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** A .npy file of images: shape (N, H, W), (N, H, W, 1) or (N, D) with D a perfect square. */
export async function loadNpyPool(file: string): Promise<ExamplePool> {
  let bytes: Uint8Array;
  try {
    bytes = readBoundedFile(file, MAX_DATA_FILE_BYTES, '.npy file');
  } catch (error) {
    throw new DatasetError((error as Error).message);
  }
  const array = decodeNpy(bytes, file);
  const { shape } = array;
  let height: number;
  let width: number;
  if (shape.length === 3 || (shape.length === 4 && shape[3] === 1)) {
    [height, width] = [shape[1], shape[2]];
  } else if (shape.length === 2 && Number.isInteger(Math.sqrt(shape[1]))) {
    height = width = Math.sqrt(shape[1]);
  } else {
    throw new DatasetError(
      `${file}: expected images of shape (N, H, W), (N, H, W, 1) or (N, D) with D a perfect square, found ${shapeText(shape)}`,
    );
  }
  let data: Uint8Array | Float32Array;
  if (array.data instanceof Uint8Array) {
    data = array.data;
  } else {
    data = array.data instanceof Float32Array ? array.data : Float32Array.from(array.data);
    // Check the source values (float64 before rounding) so NaN and out-of-range values are caught.
    const bad = array.data.findIndex((v: number) => !(v >= 0 && v <= 1));
    if (bad >= 0) {
      throw new DatasetError(
        `${file}: float pixel values must lie in [0, 1]; value ${bad} (image ${Math.floor(bad / (height * width))}) is ${array.data[bad]}`,
      );
    }
  }
  return { data, count: shape[0], labels: null, height, width, channels: 1, source: file };
}
