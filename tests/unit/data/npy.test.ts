import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../../src-main/data';
import { decodeNpy, encodeNpy, loadNpyPool } from '../../../src-main/data/npy';
import { DatasetError, type LoadOptions } from '../../../src-main/data/types';

let dir: string;
const file = (name: string) => join(dir, name);
const options = (dataset: string, o: Partial<LoadOptions> = {}): LoadOptions => ({
  dataset,
  trainSize: 8,
  testSize: 4,
  binarization: 'none',
  seed: 5,
  ...o,
});

async function errorOf(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DatasetError);
  return error as Error;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vae-npy-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('.npy reader', () => {
  it('round-trips uint8, float32 and float64 arrays with numpy-compatible headers', () => {
    const bytes = encodeNpy(
      [12, 3, 3],
      Uint8Array.from({ length: 108 }, (_, i) => i),
    );
    // numpy aligns the data to 64 bytes and ends the header with a newline.
    const headerEnd = 10 + new DataView(bytes.buffer).getUint16(8, true);
    expect(headerEnd % 64).toBe(0);
    expect(bytes[headerEnd - 1]).toBe(0x0a);
    expect(decodeNpy(bytes, 'a.npy')).toMatchObject({ dtype: 'u1', shape: [12, 3, 3] });

    const floats = Float32Array.from({ length: 12 * 16 }, (_, i) => (i % 17) / 16);
    const f4 = decodeNpy(encodeNpy([12, 16], floats), 'b.npy');
    expect(f4.shape).toEqual([12, 16]);
    expect(f4.data).toEqual(floats);
    const f8 = decodeNpy(encodeNpy([12, 4, 4, 1], Float64Array.from(floats)), 'c.npy');
    expect(Array.from(f8.data)).toEqual(Array.from(floats));
  });

  it('reads the three accepted shapes and scales bytes by 1/255', async () => {
    const values = Uint8Array.from({ length: 12 * 16 }, (_, i) => (i * 7) % 256);
    writeFileSync(file('nhw.npy'), encodeNpy([12, 4, 4], values));
    writeFileSync(file('nhw1.npy'), encodeNpy([12, 4, 4, 1], values));
    writeFileSync(file('nd.npy'), encodeNpy([12, 16], values));
    for (const name of ['nhw.npy', 'nhw1.npy', 'nd.npy']) {
      const pool = await loadNpyPool(file(name));
      expect([pool.count, pool.height, pool.width, pool.channels]).toEqual([12, 4, 4, 1]);
    }
    const data = await loadDataset(options(file('nd.npy')));
    expect(data.train.labels).toBeNull();
    expect(data.train.pixels.every((v) => Number.isInteger(Math.round(v * 255)) && v >= 0 && v <= 1)).toBe(true);
    const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
    const total = Array.from(values).reduce((s, v) => s + v, 0) / 255;
    expect(sum(data.train.pixels) + sum(data.test.pixels)).toBeCloseTo(total, 3);
    expect((await loadDataset(options(file('nhw.npy')))).hash).toBe(data.hash);
  });

  it('gives a clear error for a wrong dtype, a bad header, a bad shape or out-of-range floats', async () => {
    const bytes = encodeNpy([12, 16], new Uint8Array(12 * 16));
    const header = (text: string) => {
      const copy = bytes.slice();
      copy.set(new TextEncoder().encode(text), 10);
      return copy;
    };
    writeFileSync(file('i4.npy'), header("{'descr': '<i4'"));
    expect((await errorOf(loadNpyPool(file('i4.npy')))).message).toMatch(
      /i4\.npy: unsupported dtype '<i4'.*'\|u1'.*'<f4'.*'<f8'/,
    );

    writeFileSync(file('big.npy'), header("{'descr': '>f4'"));
    expect((await errorOf(loadNpyPool(file('big.npy')))).message).toContain("unsupported dtype '>f4'");

    writeFileSync(file('garbled.npy'), header('{"nothing": 1  '));
    expect((await errorOf(loadNpyPool(file('garbled.npy')))).message).toMatch(/garbled\.npy: bad \.npy header/);

    writeFileSync(file('notnpy.npy'), 'hello world, not numpy');
    expect((await errorOf(loadNpyPool(file('notnpy.npy')))).message).toMatch(/notnpy\.npy: not a \.npy file/);

    writeFileSync(file('short.npy'), bytes.subarray(0, bytes.length - 10));
    expect((await errorOf(loadNpyPool(file('short.npy')))).message).toMatch(
      /short\.npy: expected \d+ bytes for shape \(12, 16\) of \|u1 but the file has \d+/,
    );

    writeFileSync(file('d15.npy'), encodeNpy([12, 15], new Uint8Array(12 * 15)));
    expect((await errorOf(loadNpyPool(file('d15.npy')))).message).toMatch(
      /d15\.npy: expected images of shape .* found \(12, 15\)/,
    );

    writeFileSync(file('rgb.npy'), encodeNpy([2, 4, 4, 3], new Uint8Array(2 * 48)));
    expect((await errorOf(loadNpyPool(file('rgb.npy')))).message).toContain('found (2, 4, 4, 3)');

    const floats = new Float32Array(12 * 16).fill(0.5);
    floats[40] = 1.5;
    writeFileSync(file('range.npy'), encodeNpy([12, 16], floats));
    expect((await errorOf(loadNpyPool(file('range.npy')))).message).toMatch(
      /range\.npy: float pixel values must lie in \[0, 1\]; value 40 \(image 2\) is 1\.5/,
    );
    floats[40] = NaN;
    writeFileSync(file('nan.npy'), encodeNpy([12, 16], floats));
    expect((await errorOf(loadNpyPool(file('nan.npy')))).message).toContain('is NaN');
  });
});
