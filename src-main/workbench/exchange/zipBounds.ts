// A running-total bound on what a zip unpacks to, checked before the zip is unpacked (issue #13).
// The declared sizes in a zip's headers are the writer's word: two zero-filled entries of 1.9 GB
// each pass a check of declared sizes and then peak at 3.7 GB. Here every deflated entry is
// inflated as a stream whose output is counted and dropped, and the zip is refused the moment the
// count passes the limit: memory stays at one chunk whatever the zip claims. The event loop keeps
// turning meanwhile (zlib works on the thread pool), so the server answers other requests.
import { createInflateRaw } from 'node:zlib';
import { BundleError } from './bundle';

/** The most a bundle zip may unpack to, all entries together. */
export const MAX_BUNDLE_UNPACKED_BYTES = 1024 ** 3;

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  dataStart: number;
}

function centralDirectory(bytes: Uint8Array, label: string): ZipEntry[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let eocd = -1;
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 65535); at--) {
    if (view.getUint32(at, true) === 0x06054b50) {
      eocd = at;
      break;
    }
  }
  if (eocd < 0) throw new BundleError(`${label}: no zip end record found; the file is truncated or corrupt.`);
  const count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50)
      throw new BundleError(
        `${label}: zip directory entry ${i} lies outside the file; the zip is corrupt or truncated.`,
      );
    const method = view.getUint16(at + 10, true);
    const compressedSize = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    const name = Buffer.from(bytes.subarray(at + 46, at + 46 + nameLength)).toString('utf8');
    if (compressedSize === 0xffffffff || local === 0xffffffff)
      throw new BundleError(`${label}: ${name} is a zip64 entry; a bundle this app wrote has none.`);
    if (local + 30 > bytes.length || view.getUint32(local, true) !== 0x04034b50)
      throw new BundleError(
        `${label}: the local header of ${name} lies outside the file; the zip is corrupt or truncated.`,
      );
    const dataStart = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (dataStart + compressedSize > bytes.length)
      throw new BundleError(`${label}: the data of ${name} lies outside the file; the zip is corrupt or truncated.`);
    entries.push({ name, method, compressedSize, dataStart });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Bytes `data` inflates to, counted as a stream and stopped once `budget` is passed. */
function inflatedSize(data: Uint8Array, budget: number): Promise<number> {
  return new Promise((resolve, reject) => {
    // Large output chunks: few callbacks on the main thread while a gigabyte is counted.
    const inflate = createInflateRaw({ chunkSize: 1 << 20 });
    let total = 0;
    let done = false;
    inflate.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > budget && !done) {
        done = true;
        inflate.destroy();
        resolve(total);
      }
    });
    inflate.on('error', (error) => {
      if (!done) {
        done = true;
        reject(error);
      }
    });
    inflate.on('end', () => {
      if (!done) {
        done = true;
        resolve(total);
      }
    });
    const SLICE = 64 * 1024;
    let offset = 0;
    const feed = () => {
      while (!done && offset < data.length) {
        const end = Math.min(offset + SLICE, data.length);
        const more = inflate.write(data.subarray(offset, end));
        offset = end;
        if (!more) return void inflate.once('drain', feed);
      }
      if (!done) inflate.end();
    };
    feed();
  });
}

/**
 * Refuses a zip whose entries unpack, all together, to more than `limit` bytes, counting what
 * inflation really produces (not what the headers declare). Reads only; nothing is kept.
 */
export async function checkZipUnpackedSize(
  bytes: Uint8Array,
  label: string,
  limit = MAX_BUNDLE_UNPACKED_BYTES,
): Promise<void> {
  let total = 0;
  for (const entry of centralDirectory(bytes, label)) {
    const data = bytes.subarray(entry.dataStart, entry.dataStart + entry.compressedSize);
    if (entry.method === 0) total += data.length;
    else if (entry.method === 8) {
      try {
        total += await inflatedSize(data, limit - total);
      } catch (error) {
        throw new BundleError(
          `${label}: ${entry.name} does not inflate (${(error as Error).message}); the zip is corrupt.`,
        );
      }
    } else
      throw new BundleError(`${label}: ${entry.name} uses zip compression method ${entry.method}; bundles use 0 or 8.`);
    if (total > limit)
      throw new BundleError(
        `${label}: its files unpack to more than the limit of ${limit} bytes (stopped at ${entry.name}); not a bundle this app wrote.`,
      );
  }
}
