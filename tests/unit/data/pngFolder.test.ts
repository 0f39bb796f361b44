import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../../src-main/data';
import { loadPngFolderPool } from '../../../src-main/data/pngFolder';
import { DatasetError, type LoadOptions } from '../../../src-main/data/types';

let dir: string;
const options = (dataset: string, o: Partial<LoadOptions> = {}): LoadOptions => ({
  dataset,
  trainSize: 6,
  testSize: 2,
  binarization: 'none',
  seed: 3,
  ...o,
});

function folder(name: string): string {
  const path = join(dir, name);
  mkdirSync(path);
  return path;
}

/** A 6x5 grey image whose pixel p is (p * step + n) % 256. */
function grey(n: number, step = 8, width = 6, height = 5): Uint8Array {
  return Uint8Array.from({ length: width * height }, (_, p) => (p * step + n) % 256);
}

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DatasetError);
  return error as Error;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vae-png-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('PNG folder', () => {
  it('round-trips greyscale images in file-name order', async () => {
    const path = folder('grey');
    for (let n = 0; n < 8; n++)
      writeFileSync(join(path, `img${n}.png`), encode({ width: 6, height: 5, data: grey(n), channels: 1, depth: 8 }));
    writeFileSync(join(path, '.DS_Store'), 'ignored: hidden files are skipped');
    const pool = await loadPngFolderPool(path);
    expect([pool.count, pool.height, pool.width, pool.channels]).toEqual([8, 5, 6, 1]);
    expect(Array.from(pool.data.subarray(30, 60), (v) => Math.round(v * 255))).toEqual(Array.from(grey(1)));

    const data = await loadDataset(options(path));
    expect([data.train.count, data.test.count, data.height, data.width]).toEqual([6, 2, 5, 6]);
    expect((await loadDataset(options(path))).hash).toBe(data.hash);
  });

  it('converts colour, alpha and 16-bit images to grey levels in [0, 1]', async () => {
    const path = folder('colour');
    const rgb = new Uint8Array(6 * 5 * 3).fill(0);
    rgb.set([255, 0, 0], 0); // pure red: BT.601 luma 0.299
    writeFileSync(join(path, 'a.png'), encode({ width: 6, height: 5, data: rgb, channels: 3, depth: 8 }));
    const rgba = new Uint8Array(6 * 5 * 4).fill(255);
    rgba[3] = 0; // a transparent white pixel composites to black
    writeFileSync(join(path, 'b.png'), encode({ width: 6, height: 5, data: rgba, channels: 4, depth: 8 }));
    const wide = new Uint16Array(30).fill(65535);
    wide[0] = 32768;
    writeFileSync(join(path, 'c.png'), encode({ width: 6, height: 5, data: wide, channels: 1, depth: 16 }));
    const pool = await loadPngFolderPool(path);
    expect(pool.data[0]).toBeCloseTo(0.299, 3);
    expect(pool.data[1]).toBe(0);
    expect(pool.data[30]).toBe(0);
    expect(pool.data[31]).toBe(1);
    expect(pool.data[60]).toBeCloseTo(0.5, 3);
    expect(pool.data[61]).toBe(1);
    expect(pool.data.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('names a file of another size, a non-PNG file and an empty folder', async () => {
    const mixed = folder('mixed');
    writeFileSync(join(mixed, 'a.png'), encode({ width: 6, height: 5, data: grey(0), channels: 1, depth: 8 }));
    writeFileSync(join(mixed, 'b.png'), encode({ width: 5, height: 5, data: grey(0, 8, 5, 5), channels: 1, depth: 8 }));
    const size = await errorOf(loadPngFolderPool(mixed));
    expect(size.message).toContain(join(mixed, 'b.png'));
    expect(size.message).toContain('5x5 but a.png is 6x5');

    const other = folder('other');
    writeFileSync(join(other, 'a.png'), encode({ width: 6, height: 5, data: grey(0), channels: 1, depth: 8 }));
    writeFileSync(join(other, 'notes.txt'), 'not an image');
    expect((await errorOf(loadPngFolderPool(other))).message).toContain(`${join(other, 'notes.txt')}: not a PNG image`);

    expect((await errorOf(loadPngFolderPool(folder('empty')))).message).toContain('no PNG images');
    expect((await errorOf(loadDataset(options(join(dir, 'grey'), { trainSize: 7 })))).message).toMatch(
      /has 8 examples but trainSize \+ testSize asks for 7 \+ 2 = 9/,
    );
  });
});
