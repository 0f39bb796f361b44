// Bundles built in memory, for tests that tamper with one file and seal the result again: the
// manifest with every file's size and sha256, and the zip with its container hash as the archive
// comment, in the format exchange/bundle.ts writes (and reads, streaming).
import { createHash } from 'node:crypto';
import { zipSync } from 'fflate';
import {
  BUNDLE_FORMAT,
  MANIFEST_FILE,
  MANIFEST_HASH_FILE,
  type BundleFileEntry,
  type BundleManifest,
} from '../../src-main/workbench/exchange/bundle';

export type BundleFiles = Map<string, Uint8Array>;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

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

/** The files as one zip, the container hash appended as the archive comment. */
export function zipBundle(files: BundleFiles): Uint8Array {
  const input: Record<string, [Uint8Array, { level: 0 | 6; mtime: Date }]> = {};
  const mtime = new Date('2000-01-01T00:00:00Z');
  for (const [path, content] of files) input[path] = [content, { level: 6, mtime }];
  const zipped = zipSync(input);
  const eocd = zipped.length - 22;
  const prefix = `${BUNDLE_FORMAT} sha256=`;
  const commentLength = Buffer.byteLength(prefix) + 64;
  const out = new Uint8Array(zipped.length + commentLength);
  out.set(zipped);
  new DataView(out.buffer).setUint16(eocd + 20, commentLength, true);
  out.set(Buffer.from(`${prefix}${sha256(out.subarray(0, zipped.length))}`, 'latin1'), zipped.length);
  return out;
}
