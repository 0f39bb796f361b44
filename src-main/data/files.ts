// Bounded, regular-file-only reads for every data reader. A data set, a config file or a bundle is
// input from outside: it may be a FIFO that never ends, /dev/zero, a device, a socket, or a gzip
// bomb. Each is refused before it can hang a worker or fill memory, and every refusal names the
// input and the limit.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { createGunzip } from 'node:zlib';

/** Largest data file (IDX, .npy, one PNG) read from disk. */
export const MAX_DATA_FILE_BYTES = 1024 ** 3;
/** Largest unpacked IDX content accepted from a .gz (the running total is checked while inflating). */
export const MAX_UNPACKED_DATA_BYTES = 1024 ** 3;
/** Largest PNG image accepted, in pixels (checked from the IHDR header before decoding). */
export const MAX_IMAGE_PIXELS = 4096 * 4096;
/** Largest PNG folder, in images. */
export const MAX_FOLDER_IMAGES = 1_000_000;
/** Largest pixel count of a source or of a split (examples x pixels): 1 GiB as float32. */
export const MAX_POOL_VALUES = 256 * 1024 ** 2;
/** Largest run config file (`vae-workbench train --config`). */
export const MAX_CONFIG_FILE_BYTES = 1024 ** 2;

/** An input that cannot be read as asked; `limit` is set when a bound was what refused it. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** What a non-regular file is, in words. */
function kindOf(info: Stats): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a FIFO (named pipe)';
  if (info.isCharacterDevice()) return 'a character device';
  if (info.isBlockDevice()) return 'a block device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Opens `path` for reading only if it is a regular file. O_NONBLOCK keeps the open itself from
 * waiting on a FIFO with no writer; fstat on the descriptor then answers for the very file opened.
 */
export function openRegularFile(path: string, what: string): { fd: number; size: number } {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code;
    throw new InputError(`Cannot read ${what} ${path}: ${reason ?? (error as Error).message}`);
  }
  const info = fstatSync(fd);
  if (!info.isFile()) {
    closeSync(fd);
    throw new InputError(`${what} ${path} is ${kindOf(info)}; only regular files are read`);
  }
  return { fd, size: info.size };
}

/**
 * Reads a whole regular file of at most `limit` bytes. The size is checked before any allocation,
 * and the read never goes past it (a file that grows while being read is cut at the size seen).
 */
export function readBoundedFile(path: string, limit: number, what: string): Buffer {
  const { fd, size } = openRegularFile(path, what);
  try {
    if (size > limit) throw new InputError(`${what} ${path} is ${size} bytes, over the limit of ${limit} bytes`);
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, out, at, size - at, at);
      if (n === 0) break;
      at += n;
    }
    return at === size ? out : out.subarray(0, at);
  } finally {
    closeSync(fd);
  }
}

/** The first `count` bytes of a regular file (fewer when it is shorter). */
export function readFileHead(path: string, count: number, what: string): { head: Buffer; size: number } {
  const { fd, size } = openRegularFile(path, what);
  try {
    const head = Buffer.alloc(Math.min(count, size));
    let at = 0;
    while (at < head.length) {
      const n = readSync(fd, head, at, head.length - at, at);
      if (n === 0) break;
      at += n;
    }
    return { head: head.subarray(0, at), size };
  } finally {
    closeSync(fd);
  }
}

/**
 * Gunzips `compressed` with a running total: inflation stops as soon as the output passes `limit`
 * (never a whole bomb in memory). `sizeFromHead`, given the first bytes of the output, may return
 * the exact size the content declares; the output buffer is then allocated once at that size, and
 * a declared size over the limit is refused before anything else is inflated. 'invalid' stops
 * inflating at once and resolves with the head alone (its header is not one the caller reads).
 */
export function gunzipBounded(
  compressed: Uint8Array,
  limit: number,
  what: string,
  sizeFromHead?: (head: Buffer) => number | null | 'invalid',
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const gunzip = createGunzip();
    const chunks: Buffer[] = [];
    let total = 0;
    let declared: number | null = null;
    let target: Buffer | null = null;
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      gunzip.destroy();
      reject(error);
    };
    gunzip.on('data', (chunk: Buffer) => {
      if (settled) return;
      total += chunk.length;
      if (total > limit) {
        return fail(
          new InputError(`${what}: unpacks to more than the limit of ${limit} bytes (a gzip bomb or not a data file)`),
        );
      }
      if (target) {
        if (total > target.length)
          return fail(new InputError(`${what}: unpacks to more than the ${declared} bytes its header declares`));
        chunk.copy(target, total - chunk.length);
        return;
      }
      chunks.push(chunk);
      if (sizeFromHead && declared === null) {
        const head = Buffer.concat(chunks);
        const size = sizeFromHead(head);
        if (size === 'invalid') {
          // Not the format expected: stop inflating; the caller's decoder names the problem from the head.
          settled = true;
          gunzip.destroy();
          return resolve(head);
        }
        if (size !== null) {
          declared = size;
          if (size > limit) {
            return fail(new InputError(`${what}: its header declares ${size} bytes, over the limit of ${limit} bytes`));
          }
          if (total > size)
            return fail(new InputError(`${what}: unpacks to more than the ${size} bytes its header declares`));
          target = Buffer.allocUnsafe(size);
          head.copy(target, 0);
          chunks.length = 0;
        }
      }
    });
    gunzip.on('error', (error) =>
      fail(new InputError(`${what}: the gzip stream is damaged or truncated (${error.message})`)),
    );
    gunzip.on('end', () => {
      if (settled) return;
      settled = true;
      resolve(target ? target.subarray(0, total) : Buffer.concat(chunks));
    });
    // Feed the input in slices so a refusal stops inflation early.
    const SLICE = 64 * 1024;
    let offset = 0;
    const feed = () => {
      while (!settled && offset < compressed.length) {
        const end = Math.min(offset + SLICE, compressed.length);
        const more = gunzip.write(compressed.subarray(offset, end));
        offset = end;
        if (!more) return void gunzip.once('drain', feed);
      }
      if (!settled && offset >= compressed.length) gunzip.end();
    };
    feed();
  });
}
