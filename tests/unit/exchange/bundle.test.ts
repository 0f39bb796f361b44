// The bundle container on its own: sealing, zip and folder round trips, and refusal of every
// single-byte change, without training anything.
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import {
  BundleError,
  isSafeBundlePath,
  MAX_BUNDLE_BYTES,
  packBundle,
  unpackBundle,
  type BundleManifest,
  type PackEntry,
} from '../../../src-main/workbench/exchange/bundle';
import { bundleThread } from '../../../src-main/workbench/exchange/bundleThread';
import { csvToMetrics, metricsToCsv } from '../../../src-main/workbench/exchange/csv';

const temp = mkdtempSync(join(tmpdir(), 'vaewb-bundle-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const staging = join(temp, 'staging');
let counter = 0;
const fresh = (name: string) => join(temp, `${counter++}-${name}`);

const MANIFEST: Omit<BundleManifest, 'files'> = {
  format: 'vae-workbench-bundle',
  formatVersion: 1,
  appVersion: 'test',
  createdAt: '2026-01-01T00:00:00Z',
  run: { id: 'abcd1234', name: 'r', status: 'completed' },
  dataset: { name: 'mnist', hash: null },
  backend: 'cpu',
  inputShape: [28, 28, 1],
  checkpoint: { step: 1, epoch: 0, kind: 'latest', sha256: '0'.repeat(64), path: 'checkpoint.safetensors' },
  networks: {},
};

function sample(): PackEntry[] {
  return [
    { path: 'config.json', bytes: Buffer.from('{"model":{}}\n') },
    { path: 'metrics.csv', bytes: Buffer.from('name,step,epoch,value,wall_time\ntrain/loss,1,0,0.5,1\n') },
    { path: 'tfjs/decoder/group1-shard1of1.bin', bytes: Uint8Array.from({ length: 64 }, (_, i) => i * 3) },
  ];
}

/** Every file under a folder, relative, sorted. */
const listFiles = (dir: string) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1))
    .sort();

describe('bundle container', () => {
  it('round-trips through a zip and a folder, listing every file with its sha256', () => {
    const zip = packBundle(sample(), MANIFEST, fresh('a.zip'));
    const folder = packBundle(sample(), MANIFEST, fresh('a'));
    expect(zip.files).toEqual(folder.files);
    for (const path of [zip.path, folder.path]) {
      const read = unpackBundle(path, staging);
      expect(listFiles(read.staging)).toEqual([
        'config.json',
        'manifest.json',
        'manifest.sha256',
        'metrics.csv',
        'tfjs/decoder/group1-shard1of1.bin',
      ]);
      expect(read.manifest.files.map((f) => f.path)).toEqual([
        'config.json',
        'metrics.csv',
        'tfjs/decoder/group1-shard1of1.bin',
      ]);
      expect(readFileSync(join(read.staging, 'tfjs/decoder/group1-shard1of1.bin'))).toEqual(
        Buffer.from(Uint8Array.from({ length: 64 }, (_, i) => i * 3)),
      );
    }
    expect(readFileSync(join(folder.path, 'manifest.sha256'), 'utf8')).toMatch(/^[0-9a-f]{64} {2}manifest\.json\n$/);
    expect(() => packBundle(sample(), MANIFEST, zip.path)).toThrow(/already exists/);
    // The same content gives the same bytes.
    expect(readFileSync(packBundle(sample(), MANIFEST, fresh('b.zip')).path)).toEqual(readFileSync(zip.path));
  });

  it('streams a file entry from disk and runs in the bundle worker with its errors typed', async () => {
    const big = fresh('big.bin');
    const bytes = Uint8Array.from({ length: 3 * 1024 ** 2 + 17 }, (_, i) => (i * 2654435761) >>> 24);
    writeFileSync(big, bytes);
    const packed = await bundleThread.call(
      'packBundle',
      [...sample(), { path: 'checkpoint.safetensors', file: big }],
      MANIFEST,
      fresh('big.zip'),
    );
    expect(packed.files.find((f) => f.path === 'checkpoint.safetensors')).toMatchObject({ size: bytes.length });
    expect((await bundleThread.call('hashFile', big)).sha256).toBe(
      packed.files.find((f) => f.path === 'checkpoint.safetensors')!.sha256,
    );
    const read = await bundleThread.call('unpackBundle', packed.path, staging);
    expect(readFileSync(join(read.staging, 'checkpoint.safetensors')).equals(bytes)).toBe(true);
    const error = await bundleThread.call('unpackBundle', big, staging).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BundleError);
    expect((error as Error).message).toMatch(/is not a zip file nor a bundle folder/);
  });

  it('refuses a zip with any one byte flipped, and leaves no staging folder behind', () => {
    const zip = readFileSync(packBundle(sample(), MANIFEST, fresh('ok.zip')).path);
    const refusals = join(temp, 'refusals');
    const accepted: number[] = [];
    const file = fresh('x.zip');
    for (let at = 0; at < zip.length; at++) {
      const flipped = new Uint8Array(zip);
      flipped[at] ^= 0x04;
      writeFileSync(file, flipped);
      try {
        unpackBundle(file, refusals);
        accepted.push(at);
      } catch (error) {
        expect(error).toBeInstanceOf(BundleError);
      }
    }
    expect(accepted).toEqual([]);
    expect(readdirSync(refusals)).toEqual([]);
  });

  it('refuses a folder whose manifest was edited, a missing or extra file, and unsafe paths', () => {
    const good = packBundle(sample(), MANIFEST, fresh('good')).path;
    const variant = (change: (dir: string) => void) => {
      const dir = fresh('variant');
      cpSync(good, dir, { recursive: true });
      change(dir);
      return () => unpackBundle(dir, staging);
    };
    const edited = variant((dir) =>
      writeFileSync(
        join(dir, 'manifest.json'),
        readFileSync(join(dir, 'manifest.json'), 'utf8').replace('"appVersion": "test"', '"appVersion": "tesT"'),
      ),
    );
    expect(edited).toThrow(/manifest\.json does not match its sha256/);
    expect(variant((dir) => writeFileSync(join(dir, 'metrics.csv'), 'x'))).toThrow(/metrics\.csv is 1 bytes/);
    const missing = variant((dir) => cpSync(join(dir, 'config.json'), join(dir, 'config.json.bak')));
    expect(missing).toThrow(/files not listed in the manifest: config\.json\.bak/);
    const noManifest = fresh('plain');
    mkdirSync(noManifest);
    writeFileSync(join(noManifest, 'x'), 'y');
    expect(() => unpackBundle(noManifest, staging)).toThrow(/not a VAE Workbench bundle: it has no manifest\.json/);
    for (const bad of ['../x', '/etc/passwd', 'a//b', 'a\\b', './a', ''])
      expect(isSafeBundlePath(bad), bad).toBe(false);
    expect(isSafeBundlePath('tfjs/decoder/model.json')).toBe(true);
  });

  it('accepts the same files zipped by another tool (no archive checksum), still checking every file', () => {
    const folder = packBundle(sample(), MANIFEST, fresh('plain-source')).path;
    const files = Object.fromEntries(
      listFiles(folder).map((name) => [name, new Uint8Array(readFileSync(join(folder, name)))]),
    );
    const plain = zipSync(files);
    const rezipped = fresh('rezipped.zip');
    writeFileSync(rezipped, plain);
    expect(unpackBundle(rezipped, staging).manifest.run.id).toBe('abcd1234');
    // Stored, not deflated, so the flipped byte is certainly inside config.json's content (the first
    // '{' of a deflated zip may fall in a header field no hash covers): its sha256 no longer matches.
    const flipped = zipSync(files, { level: 0 });
    const at = Buffer.from(flipped).indexOf(Buffer.from(readFileSync(join(folder, 'config.json'))));
    expect(at).toBeGreaterThan(0);
    flipped[at + 1] ^= 0x01;
    const bad = fresh('rezipped-bad.zip');
    writeFileSync(bad, flipped);
    expect(() => unpackBundle(bad, staging)).toThrow(BundleError);
    const unsafe = fresh('unsafe.zip');
    writeFileSync(unsafe, zipSync({ ...files, '../escape.txt': new Uint8Array(1) }));
    expect(() => unpackBundle(unsafe, staging)).toThrow(/unsafe path '\.\.\/escape\.txt'/);
  });
});

describe('metrics.csv', () => {
  it('gives back exactly the stored doubles', () => {
    const points = [
      { name: 'train/loss', step: 1, epoch: 0, value: 0.1 + 0.2, wallTime: 1_700_000_000_123.5 },
      { name: 'odd,"name"', step: 2, epoch: 1, value: -5e-324, wallTime: 1 },
      { name: 'test/elbo', step: 3, epoch: 1, value: -1.7976931348623157e308, wallTime: 2 },
    ];
    expect(csvToMetrics(metricsToCsv(points))).toEqual(points);
    expect(() => csvToMetrics('name,step\n')).toThrow(/expected the header/);
    expect(() => csvToMetrics(`${metricsToCsv([])}x,1,0,NaN,1\n`)).toThrow(/line 2: not a valid point/);
  });
});

describe('zip bombs', () => {
  it('refuses a zip whose entries declare more than a bundle can hold, before inflating them', () => {
    const zip = zipSync({ 'a.bin': new Uint8Array(64), 'b.bin': new Uint8Array(64) });
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    let patched = 0;
    for (let i = 0; i + 4 <= zip.length; i++) {
      if (view.getUint32(i, true) === 0x02014b50) {
        view.setUint32(i + 24, 0xf0000000, true); // central directory: uncompressed size
        patched++;
      }
    }
    expect(patched).toBe(2);
    const bomb = fresh('bomb.zip');
    writeFileSync(bomb, zip);
    expect(() => unpackBundle(bomb, staging)).toThrow(
      /bomb\.zip: its files would unpack to more than the limit of \d+ bytes/,
    );
  });

  it('counts inflated bytes as they stream: an entry that inflates past its declared size is refused', () => {
    // 1 MiB of zeros deflates to about a kilobyte; its central directory entry is made to say 1000 bytes.
    const zip = zipSync({ 'a.bin': new Uint8Array(1024 ** 2) }, { level: 9 });
    const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
    for (let i = 0; i + 4 <= zip.length; i++)
      if (view.getUint32(i, true) === 0x02014b50) view.setUint32(i + 24, 1000, true);
    const lying = fresh('lying.zip');
    writeFileSync(lying, zip);
    expect(() => unpackBundle(lying, staging)).toThrow(/a\.bin unpacks to more than its declared 1000 bytes/);
    expect(MAX_BUNDLE_BYTES).toBe(4 * 1024 ** 3);
  });
});
