// The bundle container on its own: sealing, zip and folder round trips, and refusal of every
// single-byte change, without training anything.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import {
  BundleError,
  filesFromZip,
  isSafeBundlePath,
  readBundle,
  sealBundle,
  verifyBundle,
  writeBundle,
  zipBundle,
  type BundleFiles,
} from '../../../src-main/workbench/exchange/bundle';
import { csvToMetrics, metricsToCsv } from '../../../src-main/workbench/exchange/csv';

const temp = mkdtempSync(join(tmpdir(), 'vaewb-bundle-'));

function sample(): BundleFiles {
  const files: BundleFiles = new Map([
    ['config.json', Buffer.from('{"model":{}}\n')],
    ['metrics.csv', Buffer.from('name,step,epoch,value,wall_time\ntrain/loss,1,0,0.5,1\n')],
    ['tfjs/decoder/group1-shard1of1.bin', Uint8Array.from({ length: 64 }, (_, i) => i * 3)],
  ]);
  sealBundle(files, {
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
  });
  return files;
}

describe('bundle container', () => {
  it('round-trips through a zip and a folder, listing every file with its sha256', () => {
    const files = sample();
    const zip = writeBundle(files, join(temp, 'a.zip'));
    const folder = writeBundle(files, join(temp, 'a'));
    for (const path of [zip.path, folder.path]) {
      const read = readBundle(path);
      expect([...read.files.keys()].sort()).toEqual([...files.keys()].sort());
      expect(read.manifest.files.map((f) => f.path)).toEqual([
        'config.json',
        'metrics.csv',
        'tfjs/decoder/group1-shard1of1.bin',
      ]);
    }
    expect(readFileSync(join(folder.path, 'manifest.sha256'), 'utf8')).toMatch(/^[0-9a-f]{64} {2}manifest\.json\n$/);
    expect(() => writeBundle(files, join(temp, 'a.zip'))).toThrow(/already exists/);
  });

  it('refuses a zip with any one byte flipped', () => {
    const zip = zipBundle(sample());
    expect(filesFromZip(zip, 'ok.zip').size).toBe(5);
    const accepted: number[] = [];
    for (let at = 0; at < zip.length; at++) {
      const flipped = new Uint8Array(zip);
      flipped[at] ^= 0x04;
      try {
        verifyBundle(filesFromZip(flipped, 'x.zip'), 'x.zip');
        accepted.push(at);
      } catch (error) {
        expect(error).toBeInstanceOf(BundleError);
      }
    }
    expect(accepted).toEqual([]);
  });

  it('refuses a folder whose manifest was edited, a missing or extra file, and unsafe paths', () => {
    const files = sample();
    const edited = new Map(files);
    edited.set(
      'manifest.json',
      Buffer.from(
        Buffer.from(files.get('manifest.json')!).toString().replace('"appVersion": "test"', '"appVersion": "tesT"'),
      ),
    );
    expect(() => verifyBundle(edited, 'b')).toThrow(/manifest\.json does not match its sha256/);
    const missing = new Map(files);
    missing.delete('metrics.csv');
    expect(() => verifyBundle(missing, 'b')).toThrow(/metrics\.csv is listed in the manifest but missing/);
    const extra = new Map(files);
    extra.set('evil.sh', Buffer.from('rm -rf /'));
    expect(() => verifyBundle(extra, 'b')).toThrow(/files not listed in the manifest: evil\.sh/);
    expect(() => verifyBundle(new Map([['x', Buffer.from('y')]]), 'b')).toThrow(
      /not a VAE Workbench bundle: it has no manifest\.json/,
    );
    for (const bad of ['../x', '/etc/passwd', 'a//b', 'a\\b', './a', ''])
      expect(isSafeBundlePath(bad), bad).toBe(false);
    expect(isSafeBundlePath('tfjs/decoder/model.json')).toBe(true);
  });

  it('accepts the same files zipped by another tool (no archive checksum), still checking every file', () => {
    const files = sample();
    const plain = zipSync(Object.fromEntries(files));
    writeFileSync(join(temp, 'rezipped.zip'), plain);
    expect(readBundle(join(temp, 'rezipped.zip')).manifest.run.id).toBe('abcd1234');
    const flipped = new Uint8Array(plain);
    flipped[plain.indexOf(0x7b)] ^= 0x01; // a byte of config.json's content (stored uncompressed? either way: a hash or inflate failure)
    writeFileSync(join(temp, 'rezipped-bad.zip'), flipped);
    expect(() => readBundle(join(temp, 'rezipped-bad.zip'))).toThrow(BundleError);
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
    expect(() => filesFromZip(zip, 'bomb.zip')).toThrow(/bomb\.zip: its files would unpack to more than \d+ bytes/);
  });
});
