// The bundle container: a folder or a .zip holding a run (layout in index.ts). This module runs in
// the bundle worker thread (bundleWorker.ts); the main thread reaches it through bundleThread.ts.
// Everything streams in chunks of CHUNK bytes, so a large bundle never sits whole in memory.
//
// Writing: every file is hashed and listed in manifest.json, and manifest.json is itself hashed
// into manifest.sha256 (sha256sum format, so `sha256sum -c manifest.sha256` works). A zip also
// carries, as its archive comment, the sha256 of every byte before the comment, so not one byte
// of the container can change unnoticed (zip headers included).
// Reading unpacks into a staging folder and verifies all of that before anything else looks at
// the content; the inflated bytes are counted as they come, and capped. No tfjs, no store.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { Inflate, Zip, ZipDeflate, ZipPassThrough } from 'fflate';
import { parseSafetensorsHeader, safetensorsHeaderLength } from '../../data/safetensors';

export const BUNDLE_FORMAT = 'vae-workbench-bundle';
export const BUNDLE_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_HASH_FILE = 'manifest.sha256';
const ZIP_COMMENT_PREFIX = `${BUNDLE_FORMAT} sha256=`;
/** A bundle bigger than this, packed or unpacked, is refused (guards disk and memory). */
export const MAX_BUNDLE_BYTES = 4 * 1024 ** 3;
/**
 * What a bundle's files may unpack to, declared and as they inflate (a zip bomb is refused at it).
 * The largest model the cost budget admits has a checkpoint (weights and Adam's two moments) and
 * TF.js shards well under this.
 */
export const MAX_BUNDLE_UNPACKED_BYTES = 1024 ** 3;
/** Compressed bytes given to the inflater at a time: deflate expands at most ~1032x, so a chunk inflates to <= 16 MiB. */
const INFLATE_INPUT_CHUNK = 16 * 1024;
/** manifest.json is read whole; a real one is a few kilobytes. */
const MAX_MANIFEST_BYTES = 64 * 1024 ** 2;
const CHUNK = 1024 ** 2;
const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_RECORD = 0x06054b50;

export interface BundleFileEntry {
  path: string;
  size: number;
  sha256: string;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  formatVersion: number;
  appVersion: string;
  createdAt: string;
  run: { id: string; name: string; status: string };
  dataset: { name: string; hash: string | null };
  backend: string | null;
  /** [height, width, channels] of one example. */
  inputShape: [number, number, number];
  checkpoint: { step: number; epoch: number; kind: string; sha256: string; path: string };
  /** TF.js Layers models by network name, and what their output means. */
  networks: Record<string, { path: string; input: string; output: string }>;
  files: BundleFileEntry[];
}

export class BundleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BundleError';
  }
}

/** An error the caller can show as it is; `status` follows the API's (404 not found, 409 conflict, 400 bad input). */
export class ExchangeError extends Error {
  constructor(
    readonly status: 400 | 404 | 409 | 500,
    message: string,
  ) {
    super(message);
    this.name = 'ExchangeError';
  }
}

/** A relative path inside a bundle: forward slashes, no '..', no absolute paths, no empty parts. */
export function isSafeBundlePath(path: string): boolean {
  if (path.length === 0 || path.length > 400 || path.startsWith('/') || path.includes('\\') || path.includes('\0'))
    return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/**
 * One file to pack: bytes in memory (small files, or a checkpoint already read and hashed, whose
 * sha256 comes along so it is not hashed again), or a file on disk, streamed in chunks.
 */
export type PackEntry = { path: string; bytes: Uint8Array; sha256?: string } | { path: string; file: string };

export interface PackedBundle {
  path: string;
  format: 'zip' | 'folder';
  bytes: number;
  files: BundleFileEntry[];
}

export interface UnpackedBundle {
  /** The folder the verified files were unpacked into; the caller removes it. */
  staging: string;
  manifest: BundleManifest;
}

// ---- hashing, in chunks -------------------------------------------------------------------------

/** Calls `fn` with consecutive chunks of bytes [start, end) of an open file. */
function readChunks(fd: number, start: number, end: number, fn: (chunk: Uint8Array) => void): void {
  const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, end - start)));
  for (let at = start; at < end;) {
    const read = fs.readSync(fd, buffer, 0, Math.min(buffer.length, end - at), at);
    if (read === 0) throw new BundleError(`unexpected end of file at byte ${at}`);
    fn(buffer.subarray(0, read));
    at += read;
  }
}

function withFile<T>(file: string, flags: string, fn: (fd: number) => T): T {
  const fd = fs.openSync(file, flags);
  try {
    return fn(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let at = 0; at < bytes.length;) at += fs.writeSync(fd, bytes, at, bytes.length - at);
}

/** The sha256 and size of a file, read in chunks. */
export function hashFile(file: string): { size: number; sha256: string } {
  return withFile(file, 'r', (fd) => {
    const size = fs.fstatSync(fd).size;
    const hash = createHash('sha256');
    readChunks(fd, 0, size, (chunk) => hash.update(chunk));
    return { size, sha256: hash.digest('hex') };
  });
}

function hashBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A checkpoint as the store records it: where its file is, and the sha256 it had when written. */
export interface CheckpointRef {
  runId: string;
  step: number;
  path: string;
  sha256: string;
}

/**
 * Reads a checkpoint file once and checks it against the sha256 recorded when it was written.
 * Export and generation decode (and export packs) these bytes: the file is neither read nor hashed again.
 */
export function readVerifiedCheckpoint(checkpoint: CheckpointRef): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(checkpoint.path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new ExchangeError(
      409,
      `The checkpoint file of run ${checkpoint.runId} at step ${checkpoint.step} is missing: ${checkpoint.path}`,
    );
  }
  if (hashBytes(bytes) !== checkpoint.sha256)
    throw new ExchangeError(
      409,
      `The checkpoint file ${checkpoint.path} does not match the sha256 recorded for it; it was changed or damaged on disk.`,
    );
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

// ---- packing ------------------------------------------------------------------------------------

/**
 * Hashes the entries, adds manifest.json (every file's size and sha256) and manifest.sha256, and
 * writes a folder or (path ending in .zip) a zip; atomic: a temporary name, then rename.
 */
export function packBundle(
  entries: readonly PackEntry[],
  manifest: Omit<BundleManifest, 'files'>,
  out: string,
): PackedBundle {
  const target = resolve(out);
  const format = target.toLowerCase().endsWith('.zip') ? 'zip' : 'folder';
  if (
    fs.existsSync(target) &&
    !(format === 'folder' && fs.statSync(target).isDirectory() && fs.readdirSync(target).length === 0)
  ) {
    throw new BundleError(`${target} already exists; choose another path or remove it first.`);
  }
  const sorted = entries
    .filter(({ path }) => path !== MANIFEST_FILE && path !== MANIFEST_HASH_FILE)
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const files: BundleFileEntry[] = sorted.map((entry) =>
    'bytes' in entry
      ? { path: entry.path, size: entry.bytes.length, sha256: entry.sha256 ?? hashBytes(entry.bytes) }
      : { path: entry.path, ...hashFile(entry.file) },
  );
  const manifestBytes = Buffer.from(`${JSON.stringify({ ...manifest, files }, null, 2)}\n`, 'utf8');
  const all: PackEntry[] = [
    ...sorted,
    { path: MANIFEST_FILE, bytes: manifestBytes },
    { path: MANIFEST_HASH_FILE, bytes: Buffer.from(`${hashBytes(manifestBytes)}  ${MANIFEST_FILE}\n`, 'utf8') },
  ];
  fs.mkdirSync(dirname(target), { recursive: true });
  const temporary = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  let bytes = 0;
  try {
    if (format === 'zip') bytes = withFile(temporary, 'wx', (fd) => writeZip(all, fd));
    else {
      for (const entry of all) {
        const file = join(temporary, ...entry.path.split('/'));
        fs.mkdirSync(dirname(file), { recursive: true });
        withFile(file, 'wx', (fd) => eachChunkOf(entry, (chunk) => writeAll(fd, chunk)));
        bytes += 'bytes' in entry ? entry.bytes.length : fs.statSync(file).size;
      }
      if (fs.existsSync(target)) fs.rmSync(target, { recursive: true, force: true }); // the empty folder
    }
    fs.renameSync(temporary, target);
  } catch (error) {
    fs.rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
  return { path: target, format, bytes, files };
}

function eachChunkOf(entry: PackEntry, fn: (chunk: Uint8Array) => void): void {
  if ('bytes' in entry) fn(entry.bytes);
  else withFile(entry.file, 'r', (fd) => readChunks(fd, 0, fs.fstatSync(fd).size, fn));
}

/**
 * Streams the entries into a zip (fixed mtime, so the same content gives the same bytes) and
 * appends the container hash as the archive comment. Returns the bytes written.
 */
function writeZip(entries: readonly PackEntry[], fd: number): number {
  const mtime = new Date('2000-01-01T00:00:00Z');
  const hash = createHash('sha256');
  let written = 0;
  let failure: Error | null = null;
  // The last 22 bytes fflate emits are the end-of-central-directory record (it writes no archive
  // comment); they are held back until the end, to set the comment's length in them.
  let held: Uint8Array = new Uint8Array(0);
  const emit = (bytes: Uint8Array) => {
    hash.update(bytes);
    writeAll(fd, bytes);
    written += bytes.length;
  };
  const zip = new Zip((error, chunk) => {
    if (error) {
      failure = error;
      return;
    }
    const joined = new Uint8Array(held.length + chunk.length);
    joined.set(held);
    joined.set(chunk, held.length);
    const cut = Math.max(0, joined.length - 22);
    if (cut > 0) emit(joined.subarray(0, cut));
    held = joined.slice(cut);
  });
  for (const entry of entries) {
    // .bin shards, the checkpoint and PNGs are float or compressed data that barely compress; store them.
    const file = /\.(bin|safetensors|png)$/.test(entry.path)
      ? new ZipPassThrough(entry.path)
      : new ZipDeflate(entry.path, { level: 6 });
    file.mtime = mtime;
    zip.add(file);
    eachChunkOf(entry, (chunk) => file.push(chunk, false));
    file.push(new Uint8Array(0), true);
    if (failure) throw failure;
  }
  zip.end();
  if (failure) throw failure;
  const eocd = new DataView(held.buffer, held.byteOffset, held.byteLength);
  if (held.length !== 22 || eocd.getUint32(0, true) !== END_RECORD) throw new Error('zip writer: unexpected layout');
  const commentLength = Buffer.byteLength(ZIP_COMMENT_PREFIX) + 64;
  eocd.setUint16(20, commentLength, true);
  emit(held);
  const comment = Buffer.from(`${ZIP_COMMENT_PREFIX}${hash.digest('hex')}`, 'latin1');
  writeAll(fd, comment);
  return written + comment.length;
}

// ---- unpacking ----------------------------------------------------------------------------------

/**
 * Unpacks a bundle folder or zip into a new staging folder under `stagingParent` and verifies it:
 * the zip's container hash, manifest.sha256, the manifest's format, and every file's size and
 * hash; no unlisted files. Throws BundleError naming the problem (messages name `source`, never
 * the staging folder), and then leaves no staging folder behind.
 */
export function unpackBundle(source: string, stagingParent: string): UnpackedBundle {
  const path = resolve(source);
  if (!fs.existsSync(path)) throw new BundleError(`${path} does not exist.`);
  fs.mkdirSync(stagingParent, { recursive: true });
  const staging = fs.mkdtempSync(join(stagingParent, '.import-'));
  try {
    const listing = fs.statSync(path).isDirectory() ? unpackFolder(path, staging) : unpackZip(path, staging);
    return { staging, manifest: verifyListing(listing, staging, path) };
  } catch (error) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/** Counts unpacked bytes against MAX_BUNDLE_UNPACKED_BYTES as they come. */
class UnpackBudget {
  private total = 0;
  constructor(private readonly label: string) {}
  add(bytes: number): void {
    this.total += bytes;
    if (this.total > MAX_BUNDLE_UNPACKED_BYTES)
      throw new BundleError(
        `${this.label}: its files would unpack to more than the limit of ${MAX_BUNDLE_UNPACKED_BYTES} bytes; not a bundle this app wrote.`,
      );
  }
}

type Listing = Map<string, { size: number; sha256: string }>;

/** Copies (and hashes) every file of a bundle folder; links and other non-files are refused. */
function unpackFolder(root: string, staging: string): Listing {
  const listing: Listing = new Map();
  const budget = new UnpackBudget(root);
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      const name = relative(root, full).split(sep).join('/');
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        const out = join(staging, ...name.split('/'));
        fs.mkdirSync(dirname(out), { recursive: true });
        const hash = createHash('sha256');
        let size = 0;
        withFile(out, 'wx', (target) =>
          withFile(full, 'r', (fd) =>
            readChunks(fd, 0, fs.fstatSync(fd).size, (chunk) => {
              budget.add(chunk.length);
              size += chunk.length;
              hash.update(chunk);
              writeAll(target, chunk);
            }),
          ),
        );
        listing.set(name, { size, sha256: hash.digest('hex') });
      } else
        throw new BundleError(`${root}: ${name} is neither a file nor a folder (links are not allowed in a bundle).`);
    }
  };
  walk(root);
  return listing;
}

interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  localHeader: number;
}

/** Unpacks a zip by its central directory, entry by entry, in chunks; the container hash is checked first. */
function unpackZip(file: string, staging: string): Listing {
  return withFile(file, 'r', (fd) => {
    const size = fs.fstatSync(fd).size;
    if (size > MAX_BUNDLE_BYTES) throw new BundleError(`${file}: ${size} bytes; not a bundle this app wrote.`);
    const head = Buffer.alloc(4);
    if (size >= 4) fs.readSync(fd, head, 0, 4, 0);
    if (size < 22 || head.readUInt32LE(0) !== LOCAL_HEADER) {
      throw new BundleError(
        `${file} is not a zip file nor a bundle folder${size < 22 ? ' (it is too short; truncated?)' : ''}.`,
      );
    }
    const end = findEndRecord(fd, size, file);
    const entries = readCentralDirectory(fd, end, file);
    // Refuse a zip whose entries declare more than a bundle can hold (a zip bomb) before inflating anything.
    const declared = new UnpackBudget(file);
    for (const entry of entries) declared.add(entry.size);
    const inflated = new UnpackBudget(file);
    const listing: Listing = new Map();
    for (const entry of entries) {
      if (entry.name.endsWith('/')) continue; // folder entries of zips made by other tools
      if (!isSafeBundlePath(entry.name))
        throw new BundleError(`${file}: the zip holds an unsafe path '${entry.name}'.`);
      listing.set(
        entry.name,
        unpackEntry(fd, entry, end.centralDirectory, join(staging, ...entry.name.split('/')), inflated, file),
      );
    }
    return listing;
  });
}

/** The end-of-central-directory record; when it carries our comment, the container hash is checked. */
function findEndRecord(
  fd: number,
  size: number,
  file: string,
): { at: number; entries: number; centralDirectory: number; centralSize: number } {
  const tailStart = Math.max(0, size - 22 - 65535);
  const tail = Buffer.alloc(size - tailStart);
  fs.readSync(fd, tail, 0, tail.length, tailStart);
  for (let at = tail.length - 22; at >= 0; at--) {
    if (tail.readUInt32LE(at) !== END_RECORD) continue;
    const commentLength = tail.readUInt16LE(at + 20);
    if (at + 22 + commentLength !== tail.length) continue;
    if (commentLength > 0) {
      const comment = tail.subarray(at + 22).toString('latin1');
      const expected = comment.startsWith(ZIP_COMMENT_PREFIX) ? comment.slice(ZIP_COMMENT_PREFIX.length) : null;
      if (expected === null || !/^[0-9a-f]{64}$/.test(expected)) {
        throw new BundleError(
          `${file}: the zip's comment is not a ${BUNDLE_FORMAT} checksum; the file is corrupt or not a bundle.`,
        );
      }
      const hash = createHash('sha256');
      readChunks(fd, 0, tailStart + at + 22, (chunk) => hash.update(chunk));
      if (hash.digest('hex') !== expected) {
        throw new BundleError(
          `${file}: checksum mismatch: the zip was changed or damaged after export (sha256 of its bytes differs from the one recorded in it).`,
        );
      }
    }
    // A zip made by another tool has no comment: the per-file hashes still apply.
    return {
      at: tailStart + at,
      entries: tail.readUInt16LE(at + 10),
      centralSize: tail.readUInt32LE(at + 12),
      centralDirectory: tail.readUInt32LE(at + 16),
    };
  }
  throw new BundleError(`${file}: no zip end record found; the file is truncated or corrupt.`);
}

function readCentralDirectory(
  fd: number,
  end: { at: number; entries: number; centralDirectory: number; centralSize: number },
  file: string,
): ZipEntry[] {
  const corrupt = (what: string) =>
    new BundleError(`${file}: not a readable zip (${what}); it may be truncated or corrupt.`);
  if (end.centralDirectory + end.centralSize > end.at) throw corrupt('central directory out of place');
  const directory = Buffer.alloc(end.centralSize);
  fs.readSync(fd, directory, 0, directory.length, end.centralDirectory);
  const entries: ZipEntry[] = [];
  let at = 0;
  for (let i = 0; i < end.entries; i++) {
    if (at + 46 > directory.length || directory.readUInt32LE(at) !== CENTRAL_HEADER)
      throw corrupt('bad central directory');
    const nameLength = directory.readUInt16LE(at + 28);
    const entry: ZipEntry = {
      flags: directory.readUInt16LE(at + 8),
      method: directory.readUInt16LE(at + 10),
      compressedSize: directory.readUInt32LE(at + 20),
      size: directory.readUInt32LE(at + 24),
      localHeader: directory.readUInt32LE(at + 42),
      name: directory.subarray(at + 46, at + 46 + nameLength).toString('utf8'),
    };
    if (entry.compressedSize === 0xffffffff || entry.size === 0xffffffff || entry.localHeader === 0xffffffff)
      throw new BundleError(`${file}: a zip64 entry (${entry.name}); not a bundle this app wrote.`);
    // A second config.json must not replace the first (unzip tools show the first; issue #13).
    if (entries.some((e) => e.name === entry.name))
      throw new BundleError(`${file}: the zip holds ${entry.name} twice; a bundle lists each file once`);
    entries.push(entry);
    at += 46 + nameLength + directory.readUInt16LE(at + 30) + directory.readUInt16LE(at + 32);
  }
  return entries;
}

/** Inflates (or copies) one entry into `out` in chunks, hashing it and counting its bytes. */
function unpackEntry(
  fd: number,
  entry: ZipEntry,
  dataEnd: number,
  out: string,
  budget: UnpackBudget,
  file: string,
): { size: number; sha256: string } {
  const corrupt = (what: string) =>
    new BundleError(`${file}: not a readable zip (${what}); it may be truncated or corrupt.`);
  if (entry.flags & 1) throw new BundleError(`${file}: ${entry.name} is encrypted; not a bundle this app wrote.`);
  if (entry.method !== 0 && entry.method !== 8) throw corrupt(`${entry.name}: compression method ${entry.method}`);
  const header = Buffer.alloc(30);
  fs.readSync(fd, header, 0, 30, entry.localHeader);
  if (header.readUInt32LE(0) !== LOCAL_HEADER) throw corrupt(`${entry.name}: no local header`);
  const start = entry.localHeader + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  if (start + entry.compressedSize > dataEnd) throw corrupt(`${entry.name}: data out of place`);
  fs.mkdirSync(dirname(out), { recursive: true });
  const hash = createHash('sha256');
  let size = 0;
  withFile(out, 'wx', (target) => {
    const sink = (chunk: Uint8Array) => {
      size += chunk.length;
      if (size > entry.size) throw corrupt(`${entry.name} unpacks to more than its declared ${entry.size} bytes`);
      budget.add(chunk.length);
      hash.update(chunk);
      writeAll(target, chunk);
    };
    if (entry.method === 0) {
      readChunks(fd, start, start + entry.compressedSize, sink);
      return;
    }
    const inflate = new Inflate((chunk) => sink(chunk));
    try {
      // Small pushes keep each inflated chunk small, whatever the compression ratio (memory stays bounded).
      readChunks(fd, start, start + entry.compressedSize, (chunk) => {
        for (let at = 0; at < chunk.length; at += INFLATE_INPUT_CHUNK)
          inflate.push(chunk.subarray(at, at + INFLATE_INPUT_CHUNK), false);
      });
      inflate.push(new Uint8Array(0), true);
    } catch (error) {
      if (error instanceof BundleError) throw error;
      throw corrupt(`${entry.name}: ${(error as Error).message}`);
    }
  });
  if (size !== entry.size) throw corrupt(`${entry.name} is ${size} bytes, its zip entry says ${entry.size}`);
  return { size, sha256: hash.digest('hex') };
}

// ---- verification -------------------------------------------------------------------------------

/** Checks manifest.sha256, the manifest's format, and every file's size and hash against `listing`; no unlisted files. */
export function verifyListing(listing: Listing, staging: string, label: string): BundleManifest {
  const read = (name: string): Buffer | null => {
    const entry = listing.get(name);
    if (!entry) return null;
    if (entry.size > MAX_MANIFEST_BYTES)
      throw new BundleError(`${label}: ${name} is ${entry.size} bytes; not a bundle this app wrote.`);
    return fs.readFileSync(join(staging, name));
  };
  const manifestBytes = read(MANIFEST_FILE);
  if (!manifestBytes) throw new BundleError(`${label} is not a VAE Workbench bundle: it has no ${MANIFEST_FILE}.`);
  const hashLine = read(MANIFEST_HASH_FILE);
  if (!hashLine) throw new BundleError(`${label}: ${MANIFEST_HASH_FILE} is missing; the bundle is incomplete.`);
  const recorded = /^([0-9a-f]{64}) {2}manifest\.json\n?$/.exec(hashLine.toString('utf8'));
  if (!recorded) throw new BundleError(`${label}: ${MANIFEST_HASH_FILE} is malformed; the bundle is corrupt.`);
  if (listing.get(MANIFEST_FILE)!.sha256 !== recorded[1])
    throw new BundleError(
      `${label}: ${MANIFEST_FILE} does not match its sha256 in ${MANIFEST_HASH_FILE}; the bundle is corrupt or was edited.`,
    );
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(manifestBytes.toString('utf8')) as BundleManifest;
  } catch {
    throw new BundleError(`${label}: ${MANIFEST_FILE} is not valid JSON.`);
  }
  if (manifest?.format !== BUNDLE_FORMAT)
    throw new BundleError(`${label} is not a VAE Workbench bundle (format '${String(manifest?.format)}').`);
  if (!Number.isInteger(manifest.formatVersion) || manifest.formatVersion > BUNDLE_FORMAT_VERSION) {
    throw new BundleError(
      `${label}: bundle format version ${manifest.formatVersion} is newer than this app reads (${BUNDLE_FORMAT_VERSION}); update VAE Workbench.`,
    );
  }
  if (!Array.isArray(manifest.files)) throw new BundleError(`${label}: ${MANIFEST_FILE} lists no files.`);
  const listed = new Set<string>();
  for (const entry of manifest.files) {
    if (typeof entry?.path !== 'string' || !isSafeBundlePath(entry.path))
      throw new BundleError(`${label}: ${MANIFEST_FILE} names an unsafe path '${String(entry?.path)}'.`);
    const content = listing.get(entry.path);
    if (!content)
      throw new BundleError(`${label}: ${entry.path} is listed in the manifest but missing; the bundle is incomplete.`);
    if (content.size !== entry.size)
      throw new BundleError(
        `${label}: ${entry.path} is ${content.size} bytes, the manifest says ${entry.size}; the file is truncated or corrupt.`,
      );
    if (content.sha256 !== entry.sha256)
      throw new BundleError(
        `${label}: ${entry.path} does not match its sha256 in the manifest; the file is corrupt or was edited.`,
      );
    listed.add(entry.path);
  }
  const extra = [...listing.keys()].filter(
    (path) => path !== MANIFEST_FILE && path !== MANIFEST_HASH_FILE && !listed.has(path),
  );
  if (extra.length > 0)
    throw new BundleError(
      `${label}: files not listed in the manifest: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', ...' : ''}.`,
    );
  return manifest;
}

// ---- the checkpoint's header ----------------------------------------------------------------------

/**
 * The step a safetensors checkpoint was taken at, read from its header alone (the tensors stay on
 * disk), checked as every safetensors header is (data/safetensors.ts).
 */
export function checkpointStep(file: string, label: string): number {
  return withFile(file, 'r', (fd) => {
    const size = fs.fstatSync(fd).size;
    const refuse = (what: string) => new BundleError(`${label}: ${what}`);
    const first = Buffer.alloc(8);
    fs.readSync(fd, first, 0, 8, 0);
    const head = Buffer.alloc(8 + safetensorsHeaderLength(first, size, refuse));
    first.copy(head);
    let at = 8;
    readChunks(fd, 8, head.length, (chunk) => {
      head.set(chunk, at);
      at += chunk.length;
    });
    return Number(parseSafetensorsHeader(head, size, refuse).metadata.step);
  });
}
