// Hostile data sets given to `vae-workbench train --dataset`: each is refused with a message that
// names the input and the limit, peak memory stays under 512 MB, and the database is unchanged (no
// run row: the data set is loaded before a run is created). Before issue #13 these grew the process
// to 3-6 GB, hung on a FIFO, or left a failed run behind.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, ftruncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, databaseHash, deflatedZeros, gzipOf, MEMORY_BOUND_MB, tempDir, removeTempDirs } from './helpers';

const tiny = ['--train-size', '64', '--test-size', '16', '--batch-size', '16', '--hidden', '8', '--latent-dim', '2'];
tiny.push('--epochs', '1', '--iwae-k', '2', '--iwae-examples', '4', '--grid-size', '4', '--backend', 'wasm');

let dir: string;
let db: string;
let before: string;

beforeAll(() => {
  dir = tempDir();
  db = join(dir, 'data');
  expect(cli(db, ['runs']).status).toBe(0); // an existing, empty store
  before = databaseHash(join(db, 'workbench.sqlite'));
  expect(before).not.toBe('no database');
}, 60_000);

/** `train --dataset <path>`: refused (exit 2), under the memory bound, nothing stored. */
function refused(path: string, pattern: RegExp, extra: string[] = []) {
  const result = cli(db, ['train', '--dataset', path, ...tiny, ...extra], { timeoutMs: 60_000 });
  expect(result.stderr).toMatch(pattern);
  expect(result.stderr).toContain(path);
  expect(result.status).toBe(2);
  expect(result.peakMb).toBeLessThan(MEMORY_BOUND_MB);
  expect(databaseHash(join(db, 'workbench.sqlite'))).toBe(before);
  return result;
}

/** An IDX header: ubyte images of count x height x width. */
function idxHeader(count: number, height: number, width: number): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32BE(0x00000803, 0);
  header.writeUInt32BE(count, 4);
  header.writeUInt32BE(height, 8);
  header.writeUInt32BE(width, 12);
  return header;
}

/** A PNG header of width x height grey pixels, its image data rows of zeros (a few MB inflate to 100 MB). */
async function hugePng(width: number, height: number): Promise<Buffer> {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    return Buffer.concat([length, Buffer.from(type, 'latin1'), data, Buffer.alloc(4)]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const deflated = await deflatedZeros(Math.ceil(((width + 1) * height) / 2 ** 20));
  const zlib = Buffer.concat([Buffer.from([0x78, 0xda]), deflated, Buffer.alloc(4)]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

afterAll(removeTempDirs);

describe('hostile data sets (CLI train --dataset)', () => {
  it('an .idx.gz whose header declares 60 GB is refused at the header', async () => {
    const file = join(dir, 'declares-60GB-images-idx3-ubyte.gz');
    const deflated = await deflatedZeros(64, idxHeader(60_000, 1000, 1000));
    writeFileSync(file, gzipOf(deflated, 0));
    refused(file, /declares 60000000016 bytes, over the limit of \d+ bytes/);
  }, 90_000);

  it('an .idx.gz that inflates far past the size its header declares is cut at the declared size', async () => {
    const file = join(dir, 'lies-images-idx3-ubyte.gz');
    writeFileSync(file, gzipOf(await deflatedZeros(2048, idxHeader(100, 28, 28)), 0));
    refused(file, /unpacks to more than the 78416 bytes its header declares/);
  }, 90_000);

  it('a 2 MB .gz of 2 GiB zeros (no IDX header) is refused by its magic number without inflating it', async () => {
    const file = join(dir, 'zeros.idx.gz');
    writeFileSync(file, gzipOf(await deflatedZeros(2048), 0));
    refused(file, /not an IDX file: bad magic number 0x00000000/);
  }, 90_000);

  it('/dev/zero is refused as a character device', () => {
    refused('/dev/zero', /is a character device; only regular files are read/);
  }, 90_000);

  it('a FIFO is refused at once instead of hanging the run', () => {
    const fifo = join(dir, 'pipe.idx');
    execFileSync('mkfifo', [fifo]);
    const result = refused(fifo, /is a FIFO \(named pipe\); only regular files are read/);
    expect(result.ms).toBeLessThan(30_000);
  }, 90_000);

  it('a 2 GiB .npy (a sparse file) is refused by its size before it is read', () => {
    const file = join(dir, 'big.npy');
    const fd = openSync(file, 'w');
    ftruncateSync(fd, 2 * 1024 ** 3);
    closeSync(fd);
    refused(file, /is 2147483648 bytes, over the limit of 1073741824 bytes/);
  }, 90_000);

  it('a folder of five PNGs declaring 10000x10000 pixels is refused from the header, before decoding', async () => {
    const folder = join(dir, 'huge-pngs');
    mkdirSync(folder);
    const png = await hugePng(10_000, 10_000);
    for (let i = 0; i < 5; i++) writeFileSync(join(folder, `img${i}.png`), png);
    refused(folder, /declares 10000x10000 pixels; images must have between 1 and 16777216 pixels \(the limit\)/);
  }, 90_000);

  it('a corrupt .npy is refused before a run row exists (no failed run left behind)', () => {
    const file = join(dir, 'digits.npy');
    writeFileSync(file, 'this is not a numpy file');
    refused(file, /not a \.npy file/);
  }, 90_000);

  it('a config whose product is too big (hidden 4096,4096, latent 512, batch 4096, IWAE 256) is refused with its estimate', () => {
    const result = cli(db, [
      'train',
      '--dataset',
      'mnist',
      '--hidden',
      '4096,4096',
      '--latent-dim',
      '512',
      '--batch-size',
      '4096',
      '--objective',
      'iwae',
      '--objective-samples',
      '256',
    ]);
    expect(result.stderr).toMatch(
      /train\.batchSize: the run would need about \d+ MiB .*over the memory budget of 2048 MiB/,
    );
    expect(result.status).toBe(2);
    expect(result.peakMb).toBeLessThan(MEMORY_BOUND_MB);
    expect(databaseHash(join(db, 'workbench.sqlite'))).toBe(before);
  }, 90_000);
});
