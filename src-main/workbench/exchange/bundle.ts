// The bundle container: a folder or a .zip holding a run (see README-style layout in index.ts).
// Writing: files are collected in memory, hashed, listed in manifest.json, and manifest.json is
// itself hashed into manifest.sha256 (sha256sum format, so `sha256sum -c manifest.sha256` works).
// A zip additionally carries, as its archive comment, the sha256 of every byte before the comment,
// so not one byte of the container can change unnoticed (zip headers included).
// Reading verifies all of that before anything else looks at the content. No tfjs, no store.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { unzipSync, zipSync } from 'fflate';
import { checkUniqueZipEntries } from './validate';

export const BUNDLE_FORMAT = 'vae-workbench-bundle';
export const BUNDLE_FORMAT_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_HASH_FILE = 'manifest.sha256';
const ZIP_COMMENT_PREFIX = `${BUNDLE_FORMAT} sha256=`;
/** A bundle bigger than this is refused on import before reading it (guards memory). */
const MAX_BUNDLE_BYTES = 4 * 1024 ** 3;

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

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A relative path inside a bundle: forward slashes, no '..', no absolute paths, no empty parts. */
export function isSafeBundlePath(path: string): boolean {
  if (path.length === 0 || path.length > 400 || path.startsWith('/') || path.includes('\\') || path.includes('\0'))
    return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

/** Files of a bundle, by relative path. */
export type BundleFiles = Map<string, Uint8Array>;

/** Adds the manifest (with every file's size and sha256) and manifest.sha256 to `files`. */
export function sealBundle(files: BundleFiles, manifest: Omit<BundleManifest, 'files'>): BundleManifest {
  const entries: BundleFileEntry[] = [...files]
    .filter(([path]) => path !== MANIFEST_FILE && path !== MANIFEST_HASH_FILE)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, bytes]) => ({ path, size: bytes.length, sha256: sha256(bytes) }));
  const full: BundleManifest = { ...manifest, files: entries };
  const manifestBytes = Buffer.from(`${JSON.stringify(full, null, 2)}\n`, 'utf8');
  files.set(MANIFEST_FILE, manifestBytes);
  files.set(MANIFEST_HASH_FILE, Buffer.from(`${sha256(manifestBytes)}  ${MANIFEST_FILE}\n`, 'utf8'));
  return full;
}

/** Writes a sealed bundle as a folder or (path ending in .zip) a zip; atomic: a temporary name, then rename. */
export function writeBundle(
  files: BundleFiles,
  out: string,
): { path: string; format: 'zip' | 'folder'; bytes: number } {
  const target = resolve(out);
  const format = target.toLowerCase().endsWith('.zip') ? 'zip' : 'folder';
  if (
    existsSync(target) &&
    !(format === 'folder' && statSync(target).isDirectory() && readdirSync(target).length === 0)
  ) {
    throw new BundleError(`${target} already exists; choose another path or remove it first.`);
  }
  mkdirSync(dirname(target), { recursive: true });
  const temporary = join(dirname(target), `.${basename(target)}.tmp-${process.pid}-${Date.now()}`);
  let bytes = 0;
  try {
    if (format === 'zip') {
      const zipped = zipBundle(files);
      writeFileSync(temporary, zipped);
      bytes = zipped.length;
    } else {
      for (const [path, content] of files) {
        const file = join(temporary, ...path.split('/'));
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, content);
        bytes += content.length;
      }
      if (existsSync(target)) rmSync(target, { recursive: true, force: true }); // the empty folder
    }
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
  return { path: target, format, bytes };
}

/** Zips the files (fixed mtime, so the same content gives the same bytes) and appends the container hash as archive comment. */
export function zipBundle(files: BundleFiles): Uint8Array {
  const input: Record<string, [Uint8Array, { level: 0 | 6; mtime: Date }]> = {};
  const mtime = new Date('2000-01-01T00:00:00Z');
  for (const [path, content] of files) {
    // .bin shards and the checkpoint are float data that barely compress; store them.
    const level = /\.(bin|safetensors|png)$/.test(path) ? 0 : 6;
    input[path] = [content, { level, mtime }];
  }
  const zipped = zipSync(input);
  // fflate writes no archive comment: the end-of-central-directory record is the last 22 bytes.
  const eocd = zipped.length - 22;
  if (new DataView(zipped.buffer, zipped.byteOffset).getUint32(eocd, true) !== 0x06054b50)
    throw new Error('zip writer: unexpected layout');
  const commentLength = Buffer.byteLength(ZIP_COMMENT_PREFIX) + 64;
  const out = new Uint8Array(zipped.length + commentLength);
  out.set(zipped);
  new DataView(out.buffer).setUint16(eocd + 20, commentLength, true);
  const covered = out.subarray(0, zipped.length);
  out.set(Buffer.from(`${ZIP_COMMENT_PREFIX}${sha256(covered)}`, 'latin1'), zipped.length);
  return out;
}

/** Reads and verifies a bundle folder or zip. Throws BundleError naming the problem; reads only. */
export function readBundle(path: string): { files: BundleFiles; manifest: BundleManifest } {
  const source = resolve(path);
  if (!existsSync(source)) throw new BundleError(`${source} does not exist.`);
  const files = statSync(source).isDirectory() ? readFolder(source) : readZip(source);
  return { files, manifest: verifyBundle(files, source) };
}

function readFolder(root: string): BundleFiles {
  const files: BundleFiles = new Map();
  let total = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        total += statSync(full).size;
        if (total > MAX_BUNDLE_BYTES)
          throw new BundleError(`${root}: more than ${MAX_BUNDLE_BYTES} bytes; not a bundle this app wrote.`);
        files.set(relative(root, full).split(sep).join('/'), new Uint8Array(readFileSync(full)));
      } else
        throw new BundleError(
          `${root}: ${relative(root, full)} is neither a file nor a folder (links are not allowed in a bundle).`,
        );
    }
  };
  walk(root);
  return files;
}

function readZip(file: string): BundleFiles {
  const size = statSync(file).size;
  if (size > MAX_BUNDLE_BYTES) throw new BundleError(`${file}: ${size} bytes; not a bundle this app wrote.`);
  return filesFromZip(new Uint8Array(readFileSync(file)), file);
}

/** The files of a zip bundle held in memory; the container checksum is verified first. */
export function filesFromZip(bytes: Uint8Array, file: string): BundleFiles {
  checkZipContainer(bytes, file);
  checkUniqueZipEntries(bytes, file); // issue #13: a second config.json must not replace the first
  let entries: Record<string, Uint8Array>;
  // Refuse a zip whose entries would unpack to more than a bundle can hold (a zip bomb), before
  // inflating anything: fflate sizes each entry's output from its declared original size.
  let declared = 0;
  const filter = (entry: { name: string; originalSize: number }): boolean => {
    declared += entry.originalSize;
    if (declared > MAX_BUNDLE_BYTES)
      throw new BundleError(
        `${file}: its files would unpack to more than ${MAX_BUNDLE_BYTES} bytes; not a bundle this app wrote.`,
      );
    return true;
  };
  try {
    entries = unzipSync(bytes, { filter });
  } catch (error) {
    if (error instanceof BundleError) throw error;
    throw new BundleError(`${file}: not a readable zip (${(error as Error).message}); it may be truncated or corrupt.`);
  }
  const files: BundleFiles = new Map();
  for (const [name, content] of Object.entries(entries)) {
    if (name.endsWith('/')) continue; // folder entries of zips made by other tools
    files.set(name, content);
  }
  return files;
}

/** Finds the end-of-central-directory record; when it carries our comment, checks the container hash. */
function checkZipContainer(bytes: Uint8Array, file: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 22 || view.getUint32(0, true) !== 0x04034b50) {
    throw new BundleError(
      `${file} is not a zip file nor a bundle folder${bytes.length < 22 ? ' (it is too short; truncated?)' : ''}.`,
    );
  }
  for (let at = bytes.length - 22; at >= Math.max(0, bytes.length - 22 - 65535); at--) {
    if (view.getUint32(at, true) !== 0x06054b50) continue;
    const commentLength = view.getUint16(at + 20, true);
    if (at + 22 + commentLength !== bytes.length) continue;
    if (commentLength === 0) return; // a zip made by another tool: the per-file hashes still apply
    const comment = Buffer.from(bytes.subarray(at + 22)).toString('latin1');
    const expected = comment.startsWith(ZIP_COMMENT_PREFIX) ? comment.slice(ZIP_COMMENT_PREFIX.length) : null;
    if (expected === null || !/^[0-9a-f]{64}$/.test(expected)) {
      throw new BundleError(
        `${file}: the zip's comment is not a ${BUNDLE_FORMAT} checksum; the file is corrupt or not a bundle.`,
      );
    }
    if (sha256(bytes.subarray(0, at + 22)) !== expected) {
      throw new BundleError(
        `${file}: checksum mismatch: the zip was changed or damaged after export (sha256 of its bytes differs from the one recorded in it).`,
      );
    }
    return;
  }
  throw new BundleError(`${file}: no zip end record found; the file is truncated or corrupt.`);
}

/** Checks manifest.sha256, the manifest's format, and every file's size and hash; no unlisted files. */
export function verifyBundle(files: BundleFiles, label: string): BundleManifest {
  const manifestBytes = files.get(MANIFEST_FILE);
  if (!manifestBytes) throw new BundleError(`${label} is not a VAE Workbench bundle: it has no ${MANIFEST_FILE}.`);
  const hashLine = files.get(MANIFEST_HASH_FILE);
  if (!hashLine) throw new BundleError(`${label}: ${MANIFEST_HASH_FILE} is missing; the bundle is incomplete.`);
  const recorded = /^([0-9a-f]{64}) {2}manifest\.json\n?$/.exec(Buffer.from(hashLine).toString('utf8'));
  if (!recorded) throw new BundleError(`${label}: ${MANIFEST_HASH_FILE} is malformed; the bundle is corrupt.`);
  if (sha256(manifestBytes) !== recorded[1])
    throw new BundleError(
      `${label}: ${MANIFEST_FILE} does not match its sha256 in ${MANIFEST_HASH_FILE}; the bundle is corrupt or was edited.`,
    );
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(Buffer.from(manifestBytes).toString('utf8')) as BundleManifest;
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
    const content = files.get(entry.path);
    if (!content)
      throw new BundleError(`${label}: ${entry.path} is listed in the manifest but missing; the bundle is incomplete.`);
    if (content.length !== entry.size)
      throw new BundleError(
        `${label}: ${entry.path} is ${content.length} bytes, the manifest says ${entry.size}; the file is truncated or corrupt.`,
      );
    if (sha256(content) !== entry.sha256)
      throw new BundleError(
        `${label}: ${entry.path} does not match its sha256 in the manifest; the file is corrupt or was edited.`,
      );
    listed.add(entry.path);
  }
  const extra = [...files.keys()].filter(
    (path) => path !== MANIFEST_FILE && path !== MANIFEST_HASH_FILE && !listed.has(path),
  );
  if (extra.length > 0)
    throw new BundleError(
      `${label}: files not listed in the manifest: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', ...' : ''}.`,
    );
  return manifest;
}

/** The file at `path` of a verified bundle (a BundleError when the manifest lists it but it is absent). */
export function requireFile(files: BundleFiles, path: string): Uint8Array {
  const content = files.get(path);
  if (!content) throw new BundleError(`The bundle has no ${path}.`);
  return content;
}
